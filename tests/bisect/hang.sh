#!/bin/sh
# hang.sh PIDS VICTIM CULPRIT HANG GUARD - a leaky runner (VICTIM fails
# after CULPRIT) in which HANG hangs unless GUARD ran before it: it
# starts a child that sleeps, appends the child's pid to the file PIDS
# and waits for it, so only killing the whole process group ends it.
pids=$1 victim=$2 culprit=$3 hang=$4 guard=$5
polluted=0 guarded=0
while IFS= read -r id; do
	[ "$id" != "$culprit" ] || polluted=1
	[ "$id" != "$guard" ] || guarded=1
	if [ "$id" = "$hang" ] && [ "$guarded" = 0 ]; then
		sleep 600 &
		echo "$!" >>"$pids"
		wait
	fi
	if [ "$id" = "$victim" ] && [ "$polluted" = 1 ]; then
		exit 1
	fi
done
exit 0
