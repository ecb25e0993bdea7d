#!/bin/sh
# script-cost.sh BINDIR [N] - server time per test of the worker loop:
# N tests (default 2000) popped and acked one at a time by one worker,
# against a private redis-server; prints the EVALSHA time the server
# spent (INFO commandstats) divided by N. Run it for two builds' tools,
# alternated, to compare them side by side (bench/RESULTS.md).
set -eu
bin=$1 n=${2:-2000}
dir=$(mktemp -d /tmp/ciq-cost.XXXXXX)
trap 'kill "$(cat "$dir/pid")" 2>/dev/null; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/sock" --daemonize yes --pidfile "$dir/pid" \
	--save '' --appendonly no --logfile "$dir/log" >/dev/null
i=0
until redis-cli -s "$dir/sock" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "redis-server did not start" >&2; exit 1; }
	sleep 0.05
done
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=cost CIQ_WORKER=0 CIQ_HEARTBEAT=0
PATH=$bin:$PATH
seq "$n" | sed 's/^/t/' | ciq-populate --order given
redis-cli -s "$dir/sock" CONFIG RESETSTAT >/dev/null
while t=$(ciq-pop); do ciq-ack -- "$t"; done
redis-cli -s "$dir/sock" INFO commandstats | tr -d '\r' |
	sed -n 's/^cmdstat_evalsha:calls=[0-9]*,usec=\([0-9]*\),.*/\1/p' |
	awk -v n="$n" '{ printf "%.1f us of server time per test (pop + ack)\n", $1 / n }'
