#!/bin/sh
# crash.sh VICTIM CULPRIT - a leaky runner whose polluted VICTIM crashes:
# the runner kills itself with SIGSEGV.
polluted=0
while IFS= read -r id; do
	[ "$id" != "$2" ] || polluted=1
	[ "$id" != "$1" ] || [ "$polluted" = 0 ] || kill -SEGV $$
done
exit 0
