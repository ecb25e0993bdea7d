#!/usr/bin/env bats
#
# The heartbeat: a long test on a live worker stays its own, a killed loop
# gives its test back at once, a lost machine's test is reclaimed after
# the timeout, and nothing of ours outlives the loop.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	hb_setup hb
	# The runner: records its pid, then sleeps $HOLD seconds, or until the
	# file "release" appears.
	cat >"$BATS_TEST_TMPDIR/run" <<'SH'
#!/bin/sh
echo $$ >>"$STATE/runners"
i=0
while [ ! -e "$STATE/release" ] && [ "$i" -lt "$((HOLD * 20))" ]; do
	sleep 0.05
	i=$((i + 1))
done
echo "$1" >>"$STATE/ran"
SH
	chmod +x "$BATS_TEST_TMPDIR/run"
	export HOLD=30
}

teardown() { hb_teardown; }

# locked FILE: someone holds the flock of FILE.
locked() {
	! flock -n "$1" true
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

@test "t=\$(ciq-pop) returns at once although a heartbeat stays behind" {
	populate a
	local start end
	start=$(now_ms)
	t=$(ciq-pop --worker "$W")
	end=$(now_ms)
	assert_equal "$t" a
	[ $((end - start)) -lt 1000 ]
	wait_for 40 has_heartbeat
}

@test "a test running three times the timeout on a live worker is never taken" {
	populate a
	HOLD=2 loop &
	wait_for 100 one_running
	# Another worker waits for the whole test and never gets it.
	run --separate-stderr ciq-pop --worker other
	assert_equal "$status" 1
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(cat "$STATE/ran")" a
	assert_equal "$(counter reclaimed)" ""
	assert_equal "$(result a | cut -d' ' -f3)" "$W"
	# The duration runs from the reservation, whatever the heartbeats did.
	[ "$(result a | cut -d' ' -f2)" -ge 1900 ]
}

@test "a worker loop killed with SIGKILL gives its test to another worker within 2 seconds" {
	populate a
	loop &
	local pid=$! start end
	wait_for 100 one_running
	# The other worker is already waiting when the loop dies.
	ciq-pop --worker other >"$STATE/other" 2>"$STATE/other.err" &
	local other=$!
	kill -9 "$pid"
	start=$(now_ms)
	wait "$other"
	end=$(now_ms)
	assert_equal "$(cat "$STATE/other")" a
	assert_equal "$(cat "$STATE/other.err")" ""
	echo "handed over after $((end - start)) ms" >&3
	[ $((end - start)) -lt 2000 ]
	# Its heartbeat ended with it.
	wait_for 60 no_heartbeat
}

# loop_pids: the pids of worker $W's ciq-loop and of its heartbeat, which
# keeps its command line.
loop_pids() {
	ps -eo pid=,args= | awk -v w="--worker $W " 'index($0, "ciq-loop " w) { print $1 }'
}

no_loop() {
	[ -z "$(loop_pids)" ]
}

# released_back: a is in the queue again, and nobody holds it.
released_back() {
	[ "$(rcli LRANGE "$(key queue)" 0 -1)" = a ] && [ -z "$(rcli ZSCORE "$(key running)" a)" ]
}

@test "a loop killed while its ciq-pop waits: the test that pop takes after is given back at once" {
	populate a
	assert_equal "$(CIQ_HEARTBEAT=0 ciq-pop --worker other)" a
	# The loop (sh) waits in ciq-pop for a, held by the other worker (a
	# timeout long enough that it is not reclaimed meanwhile).
	sh -c 'ciq-pop --worker "$W" --timeout 30 >"$STATE/got"; :' &
	local loop=$!
	wait_for 100 blocked "$W"
	kill -9 "$loop"
	# a comes back; the orphaned ciq-pop takes it. Its loop is gone, so its
	# heartbeat gives a back at once, rather than beat for it for good
	# (the loop's new parent, alive, was taken for the loop).
	run -0 ciq-release --worker other
	wait_for 40 eval '[ "$(cat "$STATE/got")" = a ]'
	wait_for 60 released_back
	wait_for 60 no_heartbeat
	assert_equal "$(ciq-pop --worker third --heartbeat 0)" a
}

@test "a driver killed while its ciq-loop waits: the test ciq-loop takes after is given back at once" {
	populate a
	assert_equal "$(CIQ_HEARTBEAT=0 ciq-pop --worker other)" a
	mkfifo "$STATE/req"
	# The fifo stays open for writing here, so ciq-loop never reads its
	# end: only its driver's death tells it is alone.
	exec 5<>"$STATE/req"
	sh -c 'ciq-loop --worker "$W" --timeout 30 <"$STATE/req" >"$STATE/rep"; :' 5>&- &
	local driver=$!
	echo next >&5
	wait_for 100 blocked "$W"
	# (ciq-loop, and below its heartbeat, for the teardown to kill should
	# this test fail.)
	loop_pids >>"$STATE/runners"
	kill -9 "$driver"
	run -0 ciq-release --worker other
	wait_for 40 eval '[ "$(cat "$STATE/rep")" = "1 queue a" ]'
	loop_pids >>"$STATE/runners"
	wait_for 60 released_back
	exec 5>&-
	wait_for 60 no_loop
	assert_equal "$(ciq-pop --worker third --heartbeat 0)" a
}

@test "a lost machine's test goes to another worker within the timeout plus 2 seconds" {
	populate a
	loop &
	local pid=$! start end
	wait_for 100 one_running
	wait_for 40 has_heartbeat
	# Every process of the worker vanishes at once.
	kill -9 "$pid" $(heartbeats) $(cat "$STATE/runners")
	start=$(now_ms)
	run --separate-stderr ciq-pop --worker other
	end=$(now_ms)
	assert_success
	assert_output a
	assert_equal "$stderr" "ciq-pop: reclaimed 'a' from worker $W, silent for over 0.6 s"
	echo "reclaimed after $((end - start)) ms" >&3
	[ $((end - start)) -lt 2600 ]
}

@test "no process of ours outlives a finished worker loop by more than a few seconds" {
	populate a b c
	# The loop is a process of its own, as in a CI job.
	(HOLD=0 loop)
	assert_equal "$(sort "$STATE/ran" | tr '\n' ' ')" "a b c "
	wait_for 60 no_heartbeat
}

@test "one heartbeat serves the whole loop: the tests after the first start no process" {
	populate a b c
	local first
	t=$(ciq-pop --worker "$W")
	first=$(heartbeats)
	[ -n "$first" ]
	ciq-ack --worker "$W" -- "$t"
	t=$(ciq-pop --worker "$W")
	ciq-ack --worker "$W" -- "$t"
	t=$(ciq-pop --worker "$W")
	assert_equal "$t" c
	assert_equal "$(heartbeats)" "$first"
}

# clients N: the server has N client connections (the one asking included).
clients() {
	[ "$(rcli CLIENT LIST | wc -l)" = "$1" ]
}

script_calls_above() {
	[ "$(script_calls)" -gt "$1" ]
}

@test "an acked test is beaten no more: the heartbeat lets its connection go" {
	populate a b
	t=$(ciq-pop --worker "$W")
	local first
	first=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$first"
	wait_for 40 clients 2
	ciq-ack --worker "$W" -- "$t"
	wait_for 40 clients 1
	assert_equal "$(heartbeats | wc -l)" 1
}

@test "an ack from outside the loop is found out at the next beat" {
	populate a b
	t=$(ciq-pop --worker "$W")
	# Not a child of the loop: the heartbeat is not told.
	sh -c 'ciq-ack --worker "$1" -- "$2"' sh "$W" "$t"
	assert_equal "$(result a | cut -d' ' -f1)" p
	local calls
	calls=$(script_calls)
	wait_for 40 script_calls_above "$calls"
	wait_for 40 clients 1
	assert_equal "$(counter released)" ""
}

@test "a heartbeat that was killed is replaced by the next pop, which it beats for" {
	populate a b
	t=$(ciq-pop --worker "$W")
	local first
	first=$(heartbeats)
	kill -9 $first
	wait_for 40 no_heartbeat
	ciq-ack --worker "$W" -- "$t"
	t=$(ciq-pop --worker "$W")
	assert_equal "$t" b
	wait_for 40 has_heartbeat
	[ "$(heartbeats)" != "$first" ]
	first=$(rcli ZSCORE "$(key running)" b)
	wait_for 40 beats_seen "$first" b
}

@test "the heartbeat keeps the worker alive for the report" {
	populate a
	HOLD=2 loop &
	wait_for 100 one_running
	run ciq-report --inactive-timeout 0.8
	assert_success
	assert_line "PASSED: 1 tests, 1 passed, 0 skipped"
}

@test "--heartbeat 0 leaves nothing behind" {
	populate a
	t=$(ciq-pop --worker "$W" --heartbeat 0)
	assert_equal "$t" a
	# A heartbeat exists before ciq-pop returns, or never.
	assert_equal "$(heartbeats)" ""
}


@test "a \$(...) subshell that ends with ciq-pop is not taken for the loop" {
	populate a
	# "; :" keeps the shell from running ciq-pop in place of the subshell.
	t=$(ciq-pop --worker "$W"; :)
	assert_equal "$t" a
	local first
	first=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$first"
	assert_equal "$(holder a)" "$W"
	assert_equal "$(counter released)" ""
}

# log_file: the one log of this test's loops.
log_file() {
	ls "$XDG_RUNTIME_DIR/ciq-$(id -u)"/hb-* 2>/dev/null
}

# log_given_back: the log holds far fewer blocks than its size needs.
log_given_back() {
	local f
	f=$(log_file) || return 1
	[ "$(($(stat -c '%b * %B' "$f")))" -lt "$(($(stat -c %s "$f") / 4))" ]
}

@test "the log gives back what the heartbeat has read" {
	local id i
	id=$(printf 'x%.0s' $(seq 1000))
	for i in $(seq 40); do echo "$id.$i"; done | ciq-populate --order given
	for i in $(seq 40); do
		t=$(ciq-pop --worker "$W")
		ciq-ack --worker "$W" -- "$t"
	done
	local f
	f=$(log_file)
	# 40 tests, each a "+" line and a "-" line of 1000 bytes and more.
	[ "$(stat -c %s "$f")" -gt 80000 ]
	head -c 8192 /dev/zero >"$XDG_RUNTIME_DIR/probe"
	fallocate -p -o 0 -l 4096 "$XDG_RUNTIME_DIR/probe" 2>/dev/null ||
		skip "this file system cannot punch holes"
	wait_for 40 log_given_back
}

@test "a heartbeat removes the logs that killed loops left, and no other" {
	populate a
	local dir dead held score
	dir=$XDG_RUNTIME_DIR/ciq-$(id -u)
	mkdir -m 700 "$dir"
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	# Left by a loop and heartbeat killed together.
	: >"$dir/hb-0123456789abcdef-$dead"
	# A live process's: its loop may go on.
	: >"$dir/hb-0123456789abcdef-$$"
	# A dead loop's whose heartbeat still holds the lock (it is about to
	# remove it itself).
	held=$dir/hb-fedcba9876543210-$dead
	: >"$held"
	(exec 9<"$held" && flock 9 && exec sleep 30) &
	wait_for 40 locked "$held"
	: >"$dir/notes-$dead"
	t=$(ciq-pop --worker "$W")
	assert_equal "$t" a
	score=$(rcli ZSCORE "$(key running)" a)
	# The sweep comes before the first beat.
	wait_for 40 beats_seen "$score"
	[ ! -e "$dir/hb-0123456789abcdef-$dead" ]
	[ -e "$dir/hb-0123456789abcdef-$$" ]
	[ -e "$held" ]
	[ -e "$dir/notes-$dead" ]
}

@test "a log directory open to others is not used: pop warns and still hands out the test" {
	populate a
	mkdir -m 755 "$XDG_RUNTIME_DIR/ciq-$(id -u)"
	run --separate-stderr ciq-pop --worker "$W"
	assert_success
	assert_output a
	assert_equal "$stderr" "ciq-pop: cannot tell the heartbeat: the tests may be reclaimed after --timeout: the log directory '$XDG_RUNTIME_DIR/ciq-$(id -u)' is open to others (mode 755; it must be a directory of this user with mode 700)"
	assert_equal "$(heartbeats)" ""
}

# log: the content of this test's one loop log.
log() {
	cat "$XDG_RUNTIME_DIR/ciq-$(id -u)"/hb-*
}

# as_loop TOOL ARGS...: run a tool as the loop does, a child of this shell
# (not of run's subshell), so that it finds the loop's log; sets status and
# stderr.
as_loop() {
	status=0
	"$@" 2>"$STATE/stderr" || status=$?
	stderr=$(cat "$STATE/stderr")
}

@test "an empty id never reaches the log: the heartbeat keeps beating for the running test" {
	populate a b
	t=$(ciq-pop --worker "$W")
	assert_equal "$t" a
	wait_for 40 has_heartbeat
	for tool in ciq-release ciq-ack ciq-requeue; do
		as_loop "$tool" --worker "$W" -- ''
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr%%$'\n'*}" "$tool: test id 1 of 1 is empty: nothing was sent"
	done
	as_loop ciq-release --worker "$W" -- b ''
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-release: test id 2 of 2 is empty: nothing was sent"
	assert_equal "$(log)" "+a"
	local score
	score=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$score"
	assert_equal "$(counter released)" ""
}

@test "an id with a newline never reaches the log as a line of its own" {
	populate a
	t=$(ciq-pop --worker "$W")
	wait_for 40 has_heartbeat
	as_loop ciq-ack --worker "$W" -- $'x\n-'
	assert_equal "$status" "$CIQ_EX_DATAERR"
	as_loop ciq-release --worker "$W" -- $'y\n-'
	assert_equal "$status" 0
	assert_equal "$(log)" "+a"
	local score
	score=$(rcli ZSCORE "$(key running)" a)
	wait_for 40 beats_seen "$score"
}

@test "ciq-release without ids tells the heartbeat to let go of everything" {
	populate a
	t=$(ciq-pop --worker "$W")
	wait_for 40 has_heartbeat
	as_loop ciq-release --worker "$W"
	assert_equal "$status" 0
	assert_equal "$(log)" $'+a\n-'
}
