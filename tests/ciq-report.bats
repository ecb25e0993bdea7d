#!/usr/bin/env bats
#
# ciq-report: the wait and its three limits, the verdicts, text and JSON.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

# report_bg ARGS...: start ciq-report in the background; its output goes
# to $REPORT_OUT, its pid to $REPORT_PID.
# shellcheck disable=SC2120
report_bg() {
	REPORT_OUT=$BATS_TEST_TMPDIR/report.out
	ciq-report "$@" >"$REPORT_OUT" 2>"$REPORT_OUT.err" 3>&- &
	REPORT_PID=$!
}

# report_wait: wait for the background report; its exit status in $status.
report_wait() {
	status=0
	wait "$REPORT_PID" || status=$?
	output=$(cat "$REPORT_OUT")
	stderr=$(cat "$REPORT_OUT.err")
	mapfile -t lines <"$REPORT_OUT"
}

# The report is polling the server (its connection ran a script).
report_polling() {
	rcli CLIENT LIST | grep -Eq 'cmd=eval(sha)? '
}

# Worker 1 holds c, reclaimed from silent worker 3; worker 1 acks it.
# With a failure (b), a flaky test (a: requeued by 1, passed on 2) and a
# pass (d), the build is red.
mixed_build() {
	populate a b c d
	flaky_head a
	assert_equal "$(ciq-pop --worker 0)" b
	ciq-ack --worker 0 --failed --output - -- b <<<'b broke'
	assert_equal "$(ciq-pop --worker 3)" c
	assert_equal "$(ciq-pop --worker 0)" d
	ciq-ack --worker 0 -- d
	# Only c is left, held by worker 3: worker 1 waits, then reclaims it.
	assert_equal "$(ciq-pop --worker 1 --timeout 0.5 2>/dev/null)" c
	ciq-ack --worker 1 -- c
	for w in 0 1 2 3; do
		run ciq-pop --worker "$w"
		assert_equal "$status" "$CIQ_EX_NO"
	done
}

@test "a green build exits 0 and ends with the PASSED line" {
	populate a b c
	work 0
	run --separate-stderr ciq-report
	assert_success
	assert_equal "$stderr" ''
	assert_line --index 0 "ciq: build $CIQ_BUILD: 3 tests, 3 with a result, 1 workers"
	assert_line --index 1 '  passed 3, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0'
	refute_line --partial 'Failed tests'
	refute_line --partial 'Never run'
	assert_line 'Workers:'
	assert_line --regexp '^  0 +3 +3 +0 +0 +0 +0 +[0-9]+\.[0-9] s$'
	assert_equal "${lines[-1]}" 'PASSED: 3 tests, 3 passed, 0 skipped'
}

@test "workers come in order: numbers by value, then the other ids bytewise" {
	populate a b c d e f
	local w
	for w in b 10 1a 9 x2 100; do
		ciq-ack --worker "$w" -- "$(ciq-pop --worker "$w")"
	done
	run ciq-report
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | sed -n '/^Workers:$/,/^[A-Z]/p' | sed -n 's/^  \([^ ]*\) .*/\1/p' | paste -sd' ')" 'worker 0 9 10 100 1a b x2'
}

@test "skipped tests keep the build green and are counted" {
	populate a b
	ciq-pop -n 2 >/dev/null
	ciq-ack -- a
	ciq-ack --skipped -- b
	run ciq-report
	assert_success
	assert_line '  passed 1, failed 0, skipped 1, flaky 0, requeued 0, reclaimed 0, never run 0'
	assert_equal "${lines[-1]}" 'PASSED: 2 tests, 1 passed, 1 skipped'
}

@test "a failure exits 1 and shows the failure's output under it" {
	populate a b c
	work 0 b
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_line '  passed 2, failed 1, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0'
	assert_line 'Failed tests (1):'
	assert_line --regexp '^  FAIL b  \[worker 0, [0-9]+\.[0-9]{3} s, 1 attempt\]$'
	assert_line '    | out of b'
	assert_line '    | second line'
	# The output lines follow the FAIL line, in order.
	local i
	for i in "${!lines[@]}"; do
		[[ ${lines[i]} == '  FAIL b '* ]] && break
	done
	assert_equal "${lines[i + 1]}" '    | out of b'
	assert_equal "${lines[i + 2]}" '    | second line'
	assert_equal "${lines[-1]}" 'FAILED: 1 of 3 tests failed'
}

@test "a failure without output is listed without output lines" {
	populate a
	ciq-pop >/dev/null
	ciq-ack --failed -- a
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	refute_line --partial '    | '
	assert_equal "${lines[-1]}" 'FAILED: 1 of 1 tests failed'
}

@test "the report waits for the workers and then exits 0 for a green build" {
	report_bg
	populate a b c
	wait_for 100 report_polling
	kill -0 "$REPORT_PID" # still waiting
	work 0 3>&- &
	work 1
	wait $!
	report_wait
	assert_success
	assert_equal "$stderr" ''
	assert_line "ciq: build $CIQ_BUILD: 3 tests, 3 with a result, 2 workers"
	assert_equal "${lines[-1]}" 'PASSED: 3 tests, 3 passed, 0 skipped'
}

@test "the report waits for the workers and then exits 1 for a red build" {
	populate a b c
	report_bg
	wait_for 100 report_polling
	work 0 c
	report_wait
	assert_equal "$status" "$CIQ_EX_NO"
	assert_line '    | out of c'
	assert_equal "${lines[-1]}" 'FAILED: 1 of 3 tests failed'
}

@test "a build never populated exits 80 after the init timeout" {
	run --separate-stderr ciq-report --init-timeout 0.5
	assert_equal "$status" "$CIQ_EX_NOTPOPULATED"
	assert_output ''
	assert_equal "$stderr" "ciq-report: build '$CIQ_BUILD' was never populated (no worker ran ciq-populate within 0.5 s)"
}

@test "a leader elected but never published exits 80 naming the leader" {
	rcli SET "$(key leader)" 7
	run --separate-stderr ciq-report --init-timeout 0.5
	assert_equal "$status" "$CIQ_EX_NOTPOPULATED"
	assert_output ''
	assert_equal "$stderr" "ciq-report: build '$CIQ_BUILD' was never populated: worker '7' won the election but did not publish"
}

@test "--no-wait on a build never populated exits 80 at once" {
	run --separate-stderr timeout 5 ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_NOTPOPULATED"
}

@test "--no-wait on an unfinished build exits 75 and lists what is left" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	ciq-pop --worker 1 >/dev/null
	ciq-ack --worker 1 -- b
	run --separate-stderr ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" ''
	assert_line '  passed 1, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 2'
	assert_line 'Never run (2):'
	assert_line '  UNFINISHED a  [held by worker 0]'
	assert_line '  QUEUED c'
	assert_equal "${lines[-1]}" 'UNFINISHED: 2 tests not run yet'
}

@test "the report timeout ends the wait with exit 75 while a live worker holds a test" {
	populate a b
	ciq-pop >/dev/null
	run --separate-stderr ciq-report --report-timeout 0.5 --inactive-timeout 100
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" ''
	assert_line '  UNFINISHED a  [held by worker 0]'
	assert_line '  QUEUED b'
	assert_equal "${lines[-1]}" 'UNFINISHED: 2 tests not run yet when the report timeout expired'
}

@test "a worker that never comes back makes the build abandoned: exit 81" {
	populate a b
	ciq-pop --worker 5 >/dev/null
	run --separate-stderr ciq-report --inactive-timeout 0.5 --timeout 100
	assert_equal "$status" "$CIQ_EX_ABANDONED"
	assert_equal "$stderr" ''
	assert_line '  UNFINISHED a  [held by worker 5]'
	assert_line '  QUEUED b'
	assert_equal "${lines[-1]}" 'ABANDONED: 2 tests left unrun and no worker showed life for 0.5 s'
}

@test "keys flushed while the report waits exit 82" {
	populate a b
	ciq-pop >/dev/null
	report_bg
	wait_for 100 report_polling
	rcli FLUSHALL
	report_wait
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$output" ''
	assert_equal "$stderr" "ciq-report: the keys of build '$CIQ_BUILD' vanished while waiting: expired, evicted or flushed"
}

@test "a result evicted after the drain makes the build LOST: exit 82" {
	populate a b c
	work 0
	rcli HDEL "$(key results)" b
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_line '  passed 2, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0'
	assert_equal "${lines[-1]}" 'LOST: 1 of 3 tests have no result, yet nothing is left to run: keys were evicted or flushed'
	run ciq-report --json
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$(jq -r '[.verdict, .exit_status] | @tsv' <<<"$output")" "$(printf 'lost\t82')"
}

@test "a failed result evicted after the drain is not reported green" {
	populate a b
	work 0 b
	rcli HDEL "$(key results)" b
	run ciq-report
	assert_equal "$status" "$CIQ_EX_VANISHED"
	refute_line --partial 'PASSED'
}

@test "the text report lists flaky, requeued and reclaimed tests" {
	mixed_build
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_line --index 0 "ciq: build $CIQ_BUILD: 4 tests, 4 with a result, 4 workers"
	assert_line --index 1 '  passed 3, failed 1, skipped 0, flaky 1, requeued 1, reclaimed 1, never run 0'
	assert_line --regexp '^  FAIL b  \[worker 0, [0-9]+\.[0-9]{3} s, 1 attempt\]$'
	assert_line '    | b broke'
	assert_line 'Flaky tests (1): failed, then passed'
	assert_line '  FLAKY a  [passed on worker 2 after 1 requeue]'
	assert_line 'Requeued tests (1):'
	assert_line '  REQUEUED a  [1 time]'
	assert_line 'Reclaimed tests (1): their worker fell silent'
	assert_line '  RECLAIMED c  [1 time]'
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
}

@test "--json is valid JSON with every section and the text's exit code" {
	mixed_build
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	jq . <<<"$output" >/dev/null
	local j=$output
	assert_equal "$(jq -c '[.version, .build, .verdict, .exit_status, .order]' <<<"$j")" \
		"[1,\"$CIQ_BUILD\",\"failed\",1,\"given\"]"
	assert_equal "$(jq -c .totals <<<"$j")" \
		'{"tests":4,"processed":4,"passed":3,"failed":1,"skipped":0,"flaky":1,"requeued":1,"reclaimed":1,"released":0,"unrun":0,"quarantined":0}'
	assert_equal "$(jq -c '.failures | map([.id, .worker, .attempts, .output])' <<<"$j")" \
		'[["b","0",1,"b broke\n"]]'
	assert_equal "$(jq -c '.failures[0].duration_ms | type' <<<"$j")" '"number"'
	assert_equal "$(jq -c '.flaky | map([.id, .worker, .requeues, .output])' <<<"$j")" \
		'[["a","2",1,"a failed once\n"]]'
	assert_equal "$(jq -c '.requeued | map([.id, .requeues])' <<<"$j")" '[["a",1]]'
	assert_equal "$(jq -c '.reclaimed | map([.id, .reclaims, .worker])' <<<"$j")" '[["c",1,"1"]]'
	assert_equal "$(jq -c .unrun <<<"$j")" '[]'
	assert_equal "$(jq -c '.workers | sort_by(.id) | map([.id, .tests, .passed, .failed, .requeued, .reclaimed, .finished])' <<<"$j")" \
		'[["0",2,1,1,0,0,true],["1",2,1,0,1,1,true],["2",1,1,0,0,0,true],["3",1,0,0,0,0,true]]'
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
}

@test "--json of an unfinished build lists unrun tests with their state" {
	populate a b
	ciq-pop >/dev/null
	run ciq-report --json --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$(jq -c '[.verdict, .exit_status]' <<<"$output")" '["unfinished",75]'
	assert_equal "$(jq -c '.unrun | sort_by(.id) | map([.id, .state, .worker])' <<<"$output")" \
		'[["a","running","0"],["b","queued",null]]'
}

@test "--json of a green build exits 0" {
	populate a b
	work 0
	run ciq-report --json
	assert_success
	assert_equal "$(jq -c '[.version, .verdict, .exit_status, .totals.passed, (.failures | length)]' <<<"$output")" \
		'[1,"passed",0,2,0]'
}

@test "the report run again after the build gives the same output and exit code" {
	mixed_build
	run ciq-report
	local first=$output code=$status
	run ciq-report
	assert_equal "$status" "$code"
	assert_equal "$output" "$first"
	run ciq-report --json
	first=$output
	run ciq-report --json
	assert_equal "$status" "$code"
	assert_equal "$output" "$first"
}

@test "per-worker counts are right for a 2-worker run" {
	populate a b c d e
	assert_equal "$(ciq-pop --worker 0)" a
	assert_equal "$(ciq-pop --worker 1)" b
	ciq-ack --worker 0 -- a
	ciq-ack --worker 1 --failed -- b
	assert_equal "$(ciq-pop --worker 0)" c
	assert_equal "$(ciq-pop --worker 1)" d
	ciq-ack --worker 0 -- c
	ciq-ack --worker 1 --skipped -- d
	assert_equal "$(ciq-pop --worker 0)" e
	ciq-ack --worker 0 --failed -- e
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_line --regexp '^  0 +3 +2 +1 +0 +0 +0 +[0-9]+\.[0-9] s$'
	assert_line --regexp '^  1 +2 +0 +1 +1 +0 +0 +[0-9]+\.[0-9] s$'
	assert_equal "${lines[-1]}" 'FAILED: 2 of 5 tests failed'
	run ciq-report --json
	assert_equal "$(jq -c '.workers | sort_by(.id) | map([.id, .tests, .passed, .failed, .skipped])' <<<"$output")" \
		'[["0",3,2,1,0],["1",2,0,1,1]]'
}

@test "the workers' counts add up to the build's: a flaky test counts for the worker whose pass stands" {
	populate a
	ciq-pop --timeout 0.5 >/dev/null
	wait_for 100 lost a 500
	assert_equal "$(ciq-pop --worker 1 --timeout 0.5 2>/dev/null)" a
	ciq-ack --worker 0 --failed -- a
	ciq-ack --worker 1 -- a
	run ciq-report --json
	assert_success
	assert_equal "$(jq -c '[.totals.passed, .totals.failed, .totals.flaky]' <<<"$output")" '[1,0,1]'
	assert_equal "$(jq -c '.workers | map([.id, .tests, .passed, .failed, .skipped])' <<<"$output")" \
		'[["0",1,0,0,0],["1",1,1,0,0]]'
}

@test "a worker's tests are counted from its order list, also as an older ciq recorded them" {
	populate a b
	work 0
	run ciq-report --json
	assert_success
	assert_equal "$(jq -c '.workers | map([.id, .tests])' <<<"$output")" '[["0",2]]'
	# Older versions counted reservations in wstats' 0:reserved, with no
	# 0:ordered: the order list is read, and its loss seen, all the same.
	rcli HDEL "$(key wstats)" 0:ordered >/dev/null
	rcli HSET "$(key wstats)" 0:reserved 2 >/dev/null
	run ciq-report --json
	assert_success
	assert_equal "$(jq -c '.workers | map([.id, .tests])' <<<"$output")" '[["0",2]]'
	rcli DEL "$(key order:0)" >/dev/null
	run ciq-report --json
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$(jq -c .lost_keys <<<"$output")" '["order:0"]'
	run --separate-stderr ciq-report --order 0
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" "ciq-report: the order of worker '0' in build '$CIQ_BUILD' was lost (its key was evicted or deleted)"
}

@test "a report with an argument is a usage error" {
	run --separate-stderr ciq-report extra
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" "ciq-report: unexpected argument 'extra'"
}

@test "a report needs no worker id" {
	populate a
	work 0
	unset CIQ_WORKER
	run ciq-report
	assert_success
}

@test "tests left queued after every worker released them make the build abandoned" {
	populate a b
	ciq-pop >/dev/null
	ciq-release
	run --separate-stderr ciq-report --inactive-timeout 0.5
	assert_equal "$status" "$CIQ_EX_ABANDONED"
	assert_line '  QUEUED a'
	assert_line '  QUEUED b'
	assert_equal "${lines[-1]}" 'ABANDONED: 2 tests left unrun and no worker showed life for 0.5 s'
	run ciq-report --json --no-wait
	assert_equal "$(jq -c '[.totals.released, (.workers | map(.finished))]' <<<"$output")" '[1,[true]]'
}

@test "never-run tests come in queue order, then the running ones" {
	populate d c b a
	assert_equal "$(ciq-pop -n 2)" "$(printf 'd\nc')"
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	local i
	for i in "${!lines[@]}"; do
		[[ ${lines[i]} == 'Never run (4):' ]] && break
	done
	assert_equal "${lines[i + 1]}" '  QUEUED b'
	assert_equal "${lines[i + 2]}" '  QUEUED a'
	assert_equal "${lines[i + 3]}" '  UNFINISHED c  [held by worker 0]'
	assert_equal "${lines[i + 4]}" '  UNFINISHED d  [held by worker 0]'
}

@test "failed tests are listed in bytewise order" {
	populate b2 a10 B a9
	work 0 b2 a10 B a9
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	local fails
	fails=$(printf '%s\n' "${lines[@]}" | sed -n 's/^  FAIL \([^ ]*\) .*/\1/p' | tr '\n' ' ')
	assert_equal "$fails" 'B a10 a9 b2 '
}

@test "a failure recorded by a stale worker has no duration and shows NUL and CR as spaces" {
	populate t
	ciq-pop --timeout 0.5 >/dev/null
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_output t
	printf 'x\0y\rz\n' | ciq-ack --failed --output - -- t 2>/dev/null
	ciq-ack --worker 1 --failed -- t
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_line '  FAIL t  [worker 0, ?, 2 attempts]'
	assert_line '    | x y z'
	assert_line '  RECLAIMED t  [1 time]'
	run ciq-report --json
	assert_equal "$(jq -c '.failures[0] | [.worker, .duration_ms, .reclaims, .attempts, .output]' <<<"$output")" \
		'["0",null,1,2,"x\u0000y\rz\n"]'
}
