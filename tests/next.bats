#!/usr/bin/env bats
#
# ciq-ack --next: the results and the worker's next reservation in one
# call (lua/next.lua), then what ciq-pop does: print the next id, wait
# while tests run elsewhere, stop on the circuit breakers, tell the
# loop's heartbeat. The loop is
#   t=$(ciq-pop) && while :; do run "$t"; t=$(ciq-ack --next -- "$t") || break; done

load test_helper
load cluster_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	F=$BATS_TEST_DIRNAME/fixtures/junit
}

# Background calls, the runners of a heartbeat test, their heartbeats and
# a test's own cluster: stopped by pid.
teardown() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "${W:-}" ]; then
		for p in $(heartbeats); do kill -9 "$p" 2>/dev/null || true; done
	fi
	cluster_stop "${CLUSTER_DIR:-}"
}

# heartbeats: the pids of worker $W's heartbeats. A heartbeat keeps the
# command line of the tool that started it: ciq-pop's, or ciq-ack's when
# a --next handed out the loop's first test. (test_helper's matches
# ciq-pop only; this one serves has_heartbeat and no_heartbeat too.)
heartbeats() {
	# The tool's name is not in awk's own arguments, so awk never matches itself.
	ps -eo pid=,args= | awk -v w="--worker $W" \
		'index($0, "ciq-pop " w) || index($0, "ciq-ack " w " ") { print $1 }'
}

# next_loop W: the loop of worker W, one call per test. Ids starting
# with "fail" fail (with the output "output of ID") unless
# $BATS_TEST_TMPDIR/fixed exists, ids starting with "skip" are skipped,
# the others pass. Each id run is appended to $BATS_TEST_TMPDIR/ran.W.
# Returns the status that ended the loop: 1 is the normal end.
next_loop() {
	local w=$1 t out=$BATS_TEST_TMPDIR/out.$1
	local flags
	t=$(ciq-pop --worker "$w") || return
	while :; do
		printf '%s\n' "$t" >>"$BATS_TEST_TMPDIR/ran.$w"
		flags=()
		case $t in
		fail*)
			if [ ! -e "$BATS_TEST_TMPDIR/fixed" ]; then
				printf 'output of %s\n' "$t" >"$out"
				flags=(--failed --output "$out")
			fi
			;;
		skip*) flags=(--skipped) ;;
		esac
		t=$(ciq-ack --worker "$w" "${flags[@]}" --next -- "$t") || return
	done
}

# order W: worker W's recorded order, marker first, as redis-cli prints it.
order() {
	rcli LRANGE "$(key "order:$1")" 0 -1
}

# held_ms ID: the milliseconds of ID's result, what --long prints.
held_ms() {
	result "$1" | cut -d' ' -f2
}

# bg_next NAME ARGS...: ciq-ack ARGS in the background, for at most 10 s
# (a hang shows as 124); its pid in BG_PID, its output and errors in
# $BATS_TEST_TMPDIR/NAME.out and NAME.err.
bg_next() {
	local name=$1
	shift
	timeout 10 ciq-ack "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 3>&- &
	BG_PID=$!
}

# bg_wait: wait for the background call; its status in BG_RC.
bg_wait() {
	BG_RC=0
	wait "$BG_PID" || BG_RC=$?
}

# --- the loop ---------------------------------------------------------------

@test "one worker runs a whole build with one call per test: every test recorded once, the report green" {
	populate t1 t2 t3 t4 t5
	run --separate-stderr next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf 't%s\n' 1 2 3 4 5)"
	assert_equal "$(records results)" 5
	assert_equal "$(counter passed)" 5
	assert_equal "$(records running)" 0
	for t in t1 t2 t3 t4 t5; do
		run result "$t"
		assert_output --regexp '^p [0-9]+ 0$'
	done
	# Each handed out once, in order.
	assert_equal "$(order 0)" "$(printf '\nt%s' 1 2 3 4 5)"
	run ciq-report
	assert_success
	assert_line "PASSED: 5 tests, 5 passed, 0 skipped"
	# The last call marked the worker finished, as ciq-pop's last does.
	[ "$(rcli ZSCORE "$(key workers)" 0 | cut -c1)" = - ]
}

@test "a loop of passes, failures and skips records each as it was acked" {
	populate pass1 fail2 skip3 pass4 fail5
	run --separate-stderr next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf '%s\n' pass1 fail2 skip3 pass4 fail5)"
	assert_equal "$(result pass1 | cut -c1)$(result fail2 | cut -c1)$(result skip3 | cut -c1)$(result pass4 | cut -c1)$(result fail5 | cut -c1)" pfspf
	assert_equal "$(rcli HGET "$(key output)" fail2)" 'output of fail2'
	assert_equal "$(rcli HGET "$(key output)" fail5)" 'output of fail5'
	assert_equal "$(records output)" 2
	run ciq-report
	assert_equal "$status" 1
	assert_line "FAILED: 2 of 5 tests failed"
}

@test "four workers at once with --next: no id runs twice, every id has one result" {
	four_loops_one_build next_loop
}

# --- output -----------------------------------------------------------------

@test "--next prints the next id alone; -l the held line of the ack, then the attempt and origin" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	run --separate-stderr ciq-ack --next -- a
	assert_success
	assert_output b
	assert_equal "$stderr" ''
	run --separate-stderr ciq-ack --next -l -- b
	assert_success
	assert_output "$(held_ms b) b
1 queue c"
	assert_equal "$stderr" ''
	# The last ack: the held line, then nothing to hand out.
	run --separate-stderr ciq-ack --next --long -- c
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output "$(held_ms c) c"
	assert_equal "$stderr" ''
}

@test "-l gives a requeued test's attempt; a repeated ack's held time is -" {
	populate a b
	assert_equal "$(ciq-pop)" a
	assert_equal "$(ciq-pop --worker 1)" b
	ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- b
	ciq-ack -- a
	# a again: recorded before, ended nothing; b is its second attempt.
	run --separate-stderr ciq-ack --next -l -- a
	assert_success
	assert_output "- a
2 queue b"
	assert_equal "$stderr" "ciq-ack: 'a' already has a result: this one is ignored"
}

@test "several ids in one --next call: all recorded, one next test" {
	populate a b c d e
	run ciq-pop -n 3
	assert_output "a
b
c"
	run --separate-stderr ciq-ack --next -l --skipped -- a b c
	assert_success
	assert_output "$(held_ms a) a
$(held_ms b) b
$(held_ms c) c
1 queue d"
	assert_equal "$stderr" ''
	assert_equal "$(counter skipped)" 3
	assert_equal "$(running)" d
	assert_equal "$(queue)" e
}

@test "--failed --output with --next stores the output and hands out the next test" {
	populate a b c
	ciq-pop >/dev/null
	printf 'boom\nat line 3\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" --next -- a
	assert_success
	assert_output b
	assert_equal "$stderr" ''
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(rcli HGET "$(key output)" a)" "$(printf 'boom\nat line 3')"
	assert_equal "$(counter failed)" 1
	# A skip's output is read, not kept.
	run ciq-ack --next --skipped --output - -- b <<<'not kept'
	assert_success
	assert_output c
	run result b
	assert_output --regexp '^s [0-9]+ 0$'
	assert_equal "$(rcli HEXISTS "$(key output)" b)" 0
	# The last one, from standard input.
	run --separate-stderr ciq-ack --next -f -o - -- c <<<'from stdin'
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(rcli HGET "$(key output)" c)" 'from stdin'
	assert_equal "$(counter failed)" 2
	assert_equal "$(counter skipped)" 1
}

@test "an output that cannot be read with --next records nothing and reserves nothing" {
	populate a b
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --failed --output "$BATS_TEST_TMPDIR/missing" -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: cannot open '$BATS_TEST_TMPDIR/missing': No such file or directory: nothing was recorded"
	assert_equal "$(records results)" 0
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
}

@test "--junit with --next attaches the testcases and hands out the next test" {
	populate tests/test_cart.py tests/test_user.py
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --failed --junit "$F/pytest.xml" -- tests/test_cart.py
	assert_success
	assert_output tests/test_user.py
	assert_equal "$stderr" ''
	assert_equal "$(records cases)" 1
	run ciq-report --no-wait --json
	assert_equal "$(jq -c '.tests[] | select(.id == "tests/test_cart.py") | [.outcome, (.cases | length)]' <<<"$output")" '["failed",5]'
	# A broken report: nothing recorded, nothing reserved, the test still held.
	run --separate-stderr ciq-ack --next --junit "$F/truncated.xml" -- tests/test_user.py
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$(records results)" 1
	assert_equal "$(running)" tests/test_user.py
	# --junit takes one test, with --next too.
	run --separate-stderr ciq-ack --next --junit "$F/pytest.xml" -- tests/test_user.py tests/test_cart.py
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr_lines[0]}" "ciq-ack: --junit takes one test, not 2"
}

# --- the end of the loop ----------------------------------------------------

@test "the last --next records its result, exits 1 and marks the worker finished" {
	populate a
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --failed -- a
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(records running)" 0
	[ "$(rcli ZSCORE "$(key workers)" 0 | cut -c1)" = - ]
	run ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
	run ciq-report
	assert_equal "$status" 1
	assert_line "FAILED: 1 of 1 tests failed"
}

@test "an id that is not this worker's: exit 65, nothing recorded for it, nothing reserved" {
	populate a b c d
	assert_equal "$(ciq-pop --worker 1)" a
	assert_equal "$(ciq-pop)" b
	run --separate-stderr ciq-ack --next -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: 'a' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
	assert_equal "$(queue)" "$(printf 'c\nd')"
	assert_equal "$(running)" "$(printf 'a\nb')"
	assert_equal "$(holder a)" 1
	# With one of its own: that one is recorded, still nothing reserved.
	run --separate-stderr ciq-ack --next -l -- b a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output "$(held_ms b) b
- a"
	assert_equal "$stderr" "ciq-ack: 'a' was never reserved by worker '0': not recorded"
	run result b
	assert_output --regexp '^p [0-9]+ 0$'
	assert_equal "$(result a)" ''
	assert_equal "$(queue)" "$(printf 'c\nd')"
	assert_equal "$(running)" a
	assert_equal "$(order 0)" "
b"
	# An id not in the build at all.
	run --separate-stderr ciq-ack --next -- nope
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: 'nope' was never reserved by worker '0': not recorded"
	assert_equal "$(queue)" "$(printf 'c\nd')"
	assert_equal "$(running)" a
}

# --- waiting ----------------------------------------------------------------

@test "--next waits while another worker holds the last test, and takes it when requeued" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	bg_next w0 --next -- a
	wait_for 100 blocked 0
	# Recorded before the wait.
	run result a
	assert_output --regexp '^p [0-9]+ 0$'
	ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- b
	bg_wait
	assert_equal "$BG_RC" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" b
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.err")" ''
	assert_equal "$(holder b)" 0
	assert_equal "$(records waiting)" 0
}

@test "--next waits, and takes the last test when its holder releases it" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	bg_next w0 --next -l -- a
	wait_for 100 blocked 0
	ciq-release --worker 1
	bg_wait
	assert_equal "$BG_RC" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" "$(held_ms a) a
1 queue b"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.err")" ''
	assert_equal "$(holder b)" 0
}

@test "--next waits, and exits 1 when the holder of the last test acks it" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	bg_next w0 --next -- a
	wait_for 100 blocked 0
	ciq-ack --worker 1 -- b
	bg_wait
	assert_equal "$BG_RC" "$CIQ_EX_NO"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.err")" ''
	assert_equal "$(records results)" 2
	run ciq-report
	assert_success
}

@test "a --next killed while it waits keeps its result; the worker's next call goes on" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	ciq-ack --next -- a >"$BATS_TEST_TMPDIR/w0.out" 2>&1 3>&- &
	BG_PID=$!
	wait_for 100 blocked 0
	kill -TERM "$BG_PID"
	bg_wait
	assert_equal "$BG_RC" 143
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" ''
	run result a
	assert_output --regexp '^p [0-9]+ 0$'
	ciq-ack --worker 1 -- b
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	run ciq-report
	assert_success
}

@test "--next takes a lost test first, with ciq-pop's warning" {
	populate a b c
	ciq-pop --worker 1 --timeout 0.5 >/dev/null
	ciq-pop --timeout 0.5 >/dev/null
	wait_for 100 lost a 500
	run --separate-stderr ciq-ack --next -l --timeout 0.5 -- b
	assert_success
	assert_output "$(held_ms b) b
2 reclaim a"
	assert_equal "$stderr" "ciq-ack: reclaimed 'a' from worker 1, silent for over 0.5 s"
	assert_equal "$(holder a)" 0
	assert_equal "$(queue)" c
}

# --- circuit breakers -------------------------------------------------------

@test "--max-failures: the ack that reaches it records, warns as ciq-pop does and exits 1" {
	printf 't%s\n' 1 2 3 4 | ciq-populate --order given --max-failures 2
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --failed -- t1
	assert_success
	assert_output t2
	assert_equal "$stderr" ''
	run --separate-stderr ciq-ack --next --failed -- t2
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: the build stopped: 2 tests failed (--max-failures 2)"
	assert_equal "$(counter failed)" 2
	run result t2
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(queue)" "$(printf 't3\nt4')"
	assert_equal "$(records running)" 0
	run ciq-report
	assert_equal "$status" "$CIQ_EX_STOPPED"
}

@test "--max-consecutive-failures stops this worker after recording; another takes the rest" {
	populate t1 t2 t3 t4
	ciq-pop >/dev/null
	run ciq-ack --next --failed --max-consecutive-failures 2 -- t1
	assert_output t2
	run --separate-stderr ciq-ack --next --failed --max-consecutive-failures 2 -- t2
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: worker '0' stops: 2 tests failed in a row on it (--max-consecutive-failures 2); other workers take the rest"
	assert_equal "$(counter failed)" 2
	assert_equal "$(queue)" "$(printf 't3\nt4')"
	# A pass resets the streak: with CIQ_MAX_CONSECUTIVE_FAILURES, a
	# worker that fails, passes and fails goes on.
	export CIQ_MAX_CONSECUTIVE_FAILURES=2
	assert_equal "$(ciq-pop --worker 1)" t3
	run ciq-ack --worker 1 --next --failed -- t3
	assert_output t4
	run ciq-ack --worker 1 --next -- t4
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(rcli HGET "$(key wstats)" 1:streak)" 0
}

@test "--max-duration: past it the ack records, warns as ciq-pop does and exits 1" {
	populate t1 t2
	assert_equal "$(ciq-pop --max-duration 0.001)" t1
	# Its next call comes more than 1 ms after its first pop, by the server's clock.
	run --separate-stderr ciq-ack --next --max-duration 0.001 -- t1
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: worker '0' stops: its --max-duration of 0.001 s since its first pop is over; other workers take the rest"
	run result t1
	assert_output --regexp '^p [0-9]+ 0$'
	assert_equal "$(queue)" t2
	run ciq-pop --worker 1 --max-duration 30
	assert_output t2
}

# --- grind and retry ----------------------------------------------------------

@test "a grind with --next: every run handed out and recorded on its own" {
	printf 't%s\n' 1 2 | ciq-populate --order given --repeat 3
	run --separate-stderr next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf 't%s\n' 1 2 1 2 1 2)"
	assert_equal "$(records results)" 6
	assert_equal "$(counter passed)" 6
	assert_equal "$(records held)" 0
	local k
	for k in 1 2 3; do
		run rcli HGET "$(key results)" "$(printf 't1\n%s' "$k")"
		assert_output --regexp '^p [0-9]+ 0$'
	done
	run ciq-report
	assert_success
}

@test "a grind: --next acks the oldest run this worker holds and may hand out another run of it" {
	printf 't1\n' | ciq-populate --repeat 3
	run ciq-pop -n 2
	assert_output "t1
t1"
	run ciq-ack --next --failed -- t1
	assert_success
	assert_output t1
	assert_equal "$(rcli HGET "$(key held)" "$(printf '0\nt1')")" "2 3"
	assert_equal "$(rcli HGET "$(key results)" "$(printf 't1\n1')" | cut -c1)" f
	run ciq-ack --next -- t1 t1
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(records held)" 0
	assert_equal "$(counter passed)" 2
}

@test "a retried job's --next loop runs its own failures again and the report turns green" {
	printf '%s\n' pass1 fail2 pass3 | ciq-populate --order given
	run next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	run ciq-report
	assert_equal "$status" 1
	: >"$BATS_TEST_TMPDIR/fixed"
	rm "$BATS_TEST_TMPDIR/ran.0"
	run --separate-stderr ciq-populate --retry true < <(printf '%s\n' pass1 fail2 pass3)
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 1 failed tests again"
	run --separate-stderr next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-ack: 'fail2' both passed and failed: recorded as flaky"
	assert_equal "$(ran 0)" fail2
	run ciq-report
	assert_success
	assert_line "PASSED: 3 tests, 3 passed, 0 skipped"
}

# --- the heartbeat ------------------------------------------------------------

# log: the content of this test's one loop log.
log() {
	cat "$XDG_RUNTIME_DIR/ciq-$(id -u)"/hb-*
}

# clients N: the server has N client connections (the one asking included).
clients() {
	[ "$(rcli CLIENT LIST | wc -l)" = "$1" ]
}

# next_as_loop ARGS...: ciq-ack --worker $W --next ARGS run as the loop
# runs it, a child of this shell (bats runs $(...) in a subshell of its
# own, see the subshell test below); the id in $t, the status in $rc.
next_as_loop() {
	rc=0
	ciq-ack --worker "$W" --next "$@" >"$STATE/next" || rc=$?
	t=$(cat "$STATE/next")
}

@test "the heartbeat: the acked test leaves the loop's log, the next one is beaten for" {
	hb_setup nx
	populate a b c
	local hb score
	t=$(ciq-pop --worker "$W")
	wait_for 40 has_heartbeat
	hb=$(heartbeats)
	next_as_loop -- "$t"
	assert_equal "$rc" 0
	assert_equal "$t" b
	assert_equal "$(log)" $'+a\n-a\n+b'
	# The same heartbeat, now beating for b.
	assert_equal "$(heartbeats)" "$hb"
	score=$(rcli ZSCORE "$(key running)" b)
	wait_for 40 beats_seen "$score" b
	assert_equal "$(running)" b
	next_as_loop -- "$t"
	assert_equal "$t" c
	next_as_loop -- "$t"
	assert_equal "$rc" "$CIQ_EX_NO"
	assert_equal "$t" ''
	assert_equal "$(log)" $'+a\n-a\n+b\n-b\n+c\n-c'
	# Nothing left to beat for: it lets its connection go.
	wait_for 40 clients 1
	assert_equal "$(heartbeats)" "$hb"
	assert_equal "$(counter released)" ''
	assert_equal "$(counter reclaimed)" ''
}

@test "a --next that hands out the loop's first test starts the heartbeat" {
	hb_setup nx
	populate a b
	local score
	t=$(ciq-pop --worker "$W")
	wait_for 40 has_heartbeat
	# shellcheck disable=SC2046 # one pid, or none
	kill -9 $(heartbeats)
	wait_for 40 no_heartbeat
	next_as_loop -- "$t"
	assert_equal "$t" b
	wait_for 40 has_heartbeat
	run ps -o args= -p "$(heartbeats)"
	assert_output "ciq-ack --worker $W --next -- a"
	score=$(rcli ZSCORE "$(key running)" b)
	wait_for 40 beats_seen "$score" b
	assert_equal "$(holder b)" "$W"
}

# In t=$(ciq-ack --next -- "$t") run by a subshell rather than by the
# loop itself (bash with set -E and an ERR trap, as bats and many CI
# scripts have; "$(...; :)"), both the next test's "+b" and the acked
# test's "-a" reach the loop's log: each is found as ciq_proc_loop finds
# the loop. (The "-a" went to the subshell's log once.)
@test "in a \$(...) subshell, --next tells the loop's heartbeat both the acked test and the next" {
	hb_setup nx
	populate a b
	t=$(ciq-pop --worker "$W")
	wait_for 40 has_heartbeat
	# "; :" keeps the shell from running ciq-ack in place of the subshell.
	t=$(ciq-ack --worker "$W" --next -- "$t"; :)
	assert_equal "$t" b
	assert_equal "$(log)" $'+a\n-a\n+b'
}

# embed_next SCRIPT: lua/embed.sh's header for SCRIPT as next.lua, with
# its parts, as the Makefile makes build/lua/next.h.
embed_next() {
	sh "$CIQ_ROOT/lua/embed.sh" next "$CIQ_ROOT/lua/prelude.lua" "$1" \
		"$CIQ_ROOT/lua/fast.lua" "$CIQ_ROOT/lua/ack.lua" "$CIQ_ROOT/lua/pop.lua"
}

@test "embed.sh refuses a composed script that does not say once where a part, or the prelude, goes" {
	local dir=$BATS_TEST_TMPDIR
	grep -v '^-- PART: pop.lua$' "$CIQ_ROOT/lua/next.lua" >"$dir/none.lua"
	run --separate-stderr embed_next "$dir/none.lua"
	assert_equal "$status" 1
	assert_output ''
	assert_equal "$stderr" "embed.sh: $dir/none.lua needs one line '-- PART: pop.lua'"
	{ cat "$CIQ_ROOT/lua/next.lua"; echo '-- PART: ack.lua'; } >"$dir/twice.lua"
	run --separate-stderr embed_next "$dir/twice.lua"
	assert_equal "$status" 1
	assert_equal "$stderr" "embed.sh: $dir/twice.lua needs one line '-- PART: ack.lua'"
	{ cat "$CIQ_ROOT/lua/next.lua"; echo '-- PRELUDE'; } >"$dir/prelude2.lua"
	run --separate-stderr embed_next "$dir/prelude2.lua"
	assert_equal "$status" 1
	assert_output ''
	assert_equal "$stderr" "embed.sh: $dir/prelude2.lua has more than one line '-- PRELUDE'"
}

# --- replayed calls -------------------------------------------------------------

# now_nonce: a nonce of this moment, as the tools make them (lib/script.c).
now_nonce() {
	printf '%016x%08x\n' $(($(date +%s%N) / 1000)) "$RANDOM"
}

# next_call NONCE ARG...: lua/next.lua called by hand for worker 0, as
# lua/embed.sh puts it together for the tools, as a client repeating a
# call after a lost reply sends it. ARGV after the nonce and
# the worker: timeout_ms count max_consecutive_failures waited
# max_duration_ms status output has_output cases has_cases id...
next_call() {
	local nonce=$1 dir=$BATS_TEST_TMPDIR k keys=()
	shift
	embed_next "$CIQ_ROOT/lua/next.lua" >"$dir/next.h"
	# The script and its key names, as the header the tools are built
	# with has them.
	python3 "$CIQ_ROOT/lua/unembed.py" "$dir/next.h" "$dir/next.lua" >"$dir/keys"
	while IFS= read -r k; do
		case $k in
		*:) keys+=("$(key "$k")0") ;;
		*) keys+=("$(key "$k")") ;;
		esac
	done <"$dir/keys"
	rcli --eval "$dir/next.lua" "${keys[@]}" , "$nonce" 0 "$@" | tr '\0' '\n'
}

@test "a --next call repeated with the same nonce records once and reserves once" {
	populate a b c
	ciq-pop >/dev/null
	local n first
	n=$(now_nonce)
	run next_call "$n" 30000 1 0 0 0 pass '' 0 '' 0 a
	# As kept: the number of ack.lua's strings, ack.lua's reply, then pop.lua's.
	assert_output --regexp $'^5\nok\na\nrecorded\n1\n[0-9]+\nok\nb\nqueue\n\n1$'
	first=$output
	run next_call "$n" 30000 1 0 0 0 pass '' 0 '' 0 a
	assert_output "$first"
	assert_equal "$(records results)" 1
	assert_equal "$(counter passed)" 1
	assert_equal "$(running)" b
	assert_equal "$(queue)" c
	assert_equal "$(order 0)" "
a
b"
	# A new call goes on.
	run next_call "$(now_nonce)" 30000 1 0 0 0 fail '' 0 '' 0 b
	assert_output --regexp $'^5\nok\nb\nrecorded\n1\n[0-9]+\nok\nc\nqueue\n\n1$'
	assert_equal "$(counter failed)" 1
}

@test "a late copy of a --next call, after the worker's next one, records nothing and takes nothing" {
	populate a b c d
	ciq-pop >/dev/null
	local n
	n=$(now_nonce)
	run next_call "$n" 30000 1 0 0 0 pass '' 0 '' 0 a
	assert_output --regexp $'^5\nok\na\nrecorded\n1\n[0-9]+\nok\nb\nqueue\n\n1$'
	run ciq-ack --next -- b
	assert_output c
	# The very call again, late: a newer call of this worker ran (the
	# call's one reply, kept for the worker, is the newer one's): stale,
	# and neither part runs.
	run next_call "$n" 30000 1 0 0 0 pass '' 0 '' 0 a
	assert_output stale
	assert_equal "$(counter passed)" 2
	assert_equal "$(records results)" 2
	assert_equal "$(running)" c
	assert_equal "$(queue)" d
}

# server_busy: the server answers no one (a condition for wait_for).
server_busy() {
	! timeout 0.2 redis-cli -s "$REDIS_SOCK" PING
}

@test "a reply lost while the server is busy: the tool sends again, nothing is done twice" {
	populate a b c
	ciq-pop >/dev/null
	rcli CONFIG RESETSTAT >/dev/null
	# A script that keeps the server busy for 2 s: the call waits in
	# the socket, ciq-ack gives up after its 0.3 s command timeout and
	# sends it again on a new connection; the server then runs the first
	# copy, whose reply nobody reads, and the repeat.
	rcli EVAL "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2]
		repeat local t = redis.call('TIME') until t[1] * 1000000 + t[2] - t0 > 2000000
		return 1" 0 >/dev/null 3>&- &
	wait_for 100 server_busy
	run --separate-stderr ciq-ack --next --command-timeout 0.3 -- a
	assert_success
	assert_output b
	# Neither "already has a result" nor a second test.
	assert_equal "$stderr" ''
	wait
	# The busy script, and ciq-ack's call at least twice.
	[ "$(script_calls)" -ge 3 ]
	assert_equal "$(records results)" 1
	assert_equal "$(counter passed)" 1
	assert_equal "$(running)" b
	assert_equal "$(queue)" c
	assert_equal "$(order 0)" "
a
b"
}

# --- the fast path (lua/fast.lua) -------------------------------------------------

# state: every key of the current build, its type, whether it has a
# deadline, and what it holds (sorted where the order means nothing),
# with the build's name written B (in its keys and its seed), a nonce
# N..., and each run of digits N (times and durations differ from one
# run to the next).
state() {
	local k type
	for k in $(rcli --scan --pattern "ciq:{$CIQ_BUILD}:*" | sort); do
		type=$(rcli TYPE "$k")
		printf '%s %s deadline=%s\n' "$k" "$type" "$(($(rcli TTL "$k") > 0))"
		case $type in
		hash) rcli --no-raw HGETALL "$k" | sed 's/^ *[0-9]*) //' | paste - - | sort ;;
		list) rcli --no-raw LRANGE "$k" 0 -1 | sed 's/^ *[0-9]*) //' ;;
		zset) rcli --no-raw ZRANGE "$k" 0 -1 WITHSCORES | sed 's/^ *[0-9]*) //' | paste - - ;;
		set) rcli --no-raw SMEMBERS "$k" | sed 's/^ *[0-9]*) //' | sort ;;
		esac
	done | sed "s/$CIQ_BUILD/B/g; s/[0-9a-f]\{24\}/N.../g; s/[0-9]\+/N/g"
}

# slow_loop: worker 0's loop with --next, each test held 20 ms; ids
# starting with "skip" are skipped, the others pass. Ends as the loop does.
slow_loop() {
	local t flags
	t=$(ciq-pop) || return
	while :; do
		sleep 0.02
		flags=()
		[[ $t != skip* ]] || flags=(--skipped)
		t=$(ciq-ack "${flags[@]}" --next -- "$t") || return
	done
}

@test "the fast path leaves the records, deadlines and replies the general path leaves" {
	local ids=(p1 skip2 p3 p4 skip5 p6 p7 p8) fast general base=$CIQ_BUILD
	# The same build twice: once as it is, once with meta's flag of a
	# retried job (whose own workers the general path serves first: none
	# here), which the fast path leaves to the general path. (HEXISTS: the
	# fast path asks whether the test has a result, in every --next call;
	# the general path, in these, never.)
	export CIQ_BUILD=$base-fast
	populate "${ids[@]}"
	rcli CONFIG RESETSTAT >/dev/null
	run slow_loop
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(calls hexists)" 8
	fast=$(state)
	export CIQ_BUILD=$base-general
	populate "${ids[@]}"
	rcli HSET "$(key meta)" retrying 1 >/dev/null
	rcli CONFIG RESETSTAT >/dev/null
	run slow_loop
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(calls hexists)" 0
	rcli HDEL "$(key meta)" retrying >/dev/null
	general=$(state)
	assert_equal "$fast" "$general"
	# Both ran every test once, in order, with its own result; the
	# worker's busy time is its tests' held times.
	for CIQ_BUILD in "$base-fast" "$base-general"; do
		assert_equal "$(order 0)" "$(printf '\n%s' "${ids[@]}")"
		assert_equal "$(rcli HGET "$(key results)" skip2 | cut -c1)$(rcli HGET "$(key results)" p3 | cut -c1)" sp
		assert_equal "$(rcli HGET "$(key wstats)" 0:busy_ms)" \
			"$(rcli HVALS "$(key results)" | awk '$3 == "0" { s += $2 } END { print s }')"
		[ "$(held_ms p1)" -ge 20 ]
	done
}

# requeue_run: two workers, one build with requeues: worker 1 requeues
# two tests, worker 0 takes them from the queue's head with --next (the
# first, a second attempt, it skips; the second passes: flaky), then
# requeues one itself, which --next passes over while worker 1 is alive.
# Prints what each call printed, a line each.
requeue_run() {
	local rq=(--max-requeues 2 --requeue-tolerance 1)
	ciq-pop --worker 1 && ciq-pop && ciq-requeue --worker 1 "${rq[@]}" -- a &&
		ciq-ack --next -l -- b | sed 1d && ciq-ack --skipped --next -- a &&
		ciq-pop --worker 1 && ciq-requeue --worker 1 "${rq[@]}" -- d &&
		ciq-ack --next -- c && ciq-ack --next -- d &&
		ciq-requeue "${rq[@]}" -- e && ciq-pop && ciq-ack --next -- f &&
		ciq-ack --next -- g && ciq-ack --worker 1 -- "$(ciq-pop --worker 1)" &&
		{ ciq-ack --next -- h || echo "exit $?"; }
}

@test "in a build with requeues too, the fast path leaves what the general path leaves" {
	local fast general base=$CIQ_BUILD
	export CIQ_BUILD=$base-fast
	populate a b c d e f g h
	rcli CONFIG RESETSTAT >/dev/null
	run requeue_run
	assert_success
	assert_output "$(printf '%s\n' a b '2 queue a' c d d e f g h 'exit 1')"
	# (LINDEX: the fast path looks at the queue's head in each --next
	# once the build has a requeue; it takes the calls of b, a and c, and
	# leaves d's (a pass of a requeued test), f's and g's (the head is e,
	# worker 0's own requeue) and h's (the queue is empty).)
	assert_equal "$(calls lindex)" 7
	fast=$(state)
	export CIQ_BUILD=$base-general
	populate a b c d e f g h
	rcli HSET "$(key meta)" retrying 1 >/dev/null
	rcli CONFIG RESETSTAT >/dev/null
	run requeue_run
	assert_success
	assert_output "$(printf '%s\n' a b '2 queue a' c d d e f g h 'exit 1')"
	assert_equal "$(calls lindex)" 0
	rcli HDEL "$(key meta)" retrying >/dev/null
	general=$(state)
	assert_equal "$fast" "$general"
	for CIQ_BUILD in "$base-fast" "$base-general"; do
		assert_equal "$(members flaky | sort)" $'d\ne'
		assert_equal "$(result a | cut -c1)$(result d | cut -c1)$(result e | cut -c1)" spp
	done
}

@test "what the fast path leaves to the general path: each call answers as the general path does" {
	populate a b c d e f
	assert_equal "$(ciq-pop)" a
	# A failure with its output.
	rcli CONFIG RESETSTAT >/dev/null
	assert_equal "$(ciq-ack --failed --output - --next -- a <<<'a broke')" b
	assert_equal "$(rcli HGET "$(key output)" a)" 'a broke'
	assert_equal "$(calls hexists)" 0
	# The fast path's own refusals, each before it writes. A test with a
	# record already (written behind the worker's back): the pass makes
	# it flaky, as the general path says.
	rcli HSET "$(key results)" b 'f 5 1' >/dev/null
	rcli CONFIG RESETSTAT >/dev/null
	run --separate-stderr ciq-ack --next -l -- b
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^[0-9]+ b$'
	assert_line --index 1 '1 queue c'
	assert_equal "$stderr" "ciq-ack: 'b' both passed and failed: recorded as flaky"
	assert_equal "$(calls hexists)" 1
	assert_equal "$(result b | cut -c1)" p
	assert_equal "$(rcli SISMEMBER "$(key flaky)" b)" 1
	# A test that is another worker's: refused, nothing reserved.
	assert_equal "$(ciq-pop --worker 1)" d
	run --separate-stderr ciq-ack --next -- d
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: 'd' was never reserved by worker '0': not recorded"
	assert_equal "$(holder d)" 1
	assert_equal "$(holder c)" 0
	# A key that holds records lost: meta says so, the key made again
	# gets the deadline, and the report doubts.
	rcli DEL "$(key wstats)" >/dev/null
	assert_equal "$(ciq-ack --next -- c)" e
	assert_equal "$(rcli HGET "$(key meta)" lost)" 1
	[ "$(rcli TTL "$(key wstats)")" -gt 0 ]
	# An empty queue: the last test's call ends the loop.
	assert_equal "$(ciq-ack --next -- e)" f
	ciq-ack --worker 1 -- d
	run --separate-stderr ciq-ack --next -- f
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(records results)" 6
	run ciq-report --no-wait
	assert_equal "$status" 1
	assert_equal "${lines[-1]}" 'FAILED: 1 of 6 tests failed, and keys of the build were lost (wstats)'
}

@test "with --max-failures the fast path runs until the build reaches it, then the general path stops the worker" {
	printf '%s\n' a b c d e | ciq-populate --order given --max-failures 1
	assert_equal "$(ciq-pop)" a
	assert_equal "$(ciq-pop --worker 1)" b
	rcli CONFIG RESETSTAT >/dev/null
	assert_equal "$(ciq-ack --next -- a)" c
	assert_equal "$(calls hexists)" 1
	run --separate-stderr ciq-ack --worker 1 --failed --next -- b
	assert_equal "$status" 1
	assert_equal "$stderr" 'ciq-ack: the build stopped: 1 tests failed (--max-failures 1)'
	rcli CONFIG RESETSTAT >/dev/null
	run --separate-stderr ciq-ack --next -- c
	assert_equal "$status" 1
	assert_output ''
	assert_equal "$stderr" 'ciq-ack: the build stopped: 1 tests failed (--max-failures 1)'
	assert_equal "$(calls hexists)" 0
	assert_equal "$(result c | cut -c1)" p
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" $'d\ne'
}

@test "a key the fast path makes again (workers, the order list, replies) gets the deadline, and stays doubt" {
	local name t
	populate a b c d
	t=$(ciq-pop)
	for name in workers order:0 replies; do
		assert_equal "$(rcli DEL "$(key "$name")")" 1
		rcli CONFIG RESETSTAT >/dev/null
		t=$(ciq-ack --next -- "$t")
		assert_equal "$name: $(calls hexists) $(rcli EXISTS "$(key "$name")")" "$name: 1 1"
		[ "$(rcli TTL "$(key "$name")")" -gt 0 ]
	done
	ciq-ack -- "$t"
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "${lines[-1]}" 'LOST: keys of the build were evicted or deleted (order:0, workers, replies): its records cannot be trusted'
}

# --- a vanished build, a cluster ----------------------------------------------

@test "a build whose keys were deleted: exit 82, nothing written back" {
	populate a b
	ciq-pop >/dev/null
	# shellcheck disable=SC2046
	rcli DEL $(rcli --scan --pattern "ciq:{$CIQ_BUILD}:*") >/dev/null
	local before
	before=$(rcli --scan | sort)
	run --separate-stderr ciq-ack --next -- a
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
	assert_equal "$(rcli --scan | sort)" "$before"
	assert_equal "$(rcli --scan --pattern "ciq:{$CIQ_BUILD}:*")" ''
}

@test "a --next loop on a Redis Cluster, through a node that does not serve the build's slot" {
	loop_on_other_node next_loop
}

# --- hostile input ----------------------------------------------------------------

@test "ids with spaces, quotes, \$, backslashes and a leading dash go through --next byte for byte" {
	# shellcheck disable=SC2016 # the ids are literal
	local ids=('a b' "it's" '"q"' '$HOME' 'back\slash' '-x' '--next' ' lead' 'trail ' '%s%n' '*')
	populate "${ids[@]}"
	run --separate-stderr next_loop 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf '%s\n' "${ids[@]}")"
	assert_equal "$(records results)" "${#ids[@]}"
	assert_equal "$(counter passed)" "${#ids[@]}"
	assert_equal "$(members results | LC_ALL=C sort)" "$(printf '%s\n' "${ids[@]}" | LC_ALL=C sort)"
}

@test "-l prints an odd id as it is, after its attempt and origin" {
	# shellcheck disable=SC2016 # the id is literal
	populate '-x' ' a  b\$c '
	assert_equal "$(ciq-pop)" -x
	run --separate-stderr ciq-ack --next -l -- -x
	assert_success
	assert_output "$(held_ms -x) -x
1 queue  a  b\\\$c "
}

@test "--next without a test, or with an empty one, is a usage error that touches nothing" {
	populate a b
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" 'ciq-ack: no test given'
	run --separate-stderr ciq-ack --next --
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" 'ciq-ack: no test given'
	run --separate-stderr ciq-ack --next -- ''
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" 'ciq-ack: test id 1 of 1 is empty: nothing was sent'
	run --separate-stderr ciq-ack --next=1 -- a
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-ack: option '--next' doesn't allow an argument"
	assert_equal "$(records results)" 0
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
}

@test "--next with a bad --timeout, --max-duration or streak limit records nothing" {
	populate a b
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --timeout 0 -- a
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-ack: invalid --timeout '0': expected seconds above 0, at most 10000000"
	run --separate-stderr ciq-ack --next --max-duration -1 -- a
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-ack: invalid --max-duration '-1': expected seconds"
	CIQ_MAX_CONSECUTIVE_FAILURES=x run --separate-stderr ciq-ack --next -- a
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-ack: invalid CIQ_MAX_CONSECUTIVE_FAILURES 'x': expected a whole number"
	assert_equal "$(records results)" 0
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
}

@test "--next given twice is --next once" {
	populate a b c
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --next --next -- a
	assert_success
	assert_output b
	assert_equal "$stderr" ''
	assert_equal "$(running)" b
	assert_equal "$(queue)" c
}

@test "the measures of issue 16 run: bench/next-lua.sh follows every call, script-cost.sh's loop ends" {
	run sh "$CIQ_ROOT/bench/next-lua.sh" 20
	assert_success
	assert_line --index 0 --regexp '^real +[0-9.]+ us per call \(20 calls\)$'
	assert_line --index 1 --regexp '^lua +[0-9.]+ us per call \(20 calls\)$'
	assert_line --index 2 --regexp '^empty +[0-9.]+ us per call \(20 calls\)$'
	run sh "$CIQ_ROOT/bench/script-cost.sh" "$CIQ_BIN" 20 loop
	assert_success
	assert_output --regexp '^loop: [0-9.]+ us of server time per test \(every command\); the scripts alone [0-9.]+$'
}
