#!/bin/sh
# script-instr.sh BINDIR [N] [LOOP] - the server's instructions per test
# of the worker loop: script-cost.sh's loop (LOOP: pair, next, loop or
# nK; N tests, default 1000), with the private redis-server run under
# valgrind's callgrind, which counts the instructions it executes while
# the loop runs (the scripts loaded first, by one test outside the
# count). Unlike time, the count does not move with the machine's load:
# run it for two builds' tools to see what a change to the scripts buys
# before timing it. Needs valgrind. See bench/RESULTS.md.
set -eu
bin=$1 n=${2:-1000} how=${3:-loop}
here=$(cd "$(dirname "$0")" && pwd)
REDIS_UNDER="valgrind --tool=callgrind --instr-atstart=no"
# shellcheck source=bench/private-redis.sh
. "$here/private-redis.sh"
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=instr CIQ_WORKER=0 CIQ_HEARTBEAT=0
PATH=$bin:$PATH
seq "$((n + 1))" | sed 's/^/t/' | ciq-populate --order given
t=$(ciq-pop) && ciq-ack -- "$t"
callgrind_control -i on "$(cat "$dir/pid")" >/dev/null 2>&1
# shellcheck source=bench/cost-loop.sh
. "$here/cost-loop.sh"
# The dump, callgrind.out.PID.1 in $dir, once it is whole.
callgrind_control -d "$(cat "$dir/pid")" >/dev/null 2>&1
i=0
until grep -q '^totals:' "$dir"/callgrind.out.*.1 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || { echo "script-instr.sh: no dump from callgrind" >&2; exit 1; }
	sleep 0.05
done
awk -v n="$n" -v how="$how" '/^totals:/ { s += $2 }
	END { printf "%s: %.0f server instructions per test\n", how, s / n }' "$dir"/callgrind.out.*.1
