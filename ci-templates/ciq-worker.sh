#!/bin/sh
# ciq-worker.sh COMMAND [ARG...] - one ciq worker: run "COMMAND ARG... TEST"
# for every test this worker pops, until the queue is exhausted.
#
# A passing test is acknowledged; a failing one is requeued for another
# worker when the limits allow, else recorded as failed with its output.
# Once the queue is exhausted: exit 0, or 1 when this worker recorded a
# failed test, so that a CI "re-run failed jobs" re-runs just the workers
# with failures (their retry re-runs those tests). The build's verdict is
# still ciq-report's. A ciq tool that fails ends the loop with its own
# status, so a broken queue fails the job loudly. On TERM or INT the
# worker gives its test back at once.
set -u
[ $# -gt 0 ] || { echo "usage: ciq-worker.sh COMMAND [ARG...]" >&2; exit 64; }
out=$(mktemp "${TMPDIR:-/tmp}/ciq-out.XXXXXX")
trap 'rm -f "$out"' EXIT
trap 'ciq-release; exit 143' TERM
trap 'ciq-release; exit 130' INT
failed=0
while :; do
	rc=0
	t=$(ciq-pop) || rc=$?
	[ "$rc" -eq 1 ] && break
	[ "$rc" -eq 0 ] || exit "$rc"
	if "$@" "$t" >"$out" 2>&1; then
		ciq-ack -- "$t" || exit
	else
		if ! ciq-requeue --output "$out" -- "$t"; then
			ciq-ack --failed --output "$out" -- "$t" || exit
			failed=1
		fi
	fi
done
exit "$failed"
