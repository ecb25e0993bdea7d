#!/bin/sh
# ciq-worker.sh COMMAND [ARG...] - one ciq worker: run "COMMAND ARG... TEST"
# for every test this worker pops, until the queue is exhausted.
#
# A passing test is acknowledged; a failing one is requeued for another
# worker when the limits allow, else recorded as failed with its output.
# Exit 0 when the queue is exhausted (the test verdict is ciq-report's),
# or the status of the ciq tool that failed, so a broken queue fails the
# job loudly. On TERM or INT the worker gives its test back at once.
set -u
[ $# -gt 0 ] || { echo "usage: ciq-worker.sh COMMAND [ARG...]" >&2; exit 64; }
out=$(mktemp "${TMPDIR:-/tmp}/ciq-out.XXXXXX")
trap 'rm -f "$out"' EXIT
trap 'ciq-release; exit 143' TERM
trap 'ciq-release; exit 130' INT
while :; do
	rc=0
	t=$(ciq-pop) || rc=$?
	[ "$rc" -eq 1 ] && break
	[ "$rc" -eq 0 ] || exit "$rc"
	if "$@" "$t" >"$out" 2>&1; then
		ciq-ack -- "$t" || exit
	else
		ciq-requeue --output "$out" -- "$t" ||
			ciq-ack --failed --output "$out" -- "$t" || exit
	fi
done
