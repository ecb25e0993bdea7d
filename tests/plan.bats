#!/usr/bin/env bats
#
# ciq-populate --dry-run: the list in the order the leader would publish
# it, each id's expected duration from the namespace's history, the
# makespan for --workers, and the fewest workers that meet --target-time.
# Nothing is written to the server.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	export CIQ_NAMESPACE=plan
	printf '%s\n' a b c d e f >"$BATS_TEST_TMPDIR/list"
	# History: a 10 s, b 4 s, c and d 3 s; e and f are new.
	rcli HSET 'ciq:timing:{plan}' a 10000 b 4000 c 3000 d 3000 >/dev/null
}

@test "--dry-run prints the published order with expected durations, and writes nothing" {
	run --separate-stderr ciq-populate --dry-run --workers 2 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
	# --order timing: the new ones first (seeded), then the longest first.
	assert_output --regexp '^     3\.000 s\?  [ef]
     3\.000 s\?  [ef]
    10\.000 s   a
     4\.000 s   b
     3\.000 s   c
     3\.000 s   d

build b[0-9]+: 6 tests, 4 with history; the others \(\?\) count for 3\.000 s \(the median\)
expected: 13\.000 s with 2 workers \(all tests 26\.000 s, the longest 10\.000 s\)$'
	assert_equal "$(rcli DBSIZE)" 1
	assert_equal "$(rcli KEYS "$(key '*')")" ""
}

@test "--target-time: the fewest workers that meet it, or none when one test is longer" {
	run ciq-populate --dry-run --order given --target-time 12 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_line "expected: 26.000 s with 1 worker (all tests 26.000 s, the longest 10.000 s)"
	assert_line "--target-time 12.000 s: 3 workers (expected 10.000 s)"
	run ciq-populate --dry-run --target-time 9.5 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_line "--target-time 9.500 s: no number of workers meets it: the longest test alone takes 10.000 s"
}

@test "--dry-run --json: a number a pipeline can feed to its parallelism" {
	run --separate-stderr ciq-populate --dry-run --json --order given --workers 3 --target-time 13 \
		--default-duration 1 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(jq -c '[.tests, .with_history, .default_ms, .default_from, .workers, .makespan_ms, .total_ms, .longest_ms, .target_ms, .workers_for_target]' <<<"$output")" \
		'[6,4,1000,"--default-duration",3,10000,22000,10000,13000,2]'
	assert_equal "$(jq -c '[.order[] | [.id, .expected_ms, .history]]' <<<"$output")" \
		'[["a",10000,true],["b",4000,true],["c",3000,true],["d",3000,true],["e",1000,false],["f",1000,false]]'
	run ciq-populate --dry-run --json "$BATS_TEST_TMPDIR/list"
	assert_equal "$(jq -c '[.target_ms, .workers_for_target, .makespan_for_target_ms]' <<<"$output")" '[null,null,null]'
}

@test "--dry-run without history counts every test for 0 and says so" {
	rcli DEL 'ciq:timing:{plan}' >/dev/null
	run ciq-populate --dry-run --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_line --regexp '^build b[0-9]+: 6 tests, 0 with history; the others \(\?\) count for 0\.000 s \(no history\)$'
}

@test "--dry-run needs no worker; its options need --dry-run; bad values are refused" {
	CIQ_WORKER='' run ciq-populate --dry-run "$BATS_TEST_TMPDIR/list"
	assert_success
	for opt in --json "--target-time 5" "--default-duration 1"; do
		# shellcheck disable=SC2086
		run --separate-stderr ciq-populate $opt "$BATS_TEST_TMPDIR/list"
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr%%$'\n'*}" "ciq-populate: --json, --target-time and --default-duration go with --dry-run"
	done
	run --separate-stderr ciq-populate --dry-run --target-time 0 "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-populate: invalid --target-time '0': expected seconds above 0"
	run --separate-stderr ciq-populate --dry-run --default-duration -1 "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-populate: invalid --default-duration '-1': expected seconds"
	assert_equal "$(rcli KEYS "$(key '*')")" ""
}
