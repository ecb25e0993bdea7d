#!/bin/sh
# worker-cost.sh SCRIPT [N] - the worker loop's own time per test: one
# worker runs N no-op tests (runner `true`, default 300) with the worker
# script SCRIPT (e.g. ci-templates/ciq-worker.sh, or an older copy from
# git show) against a private redis-server, with the tools of CIQ_BIN
# (default: bin/). Prints microseconds per test. Alternate two scripts in
# one run to compare them (bench/RESULTS.md).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
script=$1 n=${2:-300}
# shellcheck source=bench/private-redis.sh
. "$(dirname "$0")/private-redis.sh"
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=wcost CIQ_WORKER=0
PATH=${CIQ_BIN:-$root/bin}:$PATH
seq "$n" | sed 's/^/t/' | ciq-populate --order given
a=$(date +%s%N)
sh "$script" true >/dev/null
b=$(date +%s%N)
echo "$script: $(((b - a) / n / 1000)) us per test"
