#!/usr/bin/env bats
#
# ciq-loop: a worker loop's end of the queue over one connection. The
# loop writes requests on its standard input, one a line:
#   next                    -> "ATTEMPT ORIGIN ID"
#   VERB<TAB>OUTPUT<TAB>ID  -> "MS ID" (or "- ID"), then the next test,
#                              except after a refused requeue
# and reads the answers on its standard output. Exit 1: nothing left;
# 0: end of input; 64: a bad request; 65: an unreadable output or an id
# not this worker's.

load test_helper
load cluster_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	# A loop that dies on a write to a ciq-loop that exited would end
	# the test's shell: the write fails instead.
	trap '' PIPE
}

# Background loops, the heartbeats of $W, a test's own servers: by pid.
teardown() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "${W:-}" ]; then
		for p in $(heartbeats); do kill -9 "$p" 2>/dev/null || true; done
	fi
	cluster_stop "${CLUSTER_DIR:-}"
	server_stop "${TLS_DIR:-}"
}

# heartbeats: the pids of worker $W's heartbeats, which keep the command
# line of the ciq-loop that started them.
heartbeats() {
	ps -eo pid=,args= | awk -v w="--worker $W" 'index($0, "ciq-loop " w) { print $1 }'
}

# held_ms ID: the milliseconds of ID's result, what ciq-loop answers.
held_ms() {
	result "$1" | cut -d' ' -f2
}

# req VERB OUTPUT ID: one request line.
req() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3"
}

# --- a coprocess on two fifos, driven step by step ---------------------------

# co_start W ARGS...: ciq-loop --worker W ARGS, reading fifo $CO/in and
# writing $CO/out (errors in $CO/err); we write to fd $CO_W and read from
# fd $CO_R; its pid in CO_PID.
co_start() {
	local w=$1
	shift
	CO=$BATS_TEST_TMPDIR/co.$w
	mkdir -p "$CO"
	mkfifo "$CO/in" "$CO/out"
	ciq-loop --worker "$w" "$@" <"$CO/in" >"$CO/out" 2>"$CO/err" 3>&- &
	CO_PID=$!
	exec {CO_W}>"$CO/in" {CO_R}<"$CO/out"
}

# co_say LINE: send a request line.
co_say() {
	printf '%s\n' "$1" >&"$CO_W"
}

# co_read [S]: the next answer line in A; fails at the end of the answers
# (bounded: no answer within S seconds, 10 by default, fails the test).
co_read() {
	IFS= read -r -t "${1:-10}" A <&"$CO_R"
}

# co_end: close our ends (end of input), wait for ciq-loop; its status in CO_RC.
co_end() {
	exec {CO_W}>&- {CO_R}<&-
	CO_RC=0
	wait "$CO_PID" || CO_RC=$?
}

# --- a whole loop ---------------------------------------------------------------

# drive W ARGS...: the whole loop of worker W through one ciq-loop --worker
# W ARGS, as bench/loop-driver.sh drives it. Ids starting with "fail"
# fail with the output "output of ID": requeued, and recorded as failed
# when the requeue is refused; ids starting with "skip" are skipped; the
# rest pass. Appends each id handed out to ran.W and each held line to
# held.W. Returns ciq-loop's status (1: the normal end).
drive() {
	local w=$1 line t verb out=$BATS_TEST_TMPDIR/output.$1 ran=$BATS_TEST_TMPDIR/ran.$1
	local held=$BATS_TEST_TMPDIR/held.$1
	shift
	co_start "$w" "$@"
	co_say next
	while co_read; do
		# "ATTEMPT ORIGIN ID": the id is all after the second space.
		t=${A#* } t=${t#* }
		printf '%s\n' "$t" >>"$ran"
		case $t in
		fail*) verb=requeue ;;
		skip*) verb=skip ;;
		*) verb=pass ;;
		esac
		printf 'output of %s\n' "$t" >"$out"
		co_say "$(req "$verb" "$out" "$t")"
		co_read || break
		printf '%s\n' "$A" >>"$held"
		if [ "$verb" = requeue ] && [ "${A%% *}" = - ]; then
			co_say "$(req fail "$out" "$t")"
			co_read || break
			printf '%s\n' "$A" >>"$held"
		fi
	done
	co_end
	cat "$CO/err" >&2
	return "$CO_RC"
}

held() {
	cat "$BATS_TEST_TMPDIR/held.$1"
}

@test "one loop runs a whole build over one ciq-loop: every test recorded, the held lines as stored" {
	populate t1 t2 t3 t4 t5
	run --separate-stderr drive 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf 't%s\n' 1 2 3 4 5)"
	assert_equal "$(held 0)" "$(for t in t1 t2 t3 t4 t5; do echo "$(held_ms "$t") $t"; done)"
	assert_equal "$(records results)" 5
	assert_equal "$(counter passed)" 5
	assert_equal "$(records running)" 0
	for t in t1 t2 t3 t4 t5; do
		run result "$t"
		assert_output --regexp '^p [0-9]+ 0$'
	done
	# The last request marked the worker finished, as ciq-pop's last call does.
	[ "$(rcli ZSCORE "$(key workers)" 0 | cut -c1)" = - ]
	run ciq-report
	assert_success
	assert_line "PASSED: 5 tests, 5 passed, 0 skipped"
}

@test "four loops at once on one build: no id runs twice, every id has one result" {
	four_loops_one_build drive
}

# --- the verbs ----------------------------------------------------------------

@test "pass, fail and skip record as ciq-ack --next does; a failure's output is stored, a skip's is not" {
	populate a b c d
	printf 'boom\nat line 3\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr ciq-loop < <(echo next; req pass '' a; req fail "$BATS_TEST_TMPDIR/out" b
		req skip "$BATS_TEST_TMPDIR/out" c; req fail '' d)
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output "1 queue a
$(held_ms a) a
1 queue b
$(held_ms b) b
1 queue c
$(held_ms c) c
1 queue d
$(held_ms d) d"
	assert_equal "$stderr" ''
	assert_equal "$(result a | cut -c1)$(result b | cut -c1)$(result c | cut -c1)$(result d | cut -c1)" pfsf
	run ciq-report --json
	assert_equal "$status" 1
	assert_equal "$(jq -c '[.failures[] | [.id, .output]]' <<<"$output")" '[["b","boom\nat line 3\n"],["d",null]]'
	assert_equal "$(records output)" 1
	assert_equal "$(counter failed)" 2
	assert_equal "$(counter skipped)" 1
}

@test "a loop of passes, refused requeues and skips: each refusal answers '- ID' alone, then fail records it" {
	populate pass1 fail2 skip3 fail4
	run --separate-stderr drive 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(ran 0)" "$(printf '%s\n' pass1 fail2 skip3 fail4)"
	assert_equal "$(held 0)" "$(held_ms pass1) pass1
- fail2
$(held_ms fail2) fail2
$(held_ms skip3) skip3
- fail4
$(held_ms fail4) fail4"
	assert_equal "$(result pass1 | cut -c1)$(result fail2 | cut -c1)$(result skip3 | cut -c1)$(result fail4 | cut -c1)" pfsf
	assert_equal "$(counter requeued)" ''
	run ciq-report --json
	assert_equal "$status" 1
	assert_equal "$(jq -c '[.failures[] | [.id, .output]]' <<<"$output")" \
		'[["fail2","output of fail2\n"],["fail4","output of fail4\n"]]'
}

@test "an accepted requeue answers its held time and the next test; the second attempt is refused, then failed" {
	populate fail1 pass2
	local o=$BATS_TEST_TMPDIR/out
	echo 'first attempt' >"$o"
	# No other worker is alive: this one takes its own requeue back at once.
	run --separate-stderr ciq-loop --max-requeues 1 --requeue-tolerance 1 < <(echo next
		req requeue "$o" fail1; req requeue '' fail1; req fail '' fail1; req pass '' pass2)
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${#lines[@]}" 7
	assert_equal "${lines[0]}" "1 queue fail1"
	assert_regex "${lines[1]}" '^[0-9]+ fail1$'
	assert_equal "${lines[2]}" "2 queue fail1"
	assert_equal "${lines[3]}" "- fail1"
	assert_equal "${lines[4]}" "$(held_ms fail1) fail1"
	assert_equal "${lines[5]}" "1 queue pass2"
	assert_equal "${lines[6]}" "$(held_ms pass2) pass2"
	assert_equal "$stderr" "ciq-loop: 'fail1' was requeued 1 times already (--max-requeues 1): not requeued"
	assert_equal "$(counter requeued)" 1
	run ciq-report --json
	assert_equal "$status" 1
	assert_equal "$(jq -c '[.failures[] | [.id, .attempts, .output]]' <<<"$output")" '[["fail1",2,"first attempt\n"]]'
}

@test "a requeue with another worker alive goes to that worker; this loop takes the next test" {
	populate fail1 pass2 pass3
	assert_equal "$(ciq-pop --worker 1)" fail1
	run --separate-stderr ciq-loop --max-requeues 1 --requeue-tolerance 1 < <(echo next
		req requeue '' pass2)
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[0]}" "1 queue pass2"
	assert_regex "${lines[1]}" '^[0-9]+ pass2$'
	assert_equal "${lines[2]}" "1 queue pass3"
	assert_equal "$stderr" ''
	assert_equal "$(queue)" pass2
	assert_equal "$(ciq-pop --worker 1)" pass2
}

# --- the end of the loop ----------------------------------------------------------

@test "the last result answers its held line, then ciq-loop exits 1 with nothing more" {
	populate a
	run --separate-stderr ciq-loop < <(echo next; req pass '' a; echo next)
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output "1 queue a
$(held_ms a) a"
	assert_equal "$stderr" ''
	assert_equal "$(records running)" 0
	# A loop that asks again after the end gets 1 at once.
	run --separate-stderr ciq-loop <<<next
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
}

@test "no input at all: exit 0, nothing taken; end of input after next: exit 0, the test stays reserved" {
	populate a b
	run --separate-stderr ciq-loop </dev/null
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(records running)" 0
	run --separate-stderr ciq-loop <<<next
	assert_success
	assert_output '1 queue a'
	assert_equal "$stderr" ''
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
	ciq-release
	assert_equal "$(records running)" 0
	assert_equal "$(queue)" "$(printf 'a\nb')"
}

@test "an id that is not this worker's: exit 65, nothing recorded, nothing reserved" {
	populate a b c d
	assert_equal "$(ciq-pop --worker 1)" a
	run --separate-stderr ciq-loop < <(echo next; req pass '' a; echo next)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output '1 queue b'
	assert_equal "$stderr" "ciq-loop: 'a' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
	assert_equal "$(running)" "$(printf 'a\nb')"
	assert_equal "$(queue)" "$(printf 'c\nd')"
	assert_equal "$(holder a)" 1
	# Requeued: the same.
	run --separate-stderr ciq-loop --max-requeues 1 --requeue-tolerance 1 < <(req requeue '' a)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-loop: 'a' was never reserved by worker '0': not requeued"
	# An id not in the build at all.
	run --separate-stderr ciq-loop < <(req fail '' nope)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-loop: 'nope' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
	assert_equal "$(counter requeued)" ''
	assert_equal "$(running)" "$(printf 'a\nb')"
	assert_equal "$(queue)" "$(printf 'c\nd')"
}

# --- bad requests -------------------------------------------------------------------

# bad LINE MESSAGE: after a good first request, LINE (printf's format, so
# \t and \0 can be written) is refused: exit 64, MESSAGE, nothing done.
bad() {
	# shellcheck disable=SC2059 # the line is a format: \t and \0 in it
	run --separate-stderr ciq-loop < <(echo next; printf "$1\\n"; req pass '' a)
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output '1 queue a'
	assert_equal "$stderr" "ciq-loop: $2"
	assert_equal "$(records results)" 0
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
	ciq-release
}

@test "a bad request is a usage error naming its line: nothing is recorded" {
	populate a b
	local shape="expected 'next' or 'VERB<TAB>OUTPUT<TAB>ID'"
	bad 'pass a' "line 2: $shape"
	bad 'pass\ta' "line 2: $shape"
	bad 'pass\t\t' "line 2: $shape"
	bad '' "line 2: $shape"
	bad 'next ' "line 2: $shape"
	bad 'NEXT' "line 2: $shape"
	bad 'ack\t\ta' "line 2: unknown request 'ack': expected next, pass, fail, skip or requeue"
	bad 'Pass\t\ta' "line 2: unknown request 'Pass': expected next, pass, fail, skip or requeue"
	bad '\t\ta' "line 2: unknown request '': expected next, pass, fail, skip or requeue"
	bad 'pa\0ss\t\ta' 'line 2 holds a NUL byte'
	bad 'next\0' 'line 2 holds a NUL byte'
	# A driver that writes CRLF is told so, for a next and for an id alike.
	local crlf='ends with a carriage return: end each request with a newline alone'
	bad 'next\r' "line 2 $crlf"
	bad 'pass\t\ta\r' "line 2 $crlf"
}

@test "an output file that cannot be read: exit 65, nothing recorded or requeued" {
	populate a b
	run --separate-stderr ciq-loop < <(echo next; req fail "$BATS_TEST_TMPDIR/missing" a)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output '1 queue a'
	assert_equal "$stderr" "ciq-loop: line 2: cannot open '$BATS_TEST_TMPDIR/missing': No such file or directory: nothing was recorded"
	run --separate-stderr ciq-loop --max-requeues 1 --requeue-tolerance 1 < <(req requeue "$BATS_TEST_TMPDIR" a)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-loop: line 1: cannot read '$BATS_TEST_TMPDIR': Is a directory: nothing was requeued"
	assert_equal "$(records results)" 0
	assert_equal "$(counter requeued)" ''
	assert_equal "$(running)" a
	assert_equal "$(queue)" b
}

@test "a bad command line: an argument, a bad setting, no worker" {
	run --separate-stderr ciq-loop next
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr_lines[0]}" "ciq-loop: unexpected argument 'next'"
	assert_equal "${stderr_lines[1]}" "usage: ciq-loop [--queue URL] [--build ID] [--worker ID] [--timeout SECONDS]"
	run --separate-stderr ciq-loop --timeout 0 </dev/null
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-loop: invalid --timeout '0': expected seconds above 0, at most 10000000"
	run --separate-stderr env -u CIQ_WORKER ciq-loop </dev/null
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	[[ $stderr == "ciq-loop: no worker: "* ]] || fail "$stderr"
}

# --- waiting for a test held elsewhere ------------------------------------------------

# bg_loop INPUT: ciq-loop reading the file INPUT, in the background for at
# most 10 s (a hang shows as 124); its answers and errors in
# $BATS_TEST_TMPDIR/bg.out and bg.err; its pid in BG_PID.
bg_loop() {
	timeout 10 ciq-loop <"$1" >"$BATS_TEST_TMPDIR/bg.out" 2>"$BATS_TEST_TMPDIR/bg.err" 3>&- &
	BG_PID=$!
}

# bg_wait: wait for it; its status in BG_RC.
bg_wait() {
	BG_RC=0
	wait "$BG_PID" || BG_RC=$?
}

# wait_setup: worker 0's ciq-loop recorded a and waits for b, which worker 1 holds.
wait_setup() {
	populate a b
	{
		echo next
		req pass '' a
	} >"$BATS_TEST_TMPDIR/in"
	# Worker 1 takes both and gives a back: ciq-loop takes it, worker 1 keeps b.
	assert_equal "$(ciq-pop --worker 1 -n 2 2>&1)" "$(printf 'a\nb')"
	ciq-release --worker 1 -- a
	bg_loop "$BATS_TEST_TMPDIR/in"
	wait_for 100 blocked 0
	# Recorded before the wait.
	run result a
	assert_output --regexp '^p [0-9]+ 0$'
}

@test "ciq-loop waits while another worker holds the last test, and takes it when requeued" {
	wait_setup
	ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- b
	bg_wait
	assert_equal "$BG_RC" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.out")" "1 queue a
$(held_ms a) a
2 queue b"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.err")" ''
	assert_equal "$(holder b)" 0
	assert_equal "$(records waiting)" 0
}

@test "ciq-loop waits, and takes the last test when its holder releases it" {
	wait_setup
	ciq-release --worker 1
	bg_wait
	assert_equal "$BG_RC" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.out")" "1 queue a
$(held_ms a) a
1 queue b"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.err")" ''
	assert_equal "$(holder b)" 0
}

@test "ciq-loop waits, and exits 1 when the holder of the last test acks it" {
	wait_setup
	ciq-ack --worker 1 -- b
	bg_wait
	assert_equal "$BG_RC" "$CIQ_EX_NO"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.out")" "1 queue a
$(held_ms a) a"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bg.err")" ''
	assert_equal "$(records results)" 2
	run ciq-report
	assert_success
}

# --- circuit breakers -----------------------------------------------------------------

@test "--max-failures: the failure that reaches it is recorded, then the warning and exit 1" {
	printf 't%s\n' 1 2 3 4 | ciq-populate --order given --max-failures 2
	run --separate-stderr ciq-loop < <(echo next; req fail '' t1; req fail '' t2; echo next)
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output "1 queue t1
$(held_ms t1) t1
1 queue t2
$(held_ms t2) t2"
	assert_equal "$stderr" "ciq-loop: the build stopped: 2 tests failed (--max-failures 2)"
	assert_equal "$(counter failed)" 2
	assert_equal "$(queue)" "$(printf 't3\nt4')"
	assert_equal "$(records running)" 0
	run ciq-report
	assert_equal "$status" "$CIQ_EX_STOPPED"
}

@test "--max-consecutive-failures stops this loop; a refused requeue counts as a failure" {
	populate t1 t2 t3
	run --separate-stderr ciq-loop --max-consecutive-failures 2 < <(echo next; req fail '' t1
		req requeue '' t2; req fail '' t2)
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output "1 queue t1
$(held_ms t1) t1
1 queue t2
- t2
$(held_ms t2) t2"
	assert_equal "$stderr" "ciq-loop: worker '0' stops: 2 tests failed in a row on it (--max-consecutive-failures 2); other workers take the rest"
	assert_equal "$(queue)" t3
	assert_equal "$(ciq-pop --worker 1)" t3
}

@test "--max-duration: past it the result is recorded, then the warning and exit 1" {
	populate t1 t2
	# (Driven step by step: the pass goes out at least 10 ms after the
	# loop's first pop, however late the loop starts.)
	co_start 0 --max-duration 0.001
	co_say next
	co_read
	assert_equal "$A" "1 queue t1"
	sleep 0.01
	co_say "$(req pass '' t1)"
	co_read
	assert_equal "$A" "$(held_ms t1) t1"
	run co_read 1
	assert_failure
	co_end
	assert_equal "$CO_RC" "$CIQ_EX_NO"
	assert_equal "$(cat "$CO/err")" "ciq-loop: worker '0' stops: its --max-duration of 0.001 s since its first pop is over; other workers take the rest"
	assert_equal "$(queue)" t2
	run result t1
	assert_output --regexp '^p [0-9]+ 0$'
}

# --- the heartbeat ------------------------------------------------------------------------

# log: the content of this test's one loop log.
log() {
	cat "$XDG_RUNTIME_DIR/ciq-$(id -u)"/hb-*
}

@test "the heartbeat keeps a long test fresh past --timeout, and learns of the acked test" {
	hb_setup lp
	populate a b
	local score
	co_start "$W"
	co_say next
	co_read
	assert_equal "$A" "1 queue a"
	wait_for 40 has_heartbeat
	# Three times the timeout: a stays this worker's, refreshed.
	score=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$score" a
	sleep 1.8 # the test runs 3 x --timeout
	run --separate-stderr ciq-pop --worker other --heartbeat 0
	assert_success
	assert_output b
	assert_equal "$stderr" ''
	assert_equal "$(counter reclaimed)" ''
	assert_equal "$(holder a)" "$W"
	ciq-ack --worker other --heartbeat 0 -- b
	co_say "$(req pass '' a)"
	co_read
	assert_equal "$A" "$(held_ms a) a"
	[ "$(held_ms a)" -ge 1800 ]
	co_end
	assert_equal "$CO_RC" "$CIQ_EX_NO"
	assert_equal "$(cat "$CO/err")" ''
	assert_equal "$(log)" $'+a\n-a'
	run ciq-report
	assert_success
}

# The loop logs a test when its held line comes: that line must not wait
# in ciq-loop's buffer while ciq-loop waits for the next test (it did once).
@test "the held line reaches the loop before ciq-loop waits for a test held elsewhere" {
	populate a b
	assert_equal "$(ciq-pop --worker 1 -n 2)" "$(printf 'a\nb')"
	ciq-release --worker 1 -- a
	co_start 0
	co_say next
	co_read
	assert_equal "$A" "1 queue a"
	co_say "$(req pass '' a)"
	wait_for 100 blocked 0
	co_read 2
	assert_equal "$A" "$(held_ms a) a"
	ciq-ack --worker 1 -- b
	co_end
	assert_equal "$CO_RC" "$CIQ_EX_NO"
}

@test "end of input with a test held: the heartbeat keeps it; ciq-release gives it back" {
	hb_setup lp
	populate a b
	run --separate-stderr ciq-loop --worker "$W" <<<next
	assert_success
	assert_output '1 queue a'
	assert_equal "$stderr" ''
	wait_for 40 has_heartbeat
	local score
	score=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$score" a
	assert_equal "$(log)" '+a'
	ciq-release --worker "$W"
	assert_equal "$(records running)" 0
	assert_equal "$(queue)" "$(printf 'a\nb')"
	# "-": ciq-release without ids lets go of everything.
	assert_equal "$(log)" $'+a\n-'
}

# --- one connection -------------------------------------------------------------------------

# connections: the connections the server has accepted so far (this
# redis-cli's own included).
connections() {
	rcli INFO stats | tr -d '\r' | sed -n 's/^total_connections_received://p'
}

@test "one connection for a whole loop of 50 tests" {
	seq -f 't%02g' 1 50 | ciq-populate --order given
	local before after
	before=$(connections)
	run --separate-stderr drive 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	after=$(connections)
	assert_equal "$(records results)" 50
	# ciq-loop's one, and the redis-cli that counts.
	assert_equal "$((after - before))" 2
}

@test "with the heartbeat on, a loop of 50 quick tests: ciq-loop's connection, none of the heartbeat's" {
	hb_setup lp
	# Every test ends within a beat: the heartbeat has nothing to refresh
	# and never connects.
	export CIQ_TIMEOUT=30 CIQ_HEARTBEAT=10
	seq -f 't%02g' 1 50 | ciq-populate --order given
	local before after
	before=$(connections)
	run --separate-stderr drive "$W"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	after=$(connections)
	assert_equal "$(records results)" 50
	assert_equal "$((after - before))" 2
	# The heartbeat ended with the loop, and removed its log.
	wait_for 40 no_heartbeat
	assert_equal "$(ls -A "$XDG_RUNTIME_DIR/ciq-$(id -u)")" ''
}

# --- a broken connection ---------------------------------------------------------------------

@test "the server drops every connection mid-loop: ciq-loop reconnects and goes on, nothing twice" {
	populate a b c
	co_start 0
	co_say next
	co_read
	assert_equal "$A" "1 queue a"
	rcli CLIENT KILL TYPE normal >/dev/null
	co_say "$(req pass '' a)"
	co_read
	assert_equal "$A" "$(held_ms a) a"
	co_read
	assert_equal "$A" "1 queue b"
	rcli CLIENT KILL TYPE normal >/dev/null
	co_say "$(req fail '' b)"
	co_read
	assert_equal "$A" "$(held_ms b) b"
	co_read
	assert_equal "$A" "1 queue c"
	co_say "$(req pass '' c)"
	co_read
	assert_equal "$A" "$(held_ms c) c"
	co_end
	assert_equal "$CO_RC" "$CIQ_EX_NO"
	assert_equal "$(cat "$CO/err")" ''
	assert_equal "$(counter passed)" 2
	assert_equal "$(counter failed)" 1
	assert_equal "$(rcli LRANGE "$(key order:0)" 0 -1)" "$(printf '\na\nb\nc')"
}

@test "the server restarts mid-loop: ciq-loop reconnects and goes on" {
	populate a b c
	co_start 0 --reconnect-timeout 10
	co_say next
	co_read
	assert_equal "$A" "1 queue a"
	# The build survives in a dump; the server is stopped by its pid and
	# started again on the same socket, where it loads the dump.
	rcli SAVE >/dev/null
	local pid
	pid=$(cat "$REDIS_DIR/pid")
	kill "$pid"
	# shellcheck disable=SC2016 # sh expands them
	wait_for 100 sh -c '! kill -0 "$1"' sh "$pid"
	# Without our ends of the fifos, which the daemon would keep open.
	redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 \
		--save '' --appendonly no --daemonize yes \
		--pidfile "$REDIS_DIR/pid" --logfile "$REDIS_DIR/log" --dir "$REDIS_DIR" \
		{CO_W}>&- {CO_R}<&- 3>&-
	# shellcheck disable=SC2016 # sh expands it
	wait_for 100 sh -c 'redis-cli -s "$1" ping | grep -q PONG' sh "$REDIS_SOCK"
	co_say "$(req pass '' a)"
	co_read
	assert_equal "$A" "$(held_ms a) a"
	co_read
	assert_equal "$A" "1 queue b"
	co_end
	assert_equal "$CO_RC" 0
	assert_equal "$(cat "$CO/err")" ''
	assert_equal "$(running)" b
	assert_equal "$(queue)" c
}

# --- TLS, a cluster --------------------------------------------------------------------------

@test "a loop over rediss://: one connection, so one TLS handshake, for the whole loop" {
	redis-server --version | grep -q 'v=[7-9]' || skip "needs redis-server 7 with TLS"
	TLS_DIR=$(mktemp -d /tmp/ciqt.XXXXXX)
	local d=$TLS_DIR port before after
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ciq-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
		-keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/server.ext"
	openssl x509 -req -days 2 -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port 0 --tls-port "$port" --tls-cert-file "$d/server.crt" \
		--tls-key-file "$d/server.key" --tls-ca-cert-file "$d/ca.crt" --tls-auth-clients no \
		--unixsocket "$d/sock" --unixsocketperm 700 --save '' --appendonly no --daemonize yes \
		--pidfile "$d/pid" --logfile "$d/log" --dir "$d" ||
		skip "this redis-server has no TLS"
	# shellcheck disable=SC2016 # sh expands it
	wait_for 100 sh -c 'redis-cli -s "$1" ping 2>&1 | grep -q PONG' sh "$d/sock"
	export CIQ_QUEUE="rediss://localhost:$port" CIQ_TLS_CA_FILE=$d/ca.crt
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	seq -f 't%02g' 1 20 | ciq-populate --order given
	REDIS_SOCK=$d/sock
	before=$(connections)
	run --separate-stderr drive 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	after=$(connections)
	assert_equal "$(records results)" 20
	assert_equal "$((after - before))" 2
}

@test "a loop on a Redis Cluster, through a node that does not serve the build's slot" {
	loop_on_other_node drive
}

# --- hostile ids ---------------------------------------------------------------------------------

@test "ids with spaces, tabs, quotes, \$, backslashes and a leading dash go through byte for byte" {
	# shellcheck disable=SC2016 # the ids are literal
	local ids=('a b' $'tab\there' $'\tlead' $'trail\t' "it's" '"q"' '$HOME' 'back\slash' '-x'
		'--worker' ' lead' 'trail ' '%s%n' '*' 'next' $'pass\t\tx' 'fail-é')
	populate "${ids[@]}"
	run --separate-stderr drive 0 --max-requeues 1 --requeue-tolerance 1
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-loop: 'fail-é' was requeued 1 times already (--max-requeues 1): not requeued"
	# fail-é twice: requeued once, then refused and failed.
	assert_equal "$(ran 0)" "$(printf '%s\n' "${ids[@]}" fail-é)"
	assert_equal "$(records results)" "${#ids[@]}"
	assert_equal "$(counter passed)" "$((${#ids[@]} - 1))"
	assert_equal "$(members results | LC_ALL=C sort)" "$(printf '%s\n' "${ids[@]}" | LC_ALL=C sort)"
	run ciq-report --json
	assert_equal "$(jq -r '.failures[] | .id, .output' <<<"$output")" "fail-é
output of fail-é"
}
