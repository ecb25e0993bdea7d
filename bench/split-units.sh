#!/bin/sh
# split-units.sh UNIT - the --split-command of B8: a unit "NAME@SECONDS"
# prints its BENCH_SPLIT_PARTS (default 40) parts "NAME[K]@S", K from 1,
# S = SECONDS / parts: each part an id that bench/sleep-test.sh sleeps.
set -eu
n=${BENCH_SPLIT_PARTS:-40}
exec awk -v name="${1%@*}" -v secs="${1##*@}" -v n="$n" \
	'BEGIN { for (k = 1; k <= n; k++) printf "%s[%d]@%.3f\n", name, k, secs / n }'
