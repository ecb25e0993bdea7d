#!/usr/bin/env bats
#
# Empty test ids are refused: an empty id names no test, and in a loop's
# heartbeat log it would read as "every test" (lib/heartbeat.h). The tool
# says so and exits 64 before anything is sent or written.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

# state: what the server holds of this build that the tools below change.
state() {
	members running
	rcli HGETALL "$(key results)"
	rcli HGETALL "$(key stats)"
	rcli LRANGE "$(key queue)" 0 -1
}

# refused TOOL USAGE_LINES ARGS...: TOOL ARGS exits 64 saying which id is
# empty, then prints its usage; the server is left as it was.
refused() {
	local tool=$1 which=$2 before
	shift 2
	before=$(state)
	run --separate-stderr "$tool" "$@"
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" "$tool: $which is empty: nothing was sent"
	assert_equal "$(tail -1 <<<"$stderr")" "See $tool(1)."
	assert_equal "$(state)" "$before"
}

@test "ciq-release '' is refused and releases nothing" {
	populate a b
	ciq-pop -n 2 >/dev/null
	refused ciq-release "test id 1 of 1" -- ''
	assert_equal "$(members running)" $'a\nb'
}

@test "ciq-release with an empty id among others releases none of them" {
	populate a b
	ciq-pop -n 2 >/dev/null
	refused ciq-release "test id 2 of 3" -- a '' b
	assert_equal "$(members running)" $'a\nb'
	assert_equal "$(counter released)" ""
}

@test "ciq-ack '' is refused and records nothing" {
	populate a
	ciq-pop >/dev/null
	refused ciq-ack "test id 1 of 1" -- ''
	refused ciq-ack "test id 2 of 2" --failed -- a ''
	assert_equal "$(result a)" ""
}

@test "ciq-ack --junit with an empty id is refused before the report is read" {
	populate a
	ciq-pop >/dev/null
	refused ciq-ack "test id 1 of 1" --junit "$BATS_TEST_TMPDIR/missing.xml" -- ''
}

@test "ciq-requeue '' is refused and requeues nothing" {
	populate a
	ciq-pop >/dev/null
	refused ciq-requeue "test id 1 of 1" --max-requeues 1 --requeue-tolerance 1 -- ''
	refused ciq-requeue "test id 1 of 2" --max-requeues 1 --requeue-tolerance 1 -- '' a
	assert_equal "$(members running)" a
}

@test "a non-empty id still works after the refusals" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack -- ''
	assert_equal "$status" "$CIQ_EX_USAGE"
	run --separate-stderr ciq-ack -- a
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(result a | cut -d' ' -f1)" p
}
