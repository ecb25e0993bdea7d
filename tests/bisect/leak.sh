#!/bin/sh
# leak.sh VICTIM CULPRIT... - a test runner whose suite leaks state.
#
# It reads test ids on stdin, one a line, and "runs" each in this one
# process, in that order: VICTIM fails when every CULPRIT ran before it
# in the same run (one culprit, or several that only leak together).
# Each id it ran is appended to $RECORD when that is set, as it read it.
# Plain sh, no process per id. Exits 1 when a test failed.
victim=$1
shift
got=0 rc=0
while IFS= read -r id; do
	[ -z "${RECORD:-}" ] || printf '%s\n' "$id" >>"$RECORD"
	for c in "$@"; do
		[ "$id" != "$c" ] || got=$((got + 1))
	done
	if [ "$id" = "$victim" ] && [ "$got" -ge $# ]; then
		echo "FAIL $id: polluted"
		rc=1
	else
		echo "ok $id"
	fi
done
exit "$rc"
