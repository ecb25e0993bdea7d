#!/bin/sh
# script-cost.sh BINDIR [N] [LOOP] - server time per test of the worker
# loop: N tests (default 2000) taken and recorded by one worker against
# a private redis-server; prints the time the server spent (INFO
# commandstats) divided by N: the scripts' (EVALSHA), and the sum over
# every command, the scripts' and the commands they call (issue 16's
# measure). LOOP (default pair) says how the worker goes: see
# bench/cost-loop.sh.
#
# Run it for two builds' tools, alternated, to compare them side by side
# (bench/RESULTS.md).
set -eu
bin=$1 n=${2:-2000} how=${3:-pair}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/private-redis.sh
. "$here/private-redis.sh"
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=cost CIQ_WORKER=0 CIQ_HEARTBEAT=0
PATH=$bin:$PATH
seq "$n" | sed 's/^/t/' | ciq-populate --order given
redis-cli -s "$dir/sock" CONFIG RESETSTAT >/dev/null
# shellcheck source=bench/cost-loop.sh
. "$here/cost-loop.sh"
redis-cli -s "$dir/sock" INFO commandstats | tr -d '\r' | grep -v '^cmdstat_config' |
	sed -n 's/^cmdstat_\([a-z|]*\):calls=[0-9]*,usec=\([0-9]*\),.*/\1 \2/p' |
	awk -v n="$n" -v how="$how" '$1 == "evalsha" { e = $2 } { all += $2 }
		END { printf "%s: %.1f us of server time per test (every command); the scripts alone %.1f\n", how, all / n, e / n }'
