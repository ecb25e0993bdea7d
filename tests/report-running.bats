#!/usr/bin/env bats
#
# When ciq-report gives up waiting (--report-timeout, --inactive-timeout,
# --no-wait), it names every test still running, the worker that holds
# it and how long it has run, by the server's clock, in the text, the
# JSON and the Markdown: a test hung on a live worker is found at once.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	hb_setup hung
	# The runner hangs until the file "release" appears.
	cat >"$BATS_TEST_TMPDIR/run" <<'SH'
#!/bin/sh
echo $$ >>"$STATE/runners"
while [ ! -e "$STATE/release" ]; do sleep 0.05; done
SH
	chmod +x "$BATS_TEST_TMPDIR/run"
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

teardown() { hb_teardown; }

# server_ms: the server's clock, in ms.
server_ms() {
	local t
	t=$(rcli TIME | tr '\n' ' ')
	set -- $t
	echo $(($1 * 1000 + $2 / 1000))
}

# started ID AGO_MS: ID's reservation (in its owner value, "WORKER MS"),
# moved AGO_MS into the past.
started() {
	rcli HSET "$(key owner)" "$1" "$(holder "$1") $(($(server_ms) - $2))" >/dev/null
}

# section TITLE: the lines of the text report's section starting with
# TITLE, up to the blank line that ends it.
section() {
	printf '%s\n' "$output" | awk -v t="$1" 'index($0, t) == 1 { on = 1 } on && $0 == "" { exit } on { print }'
}

@test "a test hung on a live worker: the report gives up and names it, its worker and for how long" {
	populate a b
	loop &
	wait_for 100 one_running
	wait_for 40 has_heartbeat
	# The worker is alive: its heartbeat refreshes the reservation.
	local first
	first=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$first"
	# It has been running for an hour (a heartbeat leaves the owner value be).
	started a 3600000
	run --separate-stderr ciq-report --report-timeout 1 --inactive-timeout 100
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" ''
	assert_equal "$(section 'Never run')" "Never run (2):
  QUEUED b
  UNFINISHED a  [held by worker $W]"
	assert_equal "$(section 'Still running')" "Still running when the report gave up (1):
  RUNNING a  [worker $W, for 1h 00m]"
	assert_equal "${lines[-1]}" 'UNFINISHED: 2 tests not run yet when the report timeout expired'
	# Nobody took it from its live worker meanwhile.
	assert_equal "$(counter reclaimed)" ''
}

@test "--json: running, with the worker, the reservation and how long, by the server's clock" {
	populate a
	loop &
	wait_for 100 one_running
	wait_for 40 has_heartbeat
	local before
	before=$(server_ms)
	run --separate-stderr ciq-report --json --report-timeout 1.5 --inactive-timeout 100
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" ''
	local j=$output
	assert_equal "$(jq -c '[.verdict, .exit_status, (.running | length)]' <<<"$j")" '["unfinished",75,1]'
	assert_equal "$(jq -c '.running[0] | keys_unsorted' <<<"$j")" \
		'["id","worker","started_ms","running_ms","requeues","reclaims","attempts"]'
	assert_equal "$(jq -c '.running[0] | [.id, .worker, .requeues, .reclaims, .attempts]' <<<"$j")" \
		"[\"a\",\"$W\",0,0,1]"
	# Reserved before the report started; running from then to the
	# report's end (now, for an unfinished build).
	assert_equal "$(jq --argjson b "$before" '.running[0].started_ms <= $b' <<<"$j")" true
	assert_equal "$(jq '.running[0] | .running_ms >= 1500 and .running_ms < 60000' <<<"$j")" true
	assert_equal "$(jq '.running[0].running_ms == .time.end_ms - .running[0].started_ms' <<<"$j")" true
	# The text says the same, to the tenth of a second.
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_line --regexp "^  RUNNING a  \\[worker $W, for [0-9]+\\.[0-9] s\\]\$"
}

@test "several running: the longest first, an unknown start last; Markdown too" {
	export CIQ_HEARTBEAT=0
	populate a b c d
	assert_equal "$(ciq-pop --worker 1)" a
	assert_equal "$(ciq-pop --worker 2)" b
	assert_equal "$(ciq-pop --worker 3)" c
	started a 5400000
	started b 10800000
	# An owner value without its time (not one ciq writes): unknown.
	rcli HSET "$(key owner)" c 3 >/dev/null
	run --separate-stderr ciq-report --no-wait --markdown "$OUT/summary.md"
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" ''
	assert_equal "$(section 'Still running')" "Still running when the report gave up (3):
  RUNNING b  [worker 2, for 3h 00m]
  RUNNING a  [worker 1, for 1h 30m]
  RUNNING c  [worker 3, for ?]"
	grep -Fxq -- '- <code>b</code>: still running on worker <code>2</code>, for 3h 00m' "$OUT/summary.md"
	grep -Fxq -- '- <code>c</code>: still running on worker <code>3</code>, for ?' "$OUT/summary.md"
	grep -Fxq -- '- <code>d</code>: still queued' "$OUT/summary.md"
	run ciq-report --no-wait --json
	assert_equal "$(jq -c '.running | map([.id, .worker, .running_ms != null, .started_ms != null])' <<<"$output")" \
		'[["b","2",true,true],["a","1",true,true],["c","3",false,false]]'
}

@test "an abandoned build names the test its silent worker still holds" {
	export CIQ_HEARTBEAT=0
	populate a b
	assert_equal "$(ciq-pop --worker 5)" a
	started a 7200000
	run --separate-stderr ciq-report --inactive-timeout 0.5 --timeout 100
	assert_equal "$status" "$CIQ_EX_ABANDONED"
	assert_equal "$stderr" ''
	assert_equal "$(section 'Still running')" "Still running when the report gave up (1):
  RUNNING a  [worker 5, for 2h 00m]"
	assert_equal "${lines[-1]}" 'ABANDONED: 2 tests left unrun and no worker showed life for 0.5 s'
}

@test "a finished build has nothing running: no section, an empty array" {
	export CIQ_HEARTBEAT=0
	populate a b
	work 0
	run --separate-stderr ciq-report
	assert_success
	refute_line --partial 'Still running'
	run ciq-report --json
	assert_success
	assert_equal "$(jq -c .running <<<"$output")" '[]'
}
