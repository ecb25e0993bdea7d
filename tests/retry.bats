#!/usr/bin/env bats
#
# Retry mode: a retried CI job re-runs the failures of its earlier attempt
# once the build is drained, and the report turns green when they pass.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() {
	ciq_setup
	export FLAGS=$BATS_TEST_TMPDIR
	printf '%s\n' t1 t2 t3 t4 t5 t6 >"$BATS_TEST_TMPDIR/list"
	# t2 fails until its flag exists; t5 fails on worker 1's first run only.
	cat >"$BATS_TEST_TMPDIR/run" <<'SH'
#!/bin/sh
case $1 in
t2) [ -e "$FLAGS/t2.fixed" ] || { echo "t2 broken"; exit 1; } ;;
t5) [ -e "$FLAGS/t5.once" ] || { : >"$FLAGS/t5.once"; echo "t5 flaky"; exit 1; } ;;
esac
echo "$1 ok"
SH
	chmod +x "$BATS_TEST_TMPDIR/run"
}

# attempt WORKER [ENV=VALUE...]: one CI job of one worker, start to end.
attempt() {
	local w=$1
	shift
	env "$@" CIQ_WORKER="$w" sh -c 'ciq-populate "$1" && sh "$2" "$3"' sh \
		"$BATS_TEST_TMPDIR/list" "$CIQ_ROOT/ci-templates/ciq-worker.sh" "$BATS_TEST_TMPDIR/run"
}

# A first attempt where worker 0 runs t1..t3 and worker 1 runs t4..t6.
first_attempt() {
	ciq-populate --order given --worker 0 "$BATS_TEST_TMPDIR/list"
	ciq-populate --worker 1 "$BATS_TEST_TMPDIR/list"
	for w in 0 0 0 1 1 1; do
		t=$(ciq-pop --worker "$w")
		if "$BATS_TEST_TMPDIR/run" "$t" >"$BATS_TEST_TMPDIR/out" 2>&1; then
			ciq-ack --worker "$w" -- "$t"
		else
			ciq-ack --worker "$w" --failed --output "$BATS_TEST_TMPDIR/out" -- "$t"
		fi
	done
	run ciq-report
	assert_equal "$status" 1
	assert_line "FAILED: 2 of 6 tests failed"
}

@test "a retried worker runs its own failures again and the report turns green" {
	first_attempt
	: >"$FLAGS/t2.fixed"
	run --separate-stderr attempt 0 CIQ_RETRY=true
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 1 failed tests again
ciq-loop: 't2' both passed and failed: recorded as flaky"
	assert_equal "$(result t2 | cut -c1)" p
	assert_equal "$(result t5 | cut -c1)" f
	run ciq-report
	assert_equal "$status" 1
	assert_line "FAILED: 1 of 6 tests failed"
	run --separate-stderr attempt 1 CIQ_RETRY=true
	assert_success
	run ciq-report
	assert_success
	assert_line "PASSED: 6 tests, 6 passed, 0 skipped"
	assert_line "  FLAKY t2  [passed on worker 0 in another attempt]"
	assert_line "  FLAKY t5  [passed on worker 1 in another attempt]"
}

@test "a retried test that fails again stays failed, with its latest output" {
	first_attempt
	run attempt 0 CIQ_RETRY=true
	assert_equal "$status" 1
	assert_equal "$(rcli HGET "$(key output)" t2)" "t2 broken"
	run ciq-report
	assert_equal "$status" 1
	assert_line --regexp '^  FAIL t2  \[worker 0, [0-9]+\.[0-9]{3} s, 1 attempt\]$'
}

@test "a retried worker that ran nothing before takes every failure of the build" {
	first_attempt
	: >"$FLAGS/t2.fixed"
	run --separate-stderr attempt 7 CIQ_RETRY=true
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '7' runs 2 failed tests again
ciq-loop: 't2' both passed and failed: recorded as flaky
ciq-loop: 't5' both passed and failed: recorded as flaky"
	run ciq-report
	assert_success
}

@test "running the retried populate twice lists each failure once" {
	first_attempt
	ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list" 2>/dev/null
	run --separate-stderr ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 1 failed tests again"
	run ciq-pop --worker 0
	assert_success
	assert_output t2
	ciq-ack --worker 0 --failed -- t2
	run ciq-pop --worker 0
	assert_equal "$status" 1
	assert_output ""
}

@test "a passing worker's retry has nothing to do" {
	first_attempt
	rcli HSET "$(key results)" t2 "p 1 0" >/dev/null
	run --separate-stderr ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 0 failed tests again"
	run ciq-pop --worker 0
	assert_equal "$status" 1
}

@test "the report waits for a retried worker's list" {
	first_attempt
	: >"$FLAGS/t2.fixed"
	ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list" 2>/dev/null
	ciq-populate --retry true --worker 1 "$BATS_TEST_TMPDIR/list" 2>/dev/null
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	ciq-report >"$BATS_TEST_TMPDIR/report" 2>&1 &
	local pid=$!
	CIQ_WORKER=0 sh "$CIQ_ROOT/ci-templates/ciq-worker.sh" "$BATS_TEST_TMPDIR/run"
	CIQ_WORKER=1 sh "$CIQ_ROOT/ci-templates/ciq-worker.sh" "$BATS_TEST_TMPDIR/run"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	run tail -n 1 "$BATS_TEST_TMPDIR/report"
	assert_output "PASSED: 6 tests, 6 passed, 0 skipped"
}

@test "a retry while the build still runs joins it as a worker" {
	ciq-populate --order given --worker 0 "$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate --retry true --worker 1 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
	run ciq-pop --worker 1
	assert_success
	assert_output t1
}

@test "two jobs retried at once: the second gets its list while the first runs its own" {
	first_attempt
	# Worker 0's retry takes its list and is running t2 ...
	ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list" 2>/dev/null
	assert_equal "$(ciq-pop --retry true --worker 0)" t2
	# ... when worker 1's retry starts: the build is drained, what runs is
	# a retry, so worker 1 gets its own list too (it used to join as a
	# plain worker and find nothing, leaving t5 failed).
	run --separate-stderr ciq-populate --retry true --worker 1 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '1' runs 1 failed tests again"
	run ciq-pop --retry true --worker 1
	assert_success
	assert_output t5
}

@test "a build whose keys are gone cannot be retried, and says so" {
	first_attempt
	rcli FLUSHALL >/dev/null
	run --separate-stderr ciq-populate --retry true --worker 0 "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" "ciq-populate: build '$CIQ_BUILD' cannot be retried: its keys are gone (it is older than its --ttl, or it never ran)"
}

@test "the provider's retry counter turns retry mode on" {
	first_attempt
	: >"$FLAGS/t2.fixed"
	run --separate-stderr attempt 0 BUILDKITE=true BUILDKITE_RETRY_COUNT=1 BUILDKITE_PARALLEL_JOB=0
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 1 failed tests again
ciq-loop: 't2' both passed and failed: recorded as flaky"
}

@test "--retry false overrides the provider" {
	first_attempt
	run --separate-stderr attempt 0 BUILDKITE=true BUILDKITE_RETRY_COUNT=1 CIQ_RETRY=false
	assert_success
	assert_equal "$stderr" ""
	run ciq-pop --worker 0
	assert_equal "$status" 1
}
