#!/bin/sh
# loop.sh MAX COMMAND [ARG...] - the worker loop of ci-templates/ciq-worker.sh,
# for the benchmarks: "COMMAND ARG... TEST" for each test popped, at most MAX
# times.
#
# The tools are named by $POP, $ACK and $REQUEUE (default: ciq-pop,
# ciq-ack, ciq-requeue), so that the same loop can run with /bin/true in
# place of each tool: that is the floor B1 compares against, the cost of
# spawning the processes alone. MAX bounds that run, which never sees the
# end of a queue; a real run ends when ciq-pop exits 1, and pays for the
# same counter.
set -u
[ $# -gt 1 ] || { echo "usage: loop.sh MAX COMMAND [ARG...]" >&2; exit 64; }
max=$1
shift
POP=${POP:-ciq-pop} ACK=${ACK:-ciq-ack} REQUEUE=${REQUEUE:-ciq-requeue}
out=$(mktemp "${TMPDIR:-/tmp}/ciq-out.XXXXXX")
trap 'rm -f "$out"' EXIT
failed=0 i=0
while [ "$i" -lt "$max" ]; do
	i=$((i + 1))
	rc=0
	t=$($POP) || rc=$?
	[ "$rc" -eq 1 ] && break
	[ "$rc" -eq 0 ] || exit "$rc"
	if "$@" "$t" >"$out" 2>&1; then
		$ACK -- "$t" || exit
	else
		if ! $REQUEUE --output "$out" -- "$t"; then
			$ACK --failed --output "$out" -- "$t" || exit
			failed=1
		fi
	fi
done
exit "$failed"
