#!/usr/bin/env bats
#
# Stress, scaled down for CI: 8 workers, 600 ids, 5 random SIGKILLs of
# worker jobs (each started again, as CI retries a lost agent) and one
# server restart with persistence. `make stress` runs the full size:
# 16 workers, 5000 ids, 20 kills.

load test_helper

@test "killed workers and a server restart lose nothing: every id has one result" {
	run bash "$CIQ_ROOT/tests/stress.sh" 8 600 5
	assert_success
	assert_line --regexp '^stress: 8 workers, 600 ids, 5 killed, 1 restart: 600 results, passed 600, released [0-9]+, reclaimed [0-9]+: ok$'
}
