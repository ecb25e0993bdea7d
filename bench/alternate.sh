#!/bin/sh
# alternate.sh ROUNDS BINDIR:LOOP... - script-cost.sh for each BINDIR
# with its LOOP (pair, next, loop or nK), in turn, ROUNDS times, 2,000
# tests each; prints each one's median, and the median over the rounds of
# its ratio to the first one's figure in the same round. The machine's
# speed drifts from one hour to the next: only figures measured side by
# side, alternated, compare (bench/RESULTS.md, issue 16).
#
#   sh bench/alternate.sh 15 /tmp/old/bin:pair bin:loop
set -eu
rounds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "$rounds" ]; do
	i=$((i + 1))
	j=0
	for spec do
		j=$((j + 1))
		v=$(sh "$here/script-cost.sh" "${spec%:*}" 2000 "${spec##*:}" | sed 's/.*: \([0-9.]*\) us.*/\1/')
		echo "$i $j $v" >>"$out"
	done
done
# median: the median of the numbers on stdin, one a line.
median() {
	sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
j=0
for spec do
	j=$((j + 1))
	med=$(awk -v j="$j" '$2 == j { print $3 }' "$out" | median)
	ratio=$(awk -v j="$j" '$2 == 1 { f[$1] = $3 } $2 == j { r[$1] = $3 } END { for (k in r) print r[k] / f[k] }' "$out" |
		median)
	printf '%s: median %.1f us a test; to the first, median %.3f\n' "$spec" "$med" "$ratio"
done
