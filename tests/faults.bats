#!/usr/bin/env bats
#
# Server faults: a restart with persistence in the middle of a run loses
# nothing; a restart without it, or a flush, fails loudly, never green; a
# server that may evict the queue's keys is named at populate.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	seq -f 't%03g' 1 300 >"$BATS_TEST_TMPDIR/list"
	cat >"$BATS_TEST_TMPDIR/run" <<'SH'
#!/bin/sh
sleep 0.01
SH
	chmod +x "$BATS_TEST_TMPDIR/run"
}

teardown() {
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	server_stop "${FDIR:-}"
}

# A server of this test's own, so it can be restarted.
fault_server() {
	FDIR=$(mktemp -d /tmp/ciqf.XXXXXX)
	server_start "$FDIR" "$@"
	export CIQ_QUEUE="unix://$FDIR/sock"
}

frcli() {
	redis-cli -s "$FDIR/sock" "$@"
}

# at_least N: the build has N results or more (a condition for wait_for).
at_least() {
	[ $(($(frcli HLEN "$(key results)") - 1)) -ge "$1" ]
}

gone() {
	! kill -0 "$(cat "$FDIR/pid" 2>/dev/null)" 2>/dev/null
}

# Three SPEC loops in the background; their statuses go to $FDIR/status.W.
start_workers() {
	local w
	for w in 0 1 2; do
		(
			rc=0
			worker_loop "$w" "$BATS_TEST_TMPDIR/run" >/dev/null 2>"$BATS_TEST_TMPDIR/err.$w" || rc=$?
			echo "$rc" >"$BATS_TEST_TMPDIR/status.$w"
		) &
	done
}

statuses() {
	cat "$BATS_TEST_TMPDIR"/status.0 "$BATS_TEST_TMPDIR"/status.1 "$BATS_TEST_TMPDIR"/status.2 | tr '\n' ' '
}

@test "a server restart with persistence in the middle of a run loses nothing" {
	fault_server --appendonly yes --appendfsync always
	ciq-populate "$BATS_TEST_TMPDIR/list"
	start_workers
	wait_for 200 at_least 60
	frcli SHUTDOWN >/dev/null 2>&1 || true
	wait_for 100 gone
	server_start "$FDIR" --appendonly yes --appendfsync always
	wait
	assert_equal "$(statuses)" "0 0 0 "
	run ciq-report
	assert_success
	assert_line "PASSED: 300 tests, 300 passed, 0 skipped"
	assert_line "  passed 300, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0"
}

@test "a restart without persistence fails every worker and the report loudly" {
	fault_server
	ciq-populate "$BATS_TEST_TMPDIR/list"
	ciq-report >"$BATS_TEST_TMPDIR/report" 2>&1 &
	local report=$!
	start_workers
	wait_for 200 at_least 60
	frcli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait_for 100 gone
	server_start "$FDIR"
	local rc=0
	wait "$report" || rc=$?
	wait
	assert_equal "$(statuses)" "$CIQ_EX_VANISHED $CIQ_EX_VANISHED $CIQ_EX_VANISHED "
	assert_equal "$rc" "$CIQ_EX_VANISHED"
	run cat "$BATS_TEST_TMPDIR/report"
	assert_output "ciq-report: the keys of build '$CIQ_BUILD' vanished while waiting: expired, evicted or flushed"
	# Each worker said why, and nothing else (an ack may say it before the pop).
	local w
	for w in 0 1 2; do
		run grep -c . "$BATS_TEST_TMPDIR/err.$w"
		[ "$output" -ge 1 ]
		run grep -v "^ciq-[a-z]*: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed\$" "$BATS_TEST_TMPDIR/err.$w"
		assert_output ""
	done
}

@test "a flush in the middle of a run fails the workers and the report, never green" {
	fault_server
	ciq-populate "$BATS_TEST_TMPDIR/list"
	start_workers
	wait_for 200 at_least 30
	frcli FLUSHALL >/dev/null
	wait
	assert_equal "$(statuses)" "$CIQ_EX_VANISHED $CIQ_EX_VANISHED $CIQ_EX_VANISHED "
	run --separate-stderr ciq-report --init-timeout 0.2
	assert_equal "$status" "$CIQ_EX_NOTPOPULATED"
}

@test "populate warns when the server may evict the build's keys" {
	fault_server --maxmemory 100mb --maxmemory-policy allkeys-lru
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" "ciq-populate: warning: the server may evict this build's keys when it runs out of memory (maxmemory 104857600, maxmemory-policy allkeys-lru): set maxmemory-policy noeviction, or the report will say the build vanished"
}

@test "volatile eviction is named too: every key of a build has a TTL" {
	fault_server --maxmemory 100mb --maxmemory-policy volatile-ttl
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_output ""
	[[ "$stderr" == *"maxmemory-policy volatile-ttl"* ]]
}

@test "noeviction, or no memory limit, gives no warning" {
	fault_server --maxmemory 100mb --maxmemory-policy noeviction
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
	server_stop "$FDIR"
	fault_server --maxmemory-policy allkeys-lru
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
}

@test "a server that refuses CONFIG gives no warning and no error" {
	fault_server --maxmemory 100mb --maxmemory-policy allkeys-lru --rename-command CONFIG ""
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
}
