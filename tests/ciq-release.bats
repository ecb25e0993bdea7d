#!/usr/bin/env bats
#
# ciq-release: reservations go back to the head of the queue at once.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

# sorted LIST...: the words, one a line, sorted.
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort
}

@test "a release gives back every reservation of this worker to the head of the queue" {
	populate a b c d
	run ciq-pop -n 2
	assert_output "$(printf 'a\nb')"
	assert_equal "$(ciq-pop --worker 1)" c
	run --separate-stderr ciq-release
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	# Only worker 1's test is still running.
	assert_equal "$(members running)" c
	assert_equal "$(members owner)" c
	assert_equal "$(holder c)" 1
	assert_equal "$(rcli LRANGE "$(key queue)" 0 1 | LC_ALL=C sort)" "$(sorted a b)"
	assert_equal "$(rcli LINDEX "$(key queue)" 2)" d
	assert_equal "$(counter released)" 2
}

@test "another worker pops released tests at once, without waiting for the timeout" {
	populate a b
	ciq-pop -n 2 >/dev/null
	run ciq-release
	assert_success
	# The default timeout is 30 s: a wait for it would be cut by timeout(1).
	run --separate-stderr timeout 5 ciq-pop --worker 1 -n 2
	assert_success
	assert_equal "$(LC_ALL=C sort <<<"$output")" "$(sorted a b)"
	assert_equal "$stderr" ''
	assert_equal "$(counter reclaimed)" ''
	assert_equal "$(holder a)" 1
	assert_equal "$(holder b)" 1
}

@test "a release with ids gives back only those" {
	populate a b c d
	ciq-pop -n 3 >/dev/null
	run ciq-release -- b
	assert_success
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf 'b\nd')"
	assert_equal "$(members running)" "$(printf 'a\nc')"
	assert_equal "$(holder a)" 0
	assert_equal "$(rcli HEXISTS "$(key owner)" b)" 0
	assert_equal "$(counter released)" 1
	# The rest can still be acked.
	run ciq-ack -- a c
	assert_success
}

@test "a release of another worker's test changes nothing" {
	populate a b
	ciq-pop --worker 1 >/dev/null
	local started
	started=$(rcli ZSCORE "$(key running)" a)
	run ciq-release -- a
	assert_success
	assert_equal "$(holder a)" 1
	assert_equal "$(rcli ZSCORE "$(key running)" a)" "$started"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
	assert_equal "$(counter released)" ''
}

@test "a release with nothing reserved succeeds and changes nothing" {
	populate a b
	run --separate-stderr ciq-release
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf 'a\nb')"
	assert_equal "$(counter released)" ''
	# Twice is harmless too.
	ciq-pop >/dev/null
	ciq-release
	run ciq-release
	assert_success
	assert_equal "$(counter released)" 1
}

@test "a released test was not acked: it runs again and counts once" {
	populate a
	ciq-pop >/dev/null
	ciq-release
	assert_equal "$(ciq-pop --worker 1)" a
	run ciq-ack --worker 1 -- a
	assert_success
	run ciq-report --no-wait
	assert_success
	assert_line 'PASSED: 1 tests, 1 passed, 0 skipped'
	run ciq-report --no-wait --json
	assert_equal "$(jq -c .totals.released <<<"$output")" 1
}

@test "a release of an acked test does not put it back" {
	populate a b
	ciq-pop >/dev/null
	ciq-ack -- a
	run ciq-release -- a
	assert_success
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
	assert_equal "$(counter released)" ''
}

@test "a release of a build never populated exits 82" {
	run --separate-stderr ciq-release
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-release: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "a TERM trap in a worker loop releases the running test to another worker at once" {
	local d=$BATS_TEST_TMPDIR
	populate a b
	# The runner records its pid and the test, then blocks until a flag file.
	cat >"$d/runner" <<-'EOF'
		#!/bin/bash
		echo $$ >"$D/runner.pid.tmp" && mv "$D/runner.pid.tmp" "$D/runner.pid"
		printf '%s\n' "$1" >>"$D/ran"
		while [ ! -e "$D/flag" ]; do sleep 0.02; done
	EOF
	# The loop runs the runner in the background and waits for it, so the
	# trap runs at once (bash defers traps while a foreground child runs).
	cat >"$d/loop" <<-'EOF'
		#!/bin/bash
		trap 'kill "$child" 2>/dev/null; ciq-release; exit 143' TERM INT
		while :; do
			rc=0; t=$(ciq-pop) || rc=$?
			[ "$rc" -eq 1 ] && break
			[ "$rc" -eq 0 ] || exit "$rc"
			"$D/runner" "$t" >"$D/out" 2>&1 & child=$!
			if wait "$child"; then ciq-ack -- "$t"
			else ciq-requeue --output "$D/out" -- "$t" || ciq-ack --failed --output "$D/out" -- "$t"; fi
		done
	EOF
	chmod +x "$d/runner" "$d/loop"
	D=$d "$d/loop" >"$d/loop.log" 2>&1 3>&- &
	local pid=$!
	wait_for 100 test -s "$d/runner.pid"
	local t runner
	t=$(cat "$d/ran")
	runner=$(cat "$d/runner.pid")
	assert_equal "$(holder "$t")" 0

	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 143
	assert_equal "$(cat "$d/loop.log")" ''
	# The trap killed the runner too.
	wait_for 100 bash -c "! kill -0 $runner"
	assert_equal "$(records running)" 0
	assert_equal "$(rcli LINDEX "$(key queue)" 0)" "$t"
	assert_equal "$(counter released)" 1
	assert_equal "$(records results)" 0

	run --separate-stderr timeout 5 ciq-pop --worker 1
	assert_success
	assert_output "$t"
	assert_equal "$stderr" ''
}

@test "a release marks the worker finished, so a requeuer gets its own test back" {
	populate t u
	assert_equal "$(ciq-pop --worker 1)" t
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- t
	assert_success
	# Worker 0 (the publisher) is alive: worker 1 skips its own requeue.
	assert_equal "$(ciq-pop --worker 1)" u
	ciq-ack --worker 1 -- u
	run ciq-release --worker 0
	assert_success
	[ "$(rcli ZSCORE "$(key workers)" 0)" -lt 0 ]
	# Now nobody else is alive: worker 1 gets t at once.
	run --separate-stderr timeout 5 ciq-pop --worker 1
	assert_success
	assert_output t
}

@test "a released test does not count as a requeue" {
	populate a b
	ciq-pop >/dev/null
	ciq-release
	assert_equal "$(records requeues)" 0
	assert_equal "$(counter requeued)" ''
	# The releasing worker may take it again.
	assert_equal "$(ciq-pop)" a
	run ciq-requeue --max-requeues 1 --requeue-tolerance 0.5 -- a
	assert_success
}
