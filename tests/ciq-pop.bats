#!/usr/bin/env bats
#
# ciq-pop: reservations, exhaustion, waiting, reclaims, requeues kept away
# from the worker that requeued them, ids as bytes, command line.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }
# A background pop left by a failed test is stopped, by its pid.
teardown() { [ -z "${BG_PID:-}" ] || kill "$BG_PID" 2>/dev/null || true; }

# polling WORKER: WORKER's ciq-pop is polling the server: its sign of
# life moved since the first call (a condition for wait_for).
polling() {
	local now seen="$BATS_TEST_TMPDIR/seen.$1"
	now=$(rcli ZSCORE "$(key workers)" "$1")
	if [ ! -e "$seen" ]; then
		echo "$now" >"$seen"
		return 1
	fi
	[ "$now" != "$(cat "$seen")" ]
}

# blocked_for SECONDS: a connection has been blocked on the wake list,
# sending nothing, for SECONDS at least.
blocked_for() {
	rcli CLIENT LIST | grep 'cmd=blpop' | grep -q "idle=[$1-9]"
}

# bg_pop NAME ARGS...: start ciq-pop ARGS in the background, for at most
# 10 s (a hang shows as status 124); its pid goes in BG_PID, its output in
# $BATS_TEST_TMPDIR/NAME.out and .err.
bg_pop() {
	local name=$1
	shift
	timeout 10 ciq-pop "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" 3>&- &
	BG_PID=$!
}

# --- reserving --------------------------------------------------------------

@test "pop prints exactly one id and exits 0" {
	populate a b c
	run --separate-stderr ciq-pop
	assert_success
	assert_output a
	assert_equal "$stderr" ''
	assert_equal "${#lines[@]}" 1
	# It is reserved for this worker, and off the queue.
	[ -n "$(rcli ZSCORE "$(key running)" a)" ]
	assert_equal "$(holder a)" 0
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf '%s\n' b c)"
	# The owner value is "WORKER MS", MS the reservation on the server's
	# clock, the score it has in running until a heartbeat.
	assert_equal "$(rcli HGET "$(key owner)" a)" "0 $(rcli ZSCORE "$(key running)" a)"
}

@test "pop -n 3 prints three lines" {
	populate a b c d e
	run --separate-stderr ciq-pop -n 3
	assert_success
	assert_output "$(printf '%s\n' a b c)"
	assert_equal "$stderr" ''
	run ciq-pop --count 2
	assert_output "$(printf '%s\n' d e)"
}

@test "pop -n larger than the queue prints what is left" {
	populate a b
	run ciq-pop -n 5
	assert_success
	assert_output "$(printf '%s\n' a b)"
}

@test "an exhausted queue exits 1 with no output" {
	populate a b
	ciq-pop -n 2 >/dev/null
	ciq-ack -- a b
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" ''
	# Again: still exhausted, and the worker is marked finished (negative score).
	run ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
	[[ $(rcli ZSCORE "$(key workers)" 0) == -* ]]
}

@test "pop before populate exits 82 and says the queue does not exist" {
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "pop while an elected leader has not published waits, then exits 75" {
	rcli SET "$(key leader)" 9 EX 100 >/dev/null
	run --separate-stderr ciq-pop --init-timeout 0.5
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: build '$CIQ_BUILD' was not published within 0.5 s (did ciq-populate run?)"
}

@test "pop waits for a leader that is still publishing and then takes a test" {
	# Worker 0 is elected by hand; it publishes while worker 1 pops.
	rcli SET "$(key leader)" 0 EX 100 >/dev/null
	bg_pop w1 --worker 1 --init-timeout 5
	local pid=$BG_PID rc=0
	wait_for 100 client_ran_script
	run ciq-populate --order given < <(printf '%s\n' a b)
	assert_success
	wait "$pid" || rc=$?
	BG_PID=
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w1.out")" a
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w1.err")" ''
	assert_equal "$(holder a)" 1
}

# client_ran_script: a client other than redis-cli has run a script.
client_ran_script() {
	rcli CLIENT LIST | grep -v 'cmd=client' | grep -q 'cmd=eval'
}

@test "pop without a worker id is a configuration error" {
	populate a
	unset CIQ_WORKER
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: no worker: set CIQ_WORKER or --worker (no CI provider detected)"
}

# --- waiting for tests in flight ----------------------------------------------

@test "pop waits while another worker holds the last test and exits 1 once it is acked" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	ciq-ack -- a
	bg_pop w0
	local pid=$BG_PID rc=0
	wait_for 100 blocked 0
	# Still waiting, and asking nothing meanwhile.
	wait_for 60 blocked_for 1
	kill -0 "$pid"
	ciq-ack --worker 1 -- b
	wait "$pid" || rc=$?
	BG_PID=
	assert_equal "$rc" "$CIQ_EX_NO"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.err")" ''
}

@test "a waiting pop takes a test the other worker requeues" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	ciq-ack -- a
	bg_pop w0
	local pid=$BG_PID rc=0
	wait_for 100 blocked 0
	run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- b
	assert_success
	wait "$pid" || rc=$?
	BG_PID=
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" b
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.err")" ''
	assert_equal "$(holder b)" 0
}

# --- reclaiming lost tests --------------------------------------------------

@test "the build's last ack wakes every waiting worker at once" {
	populate a
	ciq-pop --worker 9 >/dev/null
	local pids="" w start
	for w in 1 2 3; do
		timeout 10 ciq-pop --worker "$w" >"$BATS_TEST_TMPDIR/w$w.out" 2>&1 3>&- &
		pids="$pids $!"
	done
	for w in 1 2 3; do wait_for 100 blocked "$w"; done
	start=$(date +%s%N)
	ciq-ack --worker 9 -- a
	for p in $pids; do
		local rc=0
		wait "$p" || rc=$?
		assert_equal "$rc" "$CIQ_EX_NO"
	done
	# Not the 9 s a blocked wait may last: woken.
	[ $((($(date +%s%N) - start) / 1000000)) -lt 2000 ]
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/w[123].out)" ''
	assert_equal "$(records waiting)" 0
}

@test "a waiting worker wakes when the reservation it waits on could be reclaimed" {
	populate a
	ciq-pop --worker 1 --heartbeat 0 >/dev/null
	local start end
	start=$(date +%s%N)
	run --separate-stderr ciq-pop --timeout 0.5
	end=$(date +%s%N)
	assert_success
	assert_output a
	assert_equal "$stderr" "ciq-pop: reclaimed 'a' from worker 1, silent for over 0.5 s"
	# Woken at the reclaim time, not at the end of a long block.
	[ $(((end - start) / 1000000)) -lt 2000 ]
}

@test "a test silent for longer than the timeout is reclaimed with a warning" {
	populate a b
	run ciq-pop --timeout 0.5
	assert_output a
	wait_for 100 lost a 500
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_success
	# Lost tests come before the queue.
	assert_output a
	assert_equal "$stderr" "ciq-pop: reclaimed 'a' from worker 0, silent for over 0.5 s"
	assert_equal "$(holder a)" 1
	assert_equal "$(rcli HGET "$(key reclaims)" a)" 1
	assert_equal "$(rcli HGET "$(key stats)" reclaimed)" 1
	# The queue was not touched.
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
}

@test "a test within its timeout is not reclaimed" {
	populate a b
	ciq-pop --timeout 30 >/dev/null
	run --separate-stderr ciq-pop --worker 1 --timeout 30
	assert_output b
	assert_equal "$stderr" ''
	assert_equal "$(holder a)" 0
}

@test "a pop that looks for lost tests sets meta's running_floor, no later than a reservation" {
	populate a b
	ciq-pop >/dev/null
	local floor score
	floor=$(rcli HGET "$(key meta)" running_floor)
	score=$(rcli ZSCORE "$(key running)" a)
	[[ "$floor" =~ ^[0-9]+$ ]]
	[ "$floor" -le "$score" ]
}

@test "a running_floor ahead of the clock, or not a number, hides no lost test" {
	local v
	for v in 99999999999999 abc; do
		export CIQ_BUILD="floor-$v"
		populate a b
		ciq-pop --timeout 0.5 >/dev/null
		wait_for 100 lost a 500
		rcli HSET "$(key meta)" running_floor "$v" >/dev/null
		run --separate-stderr ciq-pop --worker 1 --timeout 0.5
		assert_success
		assert_output a
		assert_equal "$stderr" "ciq-pop: reclaimed 'a' from worker 0, silent for over 0.5 s"
		assert_equal "$(holder a)" 1
		# Set again from what running holds: a's new reservation.
		assert_equal "$(rcli HGET "$(key meta)" running_floor)" "$(rcli ZSCORE "$(key running)" a)"
	done
}

# --- requeues go to another worker ------------------------------------------

@test "a worker is not handed its own requeued test while another worker is alive" {
	populate a b c
	run ciq-pop
	assert_output a
	run ciq-pop --worker 1
	assert_output b
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- a
	assert_success
	assert_equal "$(rcli LINDEX "$(key queue)" 0)" a
	run ciq-pop
	assert_success
	assert_output c
	run ciq-pop --worker 1
	assert_success
	assert_output a
}

@test "with no other live worker a worker gets its own requeued test back" {
	populate a b
	run ciq-pop
	assert_output a
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- a
	assert_success
	run ciq-pop
	assert_success
	assert_output a
}

@test "a worker whose only queued test is its own requeue waits for the other worker" {
	populate a b
	ciq-pop >/dev/null
	ciq-pop --worker 1 >/dev/null
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- a
	bg_pop w0
	local pid=$BG_PID rc=0
	wait_for 100 polling 0
	run ciq-pop --worker 1
	assert_output a
	ciq-ack --worker 1 -- a b
	wait "$pid" || rc=$?
	BG_PID=
	assert_equal "$rc" "$CIQ_EX_NO"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/w0.out")" ''
}

# --- ids are bytes ------------------------------------------------------------

@test "ids with shell metacharacters, odd bytes and leading dashes round-trip byte for byte" {
	local ids=(
		'with space'
		' leading space'
		'trailing space '
		'double"quote'
		"single'quote"
		$'tab\there'
		'$(touch pwned)'
		'`touch pwned`'
		'back\slash\'
		'\n not a newline'
		'-leading-dash'
		'--double-dash'
		'-n'
		'%s%n%x'
		'glob * ? [a]'
		'{hash}tag'
		'naïve ünïcödé ✓ 测试'
		$'invalid \xff\xfe utf-8 \xc3('
		$'mid\rcr'
		$'esc \e[31mred'
	)
	printf '%s\n' "${ids[@]}" >"$BATS_TEST_TMPDIR/list"
	run ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	# One at a time, into a file: no shell in between.
	local i
	for i in "${!ids[@]}"; do
		ciq-pop >>"$BATS_TEST_TMPDIR/out"
	done
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/list"
	# Ack each id as read back.
	local id
	while IFS= read -r id; do
		ciq-ack -- "$id"
	done <"$BATS_TEST_TMPDIR/out"
	assert_equal "$(records results)" "${#ids[@]}"
	for id in "${ids[@]}"; do
		assert_equal "$(rcli HEXISTS "$(key results)" "$id")" 1
	done
	members results | LC_ALL=C sort >"$BATS_TEST_TMPDIR/keys"
	cmp "$BATS_TEST_TMPDIR/keys" <(LC_ALL=C sort "$BATS_TEST_TMPDIR/list")
	# Nothing was run by a shell.
	[ ! -e pwned ] && [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
	run ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
}

@test "pop -n prints odd ids byte for byte" {
	printf '%s\n' $'a\tb' $'\xff' '-x' ' ' >"$BATS_TEST_TMPDIR/list"
	# ' ' alone is a blank line: skipped.
	printf '%s\n' $'a\tb' $'\xff' '-x' >"$BATS_TEST_TMPDIR/want"
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	ciq-pop -n 10 >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
	od -c "$BATS_TEST_TMPDIR/out"
}

@test "ack with -- handles an id with a leading dash" {
	populate -x --y
	run ciq-pop -n 2
	assert_output "$(printf '%s\n' -x --y)"
	run --separate-stderr ciq-ack -- -x --y
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(rcli HEXISTS "$(key results)" -x)" 1
	assert_equal "$(rcli HEXISTS "$(key results)" --y)" 1
	run ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
}

@test "a reclaim warning shows an odd id as it is" {
	populate '%s it'\''s -x'
	ciq-pop --timeout 0.5 >/dev/null
	wait_for 100 lost '%s it'\''s -x' 500
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_success
	assert_output '%s it'\''s -x'
	assert_equal "$stderr" "ciq-pop: reclaimed '%s it's -x' from worker 0, silent for over 0.5 s"
}

@test "a pop repeated with the same nonce gets the same test, reserved once" {
	populate a b c
	run pop_call n1
	assert_output "ok
a
queue

1"
	run pop_call n1
	assert_output "ok
a
queue

1"
	assert_equal "$(records running)" 1
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1 | tr '\n' ' ')" "b c "
	run pop_call n2
	assert_output "ok
b
queue

1"
	assert_equal "$(records running)" 2
}

# --- command line -----------------------------------------------------------

@test "--long prints the attempt and the origin before each id, the id as it is" {
	populate 'x  y\z $a ' b c
	run --separate-stderr ciq-pop --long -n 2
	assert_success
	assert_output "1 queue x  y\\z \$a 
1 queue b"
	assert_equal "$stderr" ''
	run ciq-pop -l
	assert_output "1 queue c"
}

@test "--long: a requeued test is attempt 2, reclaimed after that attempt 3" {
	populate a b
	ciq-pop >/dev/null
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- a
	assert_success
	# Worker 1 takes the requeue (worker 0 is alive and requeued it).
	run ciq-pop --long --worker 1 --timeout 0.5
	assert_output "2 queue a"
	wait_for 100 lost a 500
	run --separate-stderr ciq-pop --long --worker 2 --timeout 0.5
	assert_success
	assert_output "3 reclaim a"
	assert_equal "$stderr" "ciq-pop: reclaimed 'a' from worker 1, silent for over 0.5 s"
	run ciq-pop --long --worker 2
	assert_output "1 queue b"
}

@test "--long: a retried job's own failure is a retry, one attempt more" {
	populate a b
	ciq-pop >/dev/null
	ciq-ack --failed -- a
	ciq-pop >/dev/null
	ciq-ack -- b
	printf '%s\n' a b | ciq-populate --retry true 2>/dev/null
	run ciq-pop --long --retry true
	assert_success
	assert_output "2 retry a"
	run ciq-pop --long --retry true
	assert_failure "$CIQ_EX_NO"
}

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr ciq-pop --help
	assert_success
	assert_equal "$stderr" ''
	assert_line --index 0 --regexp '^usage: ciq-pop '
	assert_line 'See ciq-pop(1).'
}

@test "--version prints the version" {
	run --separate-stderr ciq-pop --version
	assert_success
	assert_output --regexp '^ciq-pop [0-9]+\.[0-9]+\.[0-9]+$'
	assert_equal "$stderr" ''
}

@test "-n 0 is a usage error" {
	populate a
	run --separate-stderr ciq-pop -n 0
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "$(head -1 <<<"$stderr")" "ciq-pop: invalid count '0': expected 1 to 100000"
	# Nothing was reserved.
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}

@test "-n x is a usage error" {
	run --separate-stderr ciq-pop -n x
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "$(head -1 <<<"$stderr")" "ciq-pop: invalid count 'x': expected 1 to 100000"
	[[ $stderr == *"usage: ciq-pop "* ]]
}

@test "-n with trailing garbage, a negative count or too large a count is a usage error" {
	local n
	for n in 3x -1 '' 100001; do
		run ciq-pop -n "$n"
		assert_equal "$status" "$CIQ_EX_USAGE"
	done
}

@test "an unexpected argument is a usage error" {
	populate a
	run --separate-stderr ciq-pop a
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "$(head -1 <<<"$stderr")" "ciq-pop: unexpected argument 'a'"
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}

@test "an unknown option is a usage error" {
	run --separate-stderr ciq-pop --bogus
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "$(head -1 <<<"$stderr")" "ciq-pop: unrecognized option '--bogus'"
}

@test "an invalid --timeout is a configuration error" {
	populate a
	run --separate-stderr ciq-pop --timeout x
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid --timeout 'x': expected seconds"
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}
