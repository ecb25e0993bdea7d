#!/bin/sh
# run.sh [B1 ... B10] [--markdown FILE] - run the ciq benchmarks (all of them
# when none is named) against the binaries in bin/ and print one table.
# `make bench` builds, then runs them all. See bench/RESULTS.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$here/bench.py" "$@"
