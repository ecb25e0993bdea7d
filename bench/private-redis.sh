# private-redis.sh - sourced by the bench shell scripts: a private
# redis-server on the unix socket $dir/sock, in a new directory $dir,
# stopped by its pidfile and removed when the script exits. REDIS_UNDER,
# when set, is a command (and its options) to run the server under
# (script-instr.sh: valgrind).
dir=$(mktemp -d /tmp/ciq-bench.XXXXXX)
trap 'kill "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null; wait; rm -rf "$dir"' EXIT
# (Run in $dir, where a tool it runs under may write its files.)
# shellcheck disable=SC2086 # a command and its options
(cd "$dir" && exec ${REDIS_UNDER:-} redis-server --port 0 --unixsocket "$dir/sock" \
	--pidfile "$dir/pid" --save '' --appendonly no --logfile "$dir/log" >/dev/null 2>"$dir/stderr") &
i=0
until redis-cli -s "$dir/sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 400 ] || { echo "redis-server did not start" >&2; cat "$dir/stderr" >&2; exit 1; }
	sleep 0.05
done
