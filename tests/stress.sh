#!/bin/bash
# stress.sh WORKERS IDS KILLS - many workers, random SIGKILLs, one server
# restart with persistence; then checks that every id has exactly one
# result and the report is green and exhaustive.
#
# Runs against its own redis-server in a temp dir. Prints one summary line
# and exits 0 when everything holds. `make stress` runs 16 5000 20;
# tests/stress.bats a scaled-down run.
set -u
workers=${1:-16} ids=${2:-5000} kills=${3:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CIQ_BIN:-$root/bin}:$PATH
dir=$(mktemp -d /tmp/ciqs.XXXXXX)
# A worker killed with SIGKILL leaves its temporary files: in dir, which
# goes at the end.
export TMPDIR="$dir"

server() {
	redis-server --port 0 --unixsocket "$dir/sock" --unixsocketperm 700 \
		--save '' --appendonly yes --appendfsync everysec --daemonize yes \
		--pidfile "$dir/pid" --logfile "$dir/log" --dir "$dir"
	for _ in $(seq 200); do
		redis-cli -s "$dir/sock" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "stress: redis-server did not start" >&2
	exit 1
}

cleanup() {
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$dir"
}
trap cleanup EXIT

# Results recorded, the results hash's marker (lua/prelude.lua) not counted.
results() {
	local n
	n=$(redis-cli -s "$dir/sock" HLEN "ciq:{stress}:results" 2>/dev/null) || n=1
	echo $((n > 0 ? n - 1 : 0))
}

server
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=stress CIQ_TIMEOUT=3 CIQ_HEARTBEAT=1
seq -f 'stress/test_%05g' 1 "$ids" >"$dir/list"
cat >"$dir/run" <<'SH'
#!/bin/sh
sleep "0.0$(( $(od -An -N1 -tu1 /dev/urandom) % 10 ))"
SH
chmod +x "$dir/run"

# worker W: one CI job of worker W (a killed job is started again, as a
# CI system retries a lost agent).
declare -A pid
start() {
	CIQ_WORKER=$1 sh -c 'ciq-populate "$1" && exec sh "$2" "$3"' sh \
		"$dir/list" "$root/ci-templates/ciq-worker.sh" "$dir/run" \
		>>"$dir/worker.$1.log" 2>&1 &
	pid[$1]=$!
}
for w in $(seq 0 $((workers - 1))); do start "$w"; done

restarted=0 killed=0 deadline=$((SECONDS + 60 + ids / 50))
while :; do
	done_=$(results)
	[ "$done_" -ge "$ids" ] && break
	if [ "$SECONDS" -ge "$deadline" ]; then
		# Stuck: say where, for the log, and fail.
		echo "stress: stuck at $done_ of $ids results" >&2
		for k in queue running; do
			echo "stress: $k: $(redis-cli -s "$dir/sock" TYPE "ciq:{stress}:$k")" \
				"$(redis-cli -s "$dir/sock" LLEN "ciq:{stress}:$k" 2>/dev/null)" \
				"$(redis-cli -s "$dir/sock" ZRANGE "ciq:{stress}:$k" 0 -1 WITHSCORES 2>/dev/null | tr '\n' ' ')" >&2
		done
		redis-cli -s "$dir/sock" ZRANGE "ciq:{stress}:workers" 0 -1 WITHSCORES | tr '\n' ' ' >&2
		echo >&2
		# Each test still held: its owner, and what the workers said of it.
		for t in $(redis-cli -s "$dir/sock" ZRANGE "ciq:{stress}:running" -inf '(inf' BYSCORE); do
			echo "stress: $t: owner '$(redis-cli -s "$dir/sock" HGET "ciq:{stress}:owner" "$t")'," \
				"reclaims '$(redis-cli -s "$dir/sock" HGET "ciq:{stress}:reclaims" "$t")'" >&2
			grep -H -F "$t" "$dir"/worker.*.log >&2
		done
		ps -eo pid,ppid,args | grep -F "$dir" | grep -v grep >&2
		tail -n 3 "$dir"/worker.*.log >&2
		exit 1
	fi
	# The k-th kill comes once k/(kills+1) of the results are in, so every
	# kill happens, whatever the speed of the machine; the victim is random.
	if [ "$killed" -lt "$kills" ] && [ "$done_" -ge $(((killed + 1) * ids / (kills + 1))) ]; then
		w=$((RANDOM % workers))
		if kill -9 "${pid[$w]}" 2>/dev/null; then
			killed=$((killed + 1))
			start "$w"
		fi
	fi
	if [ "$restarted" -eq 0 ] && [ "$done_" -ge $((ids / 2)) ]; then
		redis-cli -s "$dir/sock" SHUTDOWN >/dev/null 2>&1
		while kill -0 "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null; do sleep 0.05; done
		server
		restarted=1
	fi
	sleep 0.1
done
for w in $(seq 0 $((workers - 1))); do wait "${pid[$w]}" 2>/dev/null; done

fail=0
r=$(results)
[ "$r" -eq "$ids" ] || { echo "stress: $r results for $ids ids" >&2; fail=1; }
ciq-report >"$dir/report" 2>&1 || { echo "stress: report exited $?" >&2; tail -5 "$dir/report" >&2; fail=1; }
grep -q "^PASSED: $ids tests, $ids passed, 0 skipped\$" "$dir/report" || fail=1
# Each result counted once, for the worker that recorded it.
passed=$(ciq-report --json | jq '[.workers[].passed] | add')
[ "$passed" -eq "$ids" ] || { echo "stress: the workers' passes add up to $passed for $ids ids" >&2; fail=1; }
reclaimed=$(redis-cli -s "$dir/sock" HGET "ciq:{stress}:stats" reclaimed)
released=$(redis-cli -s "$dir/sock" HGET "ciq:{stress}:stats" released)
echo "stress: $workers workers, $ids ids, $killed killed, $restarted restart: $r results, passed $passed, released ${released:-0}, reclaimed ${reclaimed:-0}: $([ "$fail" -eq 0 ] && echo ok || echo FAILED)"
exit "$fail"
