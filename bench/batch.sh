#!/bin/sh
# batch.sh COUNT - one worker that reserves COUNT tests at a time with
# "ciq-pop -n COUNT" and records the whole batch as passed with one
# ciq-ack, until the queue is exhausted. No test runs: B2 measures the
# queue's own throughput.
set -u
n=${1:-100}
nl='
'
while :; do
	rc=0
	batch=$(ciq-pop -n "$n") || rc=$?
	[ "$rc" -eq 1 ] && break
	[ "$rc" -eq 0 ] || exit "$rc"
	# One id per line; ids hold no newline, and no globbing.
	set -f
	IFS=$nl
	# shellcheck disable=SC2086
	ciq-ack -- $batch || exit
	unset IFS
	set +f
done
exit 0
