# private-redis.sh - sourced by the bench shell scripts: a private
# redis-server on the unix socket $dir/sock, in a new directory $dir,
# stopped by its pidfile and removed when the script exits.
dir=$(mktemp -d /tmp/ciq-bench.XXXXXX)
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/sock" --daemonize yes --pidfile "$dir/pid" \
	--save '' --appendonly no --logfile "$dir/log" >/dev/null
i=0
until redis-cli -s "$dir/sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "redis-server did not start" >&2; exit 1; }
	sleep 0.05
done
