#!/bin/sh
# demo.sh - a real ciq run, as a user runs one: ciq-run starts a private
# redis-server, publishes a sample suite of 200 tests (varied durations,
# 3 broken, 4 flaky), runs 4 worker loops and prints the report.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
PATH=${CIQ_BIN:-$root/bin}:$PATH
state=$(mktemp -d /tmp/ciq-demo.XXXXXX)
trap 'rm -rf "$state"' EXIT

# A flaky test gets one more try on another loop.
export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=0.05 CIQ_TIMEOUT=10
export DEMO_STATE="$state"
seq -f 'unit/test_%03g' 1 200 >"$state/tests.txt"

echo "== ciq-run -j 4 tests.txt -- sh tests/demo-runner.sh"
rc=0
# --local: a private server even on a CI machine or with a CIQ_QUEUE set.
ciq-run --local -j 4 "$state/tests.txt" -- sh "$root/tests/demo-runner.sh" || rc=$?
echo
echo "demo: ciq-run exited $rc (1 means tests failed: the sample suite has 3 broken tests)"
[ "$rc" -eq 1 ]
