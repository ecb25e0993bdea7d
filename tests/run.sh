#!/bin/sh
# run.sh BINDIR... - run every tests/*.bats once per binary directory (the
# plain build, then the sanitized one) and print "N passed, N failed".
#
# Sanitizer reports are written to files and counted too, so a report in
# a test that expected a failing exit status is still caught.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
passed=0 failed=0
san=$(mktemp -d /tmp/ciq-san.XXXXXX)
for bin in "$@"; do
	dir=$root/$bin
	echo "# tests with $bin/"
	export ASAN_OPTIONS="log_path=$san/asan:exitcode=99:detect_leaks=1"
	export UBSAN_OPTIONS="log_path=$san/ubsan:exitcode=99:print_stacktrace=1:halt_on_error=1"
	# The unit tests of the same build (bin -> build/unit, bin-san ->
	# build-san/unit; make unit): one test more, passed or failed.
	if "$root/build${bin#bin}/unit"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
	out=$(mktemp)
	CIQ_BIN=$dir bats --tap "$here"/*.bats >"$out" 2>&1
	cat "$out"
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	# bats itself failing (syntax, missing library) must not look green.
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p))
	failed=$((failed + f))
	rm -f "$out"
done
reports=$(find "$san" -type f | wc -l)
if [ "$reports" -gt 0 ]; then
	echo "# sanitizer reports:"
	cat "$san"/*
	failed=$((failed + reports))
fi
rm -rf "$san"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
