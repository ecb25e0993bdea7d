#!/usr/bin/env bats
#
# ciq-requeue: per-test limit, build tolerance, ownership, the refusal path.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

@test "a requeue is refused by default, silently, and the test stays reserved" {
	populate t
	ciq-pop >/dev/null
	run --separate-stderr ciq-requeue --output - -- t <<<'not kept'
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ""
	# Nothing changed, not even the output.
	assert_equal "$(records output)" 0
	assert_equal "$(holder t)" 0
	[ -n "$(rcli ZSCORE "$(key running)" t)" ]
	assert_equal "$(rcli LLEN "$(key queue)")" 0
	assert_equal "$(records requeues)" 0
	assert_equal "$(counter requeued)" ''
}

@test "an accepted requeue puts the test back at the head of the queue with its output" {
	populate t u v
	assert_equal "$(ciq-pop)" t
	printf 'it broke\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 \
		--output "$BATS_TEST_TMPDIR/out" -- t
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(rcli LINDEX "$(key queue)" 0)" t
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf 't\nu\nv')"
	assert_equal "$(rcli HGET "$(key output)" t)" 'it broke'
	assert_equal "$(rcli HGET "$(key requeues)" t)" 1
	assert_equal "$(counter requeued)" 1
	assert_equal "$(rcli HGET "$(key wstats)" 0:requeued)" 1
	assert_equal "$(records running)" 0
	assert_equal "$(rcli HEXISTS "$(key owner)" t)" 0
	assert_equal "$(result t)" ''
}

@test "--long prints the held time of a test put back, and - for one refused" {
	populate t u
	ciq-pop -n 2 >/dev/null
	run --separate-stderr ciq-requeue --long --max-requeues 1 --requeue-tolerance 0.5 -- t u
	assert_failure 1
	assert_equal "${lines[1]}" '- u'
	[[ ${lines[0]} =~ ^[0-9]+\ t$ ]]
	assert_equal "${#lines[@]}" 2
	assert_equal "$stderr" "ciq-requeue: the build used its requeues (1/1, --requeue-tolerance 0.5): 'u' not requeued"
	# The same time went to the worker's busy time.
	assert_equal "$(rcli HGET "$(key wstats)" 0:busy_ms)" "${lines[0]%% *}"
}

@test "the limits come from CIQ_MAX_REQUEUES and CIQ_REQUEUE_TOLERANCE too" {
	populate t
	ciq-pop >/dev/null
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 run ciq-requeue -- t
	assert_success
	assert_equal "$(rcli LINDEX "$(key queue)" 0)" t
}

@test "a second requeue of the same test is refused by --max-requeues 1" {
	populate t
	ciq-pop >/dev/null
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_success
	# The only worker alive gets its own requeue back.
	assert_equal "$(ciq-pop)" t
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: 't' was requeued 1 times already (--max-requeues 1): not requeued"
	assert_equal "$(rcli HGET "$(key requeues)" t)" 1
	assert_equal "$(holder t)" 0
	assert_equal "$(rcli LLEN "$(key queue)")" 0
}

@test "--requeue-tolerance 0.2 of 10 tests accepts exactly 2 requeues in the build" {
	populate t0 t1 t2 t3 t4 t5 t6 t7 t8 t9
	run ciq-pop -n 3
	assert_output "$(printf 't0\nt1\nt2')"
	run ciq-requeue --max-requeues 5 --requeue-tolerance 0.2 -- t0
	assert_success
	run ciq-requeue --max-requeues 5 --requeue-tolerance 0.2 -- t1
	assert_success
	run --separate-stderr ciq-requeue --max-requeues 5 --requeue-tolerance 0.2 -- t2
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: the build used its requeues (2/2, --requeue-tolerance 0.2): 't2' not requeued"
	assert_equal "$(counter requeued)" 2
	assert_equal "$(holder t2)" 0
	assert_equal "$(rcli HEXISTS "$(key requeues)" t2)" 0
}

@test "the tolerance counts requeues of every worker" {
	populate t0 t1 t2 t3 t4 t5 t6 t7 t8 t9
	assert_equal "$(ciq-pop --worker 1)" t0
	assert_equal "$(ciq-pop --worker 2)" t1
	assert_equal "$(ciq-pop --worker 3)" t2
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 0.2 -- t0
	assert_success
	run ciq-requeue --worker 2 --max-requeues 1 --requeue-tolerance 0.2 -- t1
	assert_success
	run --separate-stderr ciq-requeue --worker 3 --max-requeues 1 --requeue-tolerance 0.2 -- t2
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: the build used its requeues (2/2, --requeue-tolerance 0.2): 't2' not requeued"
}

@test "a tolerance share rounds up: 0.1 of 3 tests allows one requeue" {
	populate a b c
	ciq-pop -n 2 >/dev/null
	run ciq-requeue --max-requeues 1 --requeue-tolerance 0.1 -- a
	assert_success
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 0.1 -- b
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: the build used its requeues (1/1, --requeue-tolerance 0.1): 'b' not requeued"
}

@test "a stale worker cannot requeue a test another worker reclaimed" {
	populate t
	ciq-pop --timeout 0.5 >/dev/null
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_success
	assert_output t
	local started
	started=$(rcli ZSCORE "$(key running)" t)
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: 't' is no longer reserved by this worker (now: '1'): not requeued"
	# The new owner's reservation is untouched.
	assert_equal "$(holder t)" 1
	assert_equal "$(rcli ZSCORE "$(key running)" t)" "$started"
	assert_equal "$(rcli LLEN "$(key queue)")" 0
	assert_equal "$(records requeues)" 0
	# ... and it can still requeue it itself.
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- t
	assert_success
}

@test "a requeue after this worker's own ack is refused as no longer reserved" {
	populate t u
	ciq-pop >/dev/null
	ciq-ack --failed -- t
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: 't' is no longer reserved by this worker: not requeued"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" u
}

@test "a requeue of a test never reserved exits 65" {
	populate t u
	ciq-pop --worker 1 >/dev/null
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-requeue: 't' was never reserved by worker '0': not requeued"
	assert_equal "$(holder t)" 1
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" u
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- u
	assert_equal "$status" "$CIQ_EX_DATAERR"
}

@test "a requeue of a test that already has a result is refused" {
	populate t
	ciq-pop --timeout 0.5 >/dev/null
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_output t
	# The stale worker records the first result; worker 1 still holds t.
	ciq-ack --failed -- t 2>/dev/null
	run --separate-stderr ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: 't' already has a result: not requeued"
	assert_equal "$(rcli LLEN "$(key queue)")" 0
	assert_equal "$(holder t)" 1
}

@test "a missing output file exits 65 and requeues nothing" {
	populate t
	ciq-pop >/dev/null
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 \
		--output "$BATS_TEST_TMPDIR/missing" -- t
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-requeue: cannot open '$BATS_TEST_TMPDIR/missing': No such file or directory: nothing was requeued"
	assert_equal "$(holder t)" 0
	assert_equal "$(rcli LLEN "$(key queue)")" 0
}

@test "a requeue needs at least one test" {
	run --separate-stderr ciq-requeue
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" 'ciq-requeue: no test given'
}

@test "one requeue takes a whole batch, each test judged on its own" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	populate a b c d
	ciq-pop -n 3 >/dev/null
	ciq-requeue -- c
	t=$(ciq-pop --worker 1)
	assert_equal "$t" c
	ciq-ack --worker 1 --failed -- c
	run --separate-stderr ciq-requeue --output - -- a b c d <<<'batch output'
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-requeue: 'c' is no longer reserved by this worker: not requeued
ciq-requeue: 'd' was never reserved by worker '0': not requeued"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1 | tr '\n' ' ')" "b a d "
	assert_equal "$(rcli HGET "$(key output)" a)" "batch output"
	assert_equal "$(rcli HGET "$(key requeues)" b)" 1
}

@test "a batch with a refusal but no stranger exits 1" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	populate a b
	ciq-pop -n 2 >/dev/null
	ciq-ack --failed -- b
	run --separate-stderr ciq-requeue -- a b
	assert_equal "$status" 1
	assert_equal "$stderr" "ciq-requeue: 'b' is no longer reserved by this worker: not requeued"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" a
}

@test "invalid limits are configuration errors" {
	populate t
	ciq-pop >/dev/null
	run --separate-stderr ciq-requeue --max-requeues -1 -- t
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-requeue: invalid --max-requeues '-1': expected a whole number"
	run --separate-stderr ciq-requeue --requeue-tolerance 1.5 -- t
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-requeue: invalid --requeue-tolerance '1.5': expected a number from 0 to 1"
	assert_equal "$(holder t)" 0
}

@test "a requeued test goes to another live worker, not back to its requeuer" {
	populate t u
	assert_equal "$(ciq-pop --worker 1)" t
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- t
	assert_success
	# Worker 0 is alive (it published): worker 1 skips its own requeue.
	assert_equal "$(ciq-pop --worker 1)" u
	assert_equal "$(ciq-pop --worker 0)" t
}

@test "a requeued test that then passes on another worker is flaky in the report" {
	populate t
	assert_equal "$(ciq-pop --worker 1)" t
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 --output - -- t <<<'first try failed'
	assert_success
	assert_equal "$(ciq-pop --worker 2)" t
	run ciq-ack --worker 2 -- t
	assert_success
	run result t
	assert_output --regexp '^p [0-9]+ 2$'
	assert_equal "$(counter flaky)" 1
	run ciq-report --no-wait
	assert_success
	assert_line '  passed 1, failed 0, skipped 0, flaky 1, requeued 1, reclaimed 0, never run 0'
	assert_line 'Flaky tests (1): failed, then passed'
	assert_line '  FLAKY t  [passed on worker 2 after 1 requeue]'
	assert_line 'Requeued tests (1):'
	assert_line '  REQUEUED t  [1 time]'
	assert_line 'PASSED: 1 tests, 1 passed, 0 skipped'
}

@test "ciq-requeue || ciq-ack --failed records the failure when the requeue is refused" {
	populate t
	ciq-pop >/dev/null
	printf 'assertion failed\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr bash -c 'ciq-requeue --output "$1" -- t || ciq-ack --failed --output "$1" -- t' _ "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$stderr" ""
	run result t
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(rcli HGET "$(key output)" t)" 'assertion failed'
	assert_equal "$(counter failed)" 1
	assert_equal "$(records running)" 0
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_NO"
	assert_line 'FAILED: 1 of 1 tests failed'
	assert_line '    | assertion failed'
}

@test "a requeue of a build never populated exits 82" {
	run --separate-stderr ciq-requeue -- t
	assert_equal "$status" "$CIQ_EX_VANISHED"
}

@test "--max-requeues alone is not enough: a tolerance of 0 refuses every requeue" {
	populate t
	ciq-pop >/dev/null
	run --separate-stderr ciq-requeue --max-requeues 3 --output - -- t <<<'not kept'
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: the build used its requeues (0/0, --requeue-tolerance 0): 't' not requeued"
	assert_equal "$(holder t)" 0
	assert_equal "$(records output)" 0
}

@test "a requeue after a release is refused" {
	populate t u
	ciq-pop >/dev/null
	ciq-release
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-requeue: 't' is no longer reserved by this worker: not requeued"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf 't\nu')"
	assert_equal "$(records requeues)" 0
}

@test "an accepted requeue adds the try's time to the worker's busy time" {
	populate t
	ciq-pop >/dev/null
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- t
	assert_success
	run rcli HGET "$(key wstats)" 0:busy_ms
	assert_output --regexp '^[0-9]+$'
}
