#!/usr/bin/env bats
#
# Circuit breakers: --max-failures stops the whole build, and
# --max-consecutive-failures stops one broken worker while the others
# finish its work.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	printf 't%s\n' 1 2 3 4 5 6 >"$BATS_TEST_TMPDIR/list"
	# Fails on worker "bad", or everywhere when ALWAYS_FAIL is set.
	cat >"$BATS_TEST_TMPDIR/run" <<'SH'
#!/bin/sh
if [ -n "${ALWAYS_FAIL:-}" ] || [ "$CIQ_WORKER" = bad ]; then
	echo "$1 failed on $CIQ_WORKER"
	exit 1
fi
SH
	chmod +x "$BATS_TEST_TMPDIR/run"
}

worker() {
	CIQ_WORKER=$1 sh "$CIQ_ROOT/ci-templates/ciq-worker.sh" "$BATS_TEST_TMPDIR/run"
}

@test "--max-failures stops every worker once the build has that many failures" {
	ciq-populate --order given --max-failures 2 "$BATS_TEST_TMPDIR/list"
	ALWAYS_FAIL=1 run --separate-stderr worker 0
	assert_equal "$status" 1
	# (The loop's ciq-loop records the second failure and takes the next test.)
	assert_equal "$stderr" "ciq-loop: the build stopped: 2 tests failed (--max-failures 2)"
	assert_equal "$(counter failed)" 2
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1 | tr '\n' ' ')" "t3 t4 t5 t6 "
	# Another worker takes nothing either.
	run --separate-stderr ciq-pop --worker 1
	assert_equal "$status" 1
	assert_output ""
	assert_equal "$stderr" "ciq-pop: the build stopped: 2 tests failed (--max-failures 2)"
}

@test "the leader's --max-failures is the build's" {
	ciq-populate --order given --max-failures 1 "$BATS_TEST_TMPDIR/list"
	ciq-populate --worker 1 --max-failures 5 "$BATS_TEST_TMPDIR/list"
	assert_equal "$(rcli HGET "$(key meta)" max_failures)" 1
	t=$(ciq-pop --worker 1)
	ciq-ack --worker 1 --failed -- "$t"
	run ciq-pop --worker 1
	assert_equal "$status" 1
}

@test "without --max-failures a failing build runs to the end" {
	ciq-populate "$BATS_TEST_TMPDIR/list"
	ALWAYS_FAIL=1 run worker 0
	assert_equal "$status" 1
	assert_equal "$(counter failed)" 6
}

@test "--max-consecutive-failures stops a broken worker and the others finish its work" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 CIQ_MAX_CONSECUTIVE_FAILURES=3
	ciq-populate --order given --worker good "$BATS_TEST_TMPDIR/list"
	ciq-populate --worker bad "$BATS_TEST_TMPDIR/list"
	run --separate-stderr worker bad
	assert_success
	assert_equal "$stderr" "ciq-loop: worker 'bad' stops: 3 tests failed in a row on it (--max-consecutive-failures 3); other workers take the rest"
	assert_equal "$(counter requeued)" 3
	run worker good
	assert_success
	run ciq-report
	assert_success
	assert_line "PASSED: 6 tests, 6 passed, 0 skipped"
}

@test "a pass resets a worker's run of failures" {
	export CIQ_MAX_CONSECUTIVE_FAILURES=2
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	for verdict in --failed "" --failed "" --failed ""; do
		t=$(ciq-pop)
		ciq-ack $verdict -- "$t"
	done
	assert_equal "$(rcli HGET "$(key wstats)" 0:streak)" 0
	assert_equal "$(counter failed)" 3
}

@test "only the tests reserved with --max-consecutive-failures count toward the streak" {
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	# Without the option: the owner value carries no flag, and neither a
	# failure nor a pass or a requeue writes a streak.
	t=$(ciq-pop)
	assert_equal "$(rcli HGET "$(key owner)" t1)" "0 $(rcli ZSCORE "$(key running)" t1)"
	ciq-ack --failed -- "$t"
	t=$(ciq-pop)
	ciq-ack -- "$t"
	t=$(ciq-pop)
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 ciq-requeue -- "$t"
	assert_equal "$(rcli HEXISTS "$(key wstats)" 0:streak)" 0
	# With it: the failure counts, and the next pop stops the worker.
	export CIQ_MAX_CONSECUTIVE_FAILURES=1
	t=$(ciq-pop)
	assert_equal "$t" t3
	assert_equal "$(rcli HGET "$(key owner)" t3)" "0 $(rcli ZSCORE "$(key running)" t3) streak"
	ciq-ack --failed -- "$t"
	assert_equal "$(rcli HGET "$(key wstats)" 0:streak)" 1
	run --separate-stderr ciq-pop
	assert_equal "$status" 1
	assert_equal "$stderr" "ciq-pop: worker '0' stops: 1 tests failed in a row on it (--max-consecutive-failures 1); other workers take the rest"
}

@test "a requeue of a test reserved with --max-consecutive-failures counts as a failure" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 CIQ_MAX_CONSECUTIVE_FAILURES=2
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	t=$(ciq-pop)
	ciq-requeue -- "$t"
	assert_equal "$(rcli HGET "$(key wstats)" 0:streak)" 1
	t=$(ciq-pop)
	ciq-ack -- "$t"
	assert_equal "$(rcli HGET "$(key wstats)" 0:streak)" 0
}

@test "the report names the holder of a test reserved with --max-consecutive-failures" {
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	CIQ_MAX_CONSECUTIVE_FAILURES=3 ciq-pop --worker 7 >/dev/null
	run ciq-report --no-wait --json
	assert_equal "$(printf '%s\n' "$output" | jq -c '.running[] | [.id, .worker, .started_ms]')" \
		"[\"t1\",\"7\",$(rcli ZSCORE "$(key running)" t1)]"
}

@test "the report of a stopped build says so with its own exit status" {
	ciq-populate --order given --max-failures 2 "$BATS_TEST_TMPDIR/list"
	ALWAYS_FAIL=1 worker 0 2>/dev/null || true
	run ciq-report
	assert_equal "$status" "$CIQ_EX_STOPPED"
	assert_line "STOPPED: 2 tests failed, the build's --max-failures; 4 tests not run"
	assert_line "  QUEUED t3"
}

@test "a report waiting on a build that stops ends without its timeouts" {
	ciq-populate --order given --max-failures 1 "$BATS_TEST_TMPDIR/list"
	ciq-report --inactive-timeout 100 >"$BATS_TEST_TMPDIR/report" &
	local pid=$! rc=0
	ALWAYS_FAIL=1 worker 0 2>/dev/null || true
	wait "$pid" || rc=$?
	assert_equal "$rc" "$CIQ_EX_STOPPED"
	run tail -n 1 "$BATS_TEST_TMPDIR/report"
	assert_output "STOPPED: 1 tests failed, the build's --max-failures; 5 tests not run"
}

@test "a stopped build whose last test was lost with its machine still reports STOPPED" {
	export CIQ_TIMEOUT=0.5
	ciq-populate --order given --max-failures 1 "$BATS_TEST_TMPDIR/list"
	# Worker 1 takes t1 and vanishes; worker 0 fails t2: the build stops.
	ciq-pop --worker 1 >/dev/null
	t=$(ciq-pop --worker 0)
	ciq-ack --worker 0 --failed -- "$t"
	run ciq-report --inactive-timeout 100
	assert_equal "$status" "$CIQ_EX_STOPPED"
	assert_line "  UNFINISHED t1  [held by worker 1]"
}
