#!/usr/bin/env bats
#
# The report of a grind (ciq-populate --repeat N): per test, its runs,
# failures, failure rate and duration percentiles, in the text, the JSON
# and the JUnit file; exit 1 when a run failed, or with
# --max-test-duration when a test is too slow at --percentile.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	printf 't%s\n' 1 2 3 >"$BATS_TEST_TMPDIR/list"
}

# grind N [FAILING-RUN...]: one worker runs a grind of t1 t2 t3, N runs
# each, the list in order; the Kth test it is handed fails when K is
# named. t3 takes SLOW seconds when set.
grind() {
	local n=$1 k=0 t
	shift
	ciq-populate --order given --repeat "$n" "$BATS_TEST_TMPDIR/list"
	while t=$(ciq-pop); do
		k=$((k + 1))
		[ "$t" = t3 ] && [ -n "${SLOW:-}" ] && sleep "$SLOW"
		if [[ " $* " == *" $k "* ]]; then
			ciq-ack --failed --output - -- "$t" <<<"run $k broke"
		else
			ciq-ack -- "$t"
		fi
	done
}

@test "a grind with a failed run fails, and shows each test's runs and failure rate" {
	# Runs 2 and 5 are t2's first and second.
	grind 4 2 5
	run --separate-stderr ciq-report --no-wait
	assert_equal "$status" 1
	assert_line --index 0 "ciq: build $CIQ_BUILD: a grind of 3 tests, 4 runs each: 12 runs, 12 with a result, 1 workers"
	assert_line "Grind (3 tests, 4 runs each): 1 test failed in 2 of 12 runs"
	assert_line "    runs failed    rate        p50        p90        max  test"
	# Failing tests first; the durations are the server's.
	[[ ${lines[5]} =~ ^\ +4\ +2\ +50\.0%\ +[0-9]+\.[0-9]{3}\ s\ +[0-9.]+\ s\ +[0-9.]+\ s\ \ t2$ ]]
	[[ ${lines[6]} =~ ^\ +4\ +0\ +0\.0%\ .*\ \ t1$ ]]
	[[ ${lines[7]} =~ ^\ +4\ +0\ +0\.0%\ .*\ \ t3$ ]]
	assert_line "Failed runs (2):"
	assert_line --regexp '^  FAIL t2  \[run 1, worker 0, [0-9.]+ s, 1 attempt\]$'
	assert_line --regexp '^  FAIL t2  \[run 2, worker 0, [0-9.]+ s, 1 attempt\]$'
	assert_line "    | run 2 broke"
	refute_line --partial "Slowest tests"
	assert_equal "${lines[-1]}" "FAILED: 1 of 3 tests failed in 2 of 12 runs"
}

@test "a grind where every run passed is green, and says so" {
	grind 3
	run ciq-report --no-wait
	assert_success
	assert_line "Grind (3 tests, 3 runs each): 0 tests failed in 0 of 9 runs"
	assert_equal "${lines[-1]}" "PASSED: 3 tests, 3 runs each, no run failed"
}

@test "--max-test-duration fails the tests too slow at --percentile" {
	SLOW=0.6 grind 2
	run ciq-report --no-wait --max-test-duration 0.5 --percentile 90
	assert_equal "$status" 1
	assert_line "Grind (3 tests, 2 runs each): 0 tests failed in 0 of 6 runs; 1 over --max-test-duration 0.5 s at p90"
	assert_line --regexp '^ +2 +0 +0\.0% .*  t3  \[SLOW: 0\.[6-9][0-9]{2} s at p90\]$'
	assert_equal "${lines[-1]}" "FAILED: 1 of 3 tests over --max-test-duration 0.5 s at p90"
	# Within the limit: green, and the line says so.
	run ciq-report --no-wait --max-test-duration 30
	assert_success
	assert_equal "${lines[-1]}" "PASSED: 3 tests, 2 runs each, no run failed, none over --max-test-duration 30 s at p50"
}

@test "the JSON carries each test's figures, and the runs of failures" {
	SLOW=0.3 grind 2 1
	run --separate-stderr ciq-report --no-wait --json --max-test-duration 0.2 --percentile 100
	assert_equal "$status" 1
	assert_equal "$(jq -c '.grind | [.repeat, .runs, .failed_runs, .failing_tests, .slow_tests, .max_test_duration_ms, .percentile]' <<<"$output")" '[2,6,1,1,1,200,100]'
	assert_equal "$(jq -c '[.grind.tests[] | [.id, .runs, .failures, .failure_rate, .slow]]' <<<"$output")" '[["t1",2,1,0.5,false],["t2",2,0,0,false],["t3",2,0,0,true]]'
	assert_equal "$(jq -c '[.grind.tests[2] | .max_ms >= .p90_ms, .p90_ms >= .p50_ms, .p50_ms >= 300]' <<<"$output")" '[true,true,true]'
	assert_equal "$(jq -c '[.failures[] | [.id, .run]]' <<<"$output")" '[["t1",1]]'
	assert_equal "$(jq -c '[.tests[] | [.id, .run]]' <<<"$output" | tr -d '\n')" '[["t1",1],["t1",2],["t2",1],["t2",2],["t3",1],["t3",2]]'
	assert_equal "$(jq -c '[.verdict, .exit_status]' <<<"$output")" '["failed",1]'
}

@test "the JUnit file carries the figures as properties and a failed case per slow test" {
	SLOW=0.3 grind 2 4
	run ciq-report --no-wait --max-test-duration 0.2 --junit "$BATS_TEST_TMPDIR/j.xml"
	assert_equal "$status" 1
	local j=$BATS_TEST_TMPDIR/j.xml
	grep -q '<property name="ciq.grind.repeat" value="2"/>' "$j"
	grep -q '<property name="ciq.grind.runs:t1" value="2"/>' "$j"
	grep -q '<property name="ciq.grind.failures:t1" value="1"/>' "$j"
	grep -q '<property name="ciq.grind.failure_rate:t1" value="0.5000"/>' "$j"
	grep -q '<property name="ciq.grind.failures:t3" value="0"/>' "$j"
	grep -Eq '<failure type="ciq.slow" message="0\.[3-9][0-9]{2} s, over --max-test-duration 0.2 s at p50"/>' "$j"
	# 6 runs and the slow case; 1 failed run and the slow case.
	grep -q '<testsuite name="ciq" tests="7" failures="2" errors="0" skipped="0"' "$j"
	xmllint --noout --schema "$BATS_TEST_DIRNAME/junit/junit-10.xsd" "$j"
}

@test "a grind not yet done is unfinished, never green" {
	ciq-populate --repeat 2 "$BATS_TEST_TMPDIR/list"
	t=$(ciq-pop)
	ciq-ack -- "$t"
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "${lines[-1]}" "UNFINISHED: 5 tests not run yet"
}

@test "--percentile and --max-test-duration take numbers in range" {
	for bad in 0 -1 100.001 x 1e2 ""; do
		run --separate-stderr ciq-report --no-wait --percentile "$bad"
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --percentile '$bad': expected a number above 0, at most 100, with at most 3 decimals"
	done
	run --separate-stderr ciq-report --no-wait --max-test-duration 0
	assert_equal "$status" "$CIQ_EX_USAGE"
}

@test "--max-test-duration on a build that is no grind warns and changes nothing" {
	ciq-populate "$BATS_TEST_TMPDIR/list"
	work 0
	run --separate-stderr ciq-report --no-wait --max-test-duration 0.001
	assert_success
	assert_equal "$stderr" "ciq-report: warning: --max-test-duration is for a grind (ciq-populate --repeat): build '$CIQ_BUILD' is not one"
	assert_equal "${lines[-1]}" "PASSED: 3 tests, 3 passed, 0 skipped"
}

@test "quarantined runs of a grind do not fail it" {
	grind 2 2
	printf 't2\n' >"$BATS_TEST_TMPDIR/known"
	run ciq-report --no-wait --known-flaky "$BATS_TEST_TMPDIR/known"
	assert_success
	assert_equal "${lines[-1]}" "PASSED: 3 tests, 2 runs each, no run failed; 1 quarantined failure not counted"
}
