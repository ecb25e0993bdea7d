#!/bin/sh
# demo.sh - a real ciq run: a private redis-server on a unix socket, a
# sample suite of 200 tests (varied durations, 3 broken, 4 flaky), 4
# workers running the shell loop in parallel, then ciq-report.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CIQ_BIN:-$root/bin}:$PATH
dir=$(mktemp -d /tmp/ciq-demo.XXXXXX)
cleanup() {
	[ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port 0 --unixsocket "$dir/sock" --save '' --appendonly no \
	--daemonize yes --pidfile "$dir/pid" --logfile "$dir/redis.log" --dir "$dir"
i=0
until redis-cli -s "$dir/sock" ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || { echo "demo: redis-server did not start" >&2; exit 69; }
	sleep 0.05
done

export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD="demo-$$" CIQ_WORKERS=4
export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=0.05 CIQ_TIMEOUT=10
export DEMO_STATE="$dir"
seq -f 'unit/test_%03g' 1 200 >"$dir/tests.txt"

echo "== 4 workers drain 200 tests from redis at unix://$dir/sock"
for w in 0 1 2 3; do
	(
		export CIQ_WORKER=$w
		ciq-populate "$dir/tests.txt"
		rc=0
		sh "$root/ci-templates/ciq-worker.sh" sh "$root/tests/demo-runner.sh" || rc=$?
		case $rc in
		0) echo "worker $w: done" ;;
		1) echo "worker $w: done, with failed tests" ;;
		*) echo "worker $w: failed with status $rc" ;;
		esac
	) &
done
wait

echo "== ciq-report"
rc=0
ciq-report || rc=$?
echo
echo "demo: ciq-report exited $rc (1 means tests failed: the sample suite has 3 broken tests)"
[ "$rc" -eq 1 ]
