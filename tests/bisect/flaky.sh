#!/bin/sh
# flaky.sh COUNTER VICTIM RUN... - a runner whose VICTIM fails on the
# given runs only (counted from 1 in the file COUNTER), whatever ran
# before it: a failure that looks like a leak but is chance.
counter=$1 victim=$2
shift 2
n=0
[ ! -f "$counter" ] || read -r n <"$counter"
n=$((n + 1))
echo "$n" >"$counter"
rc=0
while IFS= read -r id; do
	for r in "$@"; do
		[ "$id" != "$victim" ] || [ "$r" != "$n" ] || rc=1
	done
done
exit "$rc"
