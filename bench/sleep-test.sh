#!/bin/sh
# sleep-test.sh ID - the synthetic test of B4: an id "NAME@SECONDS" sleeps
# SECONDS.
exec sleep "${1##*@}"
