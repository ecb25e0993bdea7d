#!/usr/bin/env bats
#
# Investigating on the server side: the order each worker was handed its
# tests in (order:WORKER), grind builds (ciq-populate --repeat N: every id
# queued N times, each run a test of its own) and a worker's
# --max-duration. The report's side is in report-order.bats and
# report-grind.bats.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	printf 't%s\n' 1 2 3 >"$BATS_TEST_TMPDIR/list"
}

# order W: worker W's recorded order, marker first, as redis-cli prints it.
order() {
	rcli LRANGE "$(key "order:$1")" 0 -1
}

@test "each worker's order records what it was handed, in order, batches included" {
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	printf 't%s\n' 4 5 6 >>"$BATS_TEST_TMPDIR/list"
	run ciq-pop --worker a
	assert_output t1
	run ciq-pop --worker b -n 2
	assert_output "t2
t3"
	ciq-ack --worker a -- t1
	ciq-ack --worker b -- t2 t3
	run ciq-pop --worker a
	assert_equal "$status" 1
	assert_equal "$(order a)" "
t1"
	assert_equal "$(order b)" "
t2
t3"
	# It dies with the build.
	# The build's deadline, to the second (EXPIRETIME: no clock ticks between the reads).
	assert_equal "$(rcli EXPIRETIME "$(key order:a)")" "$(rcli EXPIRETIME "$(key meta)")"
	[ "$(rcli EXPIRETIME "$(key meta)")" -gt 0 ]
}

@test "the order records reclaims and requeues where they happened" {
	printf 't1\n' >"$BATS_TEST_TMPDIR/one"
	ciq-populate --timeout 1 "$BATS_TEST_TMPDIR/one"
	t=$(ciq-pop --worker a)
	ciq-requeue --worker a --max-requeues 1 --requeue-tolerance 1 -- "$t"
	# a's own requeue goes to someone else while b is alive.
	run ciq-pop --worker b
	assert_output t1
	# b goes silent: a reclaims t1 once the timeout has passed.
	wait_for 100 sh -c '[ "$(ciq-pop --worker a --timeout 1 2>/dev/null)" = t1 ]'
	assert_equal "$(order a)" "
t1
t1"
	assert_equal "$(order b)" "
t1"
}

@test "a worker that was handed nothing has no order" {
	ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_equal "$(rcli EXISTS "$(key order:0)")" 0
}

@test "--repeat queues every id that many times, round after round" {
	run ciq-populate --order given --repeat 3 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(rcli HGET "$(key meta)" repeat)" 3
	assert_equal "$(rcli HGET "$(key meta)" total)" 9
	assert_equal "$(rcli LLEN "$(key queue)")" 9
	assert_equal "$(rcli LINDEX "$(key queue)" 0 | od -An -c | tr -s ' ')" " t 1 \n 1 \n"
	assert_equal "$(rcli LINDEX "$(key queue)" 3 | od -An -c | tr -s ' ')" " t 1 \n 2 \n"
}

@test "a grind hands out plain ids, and each run is recorded on its own" {
	ciq-populate --order given --repeat 2 "$BATS_TEST_TMPDIR/list"
	for w in a b a b a b; do
		t=$(ciq-pop --worker $w)
		if [ "$t" = t2 ] && [ $w = b ]; then
			ciq-ack --worker $w --failed -- "$t"
		else
			ciq-ack --worker $w -- "$t"
		fi
	done
	run ciq-pop --worker a
	assert_equal "$status" 1
	assert_equal "$(order a)" "
t1
t3
t2"
	assert_equal "$(order b)" "
t2
t1
t3"
	assert_equal "$(records results)" 6
	# b ran t2's first run, a its second.
	assert_equal "$(rcli HGET "$(key results)" "$(printf 't2\n1')" | cut -d' ' -f1,3)" "f b"
	assert_equal "$(rcli HGET "$(key results)" "$(printf 't2\n2')" | cut -d' ' -f1,3)" "p a"
	assert_equal "$(records held)" 0
	assert_equal "$(counter passed)" 5
	assert_equal "$(counter failed)" 1
}

@test "a worker may hold several runs of one id; each ack takes the oldest" {
	printf 't1\n' >"$BATS_TEST_TMPDIR/one"
	ciq-populate --repeat 3 "$BATS_TEST_TMPDIR/one"
	run ciq-pop -n 3
	assert_output "t1
t1
t1"
	assert_equal "$(rcli HGET "$(key held)" "$(printf '0\nt1')")" "1 2 3"
	run ciq-ack --failed -- t1
	assert_success
	assert_equal "$(rcli HGET "$(key held)" "$(printf '0\nt1')")" "2 3"
	ciq-ack -- t1 t1
	assert_equal "$(records held)" 0
	assert_equal "$(rcli HGET "$(key results)" "$(printf 't1\n1')" | cut -c1)" f
	assert_equal "$(counter passed)" 2
	# A fourth ack names no run this worker holds.
	run --separate-stderr ciq-ack -- t1
	assert_equal "$status" "$CIQ_EX_DATAERR"
}

@test "a grind never requeues: the refusal is silent and the failure is acked" {
	ciq-populate --repeat 2 --max-requeues 5 --requeue-tolerance 1 "$BATS_TEST_TMPDIR/list"
	t=$(ciq-pop)
	run --separate-stderr ciq-requeue --max-requeues 5 --requeue-tolerance 1 -- "$t"
	assert_equal "$status" 1
	assert_equal "$stderr" ""
	assert_equal "$(counter requeued)" ""
	run ciq-ack --failed -- "$t"
	assert_success
	assert_equal "$(counter failed)" 1
}

@test "a grind's heartbeat, release and reclaim follow the runs" {
	printf 't1\n' >"$BATS_TEST_TMPDIR/one"
	ciq-populate --repeat 2 --timeout 1 "$BATS_TEST_TMPDIR/one"
	run ciq-pop --worker a -n 2
	assert_output "t1
t1"
	# Released by id: both runs go back.
	run ciq-release --worker a -- t1
	assert_success
	assert_equal "$(rcli LLEN "$(key queue)")" 2
	assert_equal "$(records held)" 0
	run ciq-pop --worker b -n 2
	assert_output "t1
t1"
	assert_equal "$(rcli HGET "$(key held)" "$(printf 'b\nt1')")" "2 1"
	# b goes silent; c reclaims one run (the first in the running set), so
	# b holds the other only.
	wait_for 100 sh -c '[ "$(ciq-pop --worker c --timeout 1 2>/dev/null)" = t1 ]'
	assert_equal "$(rcli HGET "$(key held)" "$(printf 'b\nt1')")" 2
	assert_equal "$(holder "$(printf 't1\n1')")" c
	run ciq-ack --worker b -- t1
	assert_success
	run ciq-ack --worker c -- t1
	assert_success
	run ciq-ack --worker b -- t1
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$(records results)" 2
	assert_equal "$(records held)" 0
}

@test "a follower with another --repeat is a mismatch" {
	ciq-populate --repeat 3 "$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate --worker 1 "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: this worker's --repeat 1 differs from the 3 that worker '0' published: the queue holds the published runs, and the build's report will say so (--allow-mismatch when they differ on purpose)"
	run --separate-stderr ciq-populate --worker 2 --repeat 3 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
}

@test "--repeat takes a whole number from 1 to 10000" {
	for bad in 0 -1 1.5 10001 x ""; do
		run --separate-stderr ciq-populate --repeat "$bad" "$BATS_TEST_TMPDIR/list"
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr%%$'\n'*}" "ciq-populate: invalid --repeat '$bad': expected a whole number from 1 to 10000"
	done
	assert_equal "$(rcli DBSIZE)" 0
}

@test "--max-duration: a worker past it takes nothing new and says why; others go on" {
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	run ciq-pop --worker a --max-duration 0.001
	assert_output t1
	ciq-ack --worker a -- t1
	# Its next pop comes more than 1 ms after the first, by the server's clock.
	run --separate-stderr ciq-pop --worker a --max-duration 0.001
	assert_equal "$status" 1
	assert_output ""
	assert_equal "$stderr" "ciq-pop: worker 'a' stops: its --max-duration of 0.001 s since its first pop is over; other workers take the rest"
	# Not lost, not alive: done.
	[ "$(rcli ZSCORE "$(key workers)" a | cut -c1)" = - ]
	run ciq-pop --worker b --max-duration 30
	assert_output t2
}

@test "--max-duration comes from CIQ_MAX_DURATION; 0 is no limit; bad values are refused" {
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	CIQ_MAX_DURATION=0 run ciq-pop
	assert_output t1
	for bad in -1 x 1e3; do
		CIQ_MAX_DURATION=$bad run --separate-stderr ciq-pop
		assert_equal "$status" "$CIQ_EX_CONFIG"
		assert_equal "$stderr" "ciq-pop: invalid CIQ_MAX_DURATION '$bad': expected seconds"
	done
}

@test "a grind of more than 10000000 runs is refused before anything is written" {
	seq 2000 | sed 's/^/t/' >"$BATS_TEST_TMPDIR/many"
	run --separate-stderr ciq-populate --repeat 5001 "$BATS_TEST_TMPDIR/many"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: --repeat 5001 of 2000 ids makes more than 10000000 runs: nothing was published"
	assert_equal "$(rcli DBSIZE)" 0
}

@test "a retried job of a grind runs nothing again: every run counts as it ran" {
	ciq-populate --order given --repeat 2 "$BATS_TEST_TMPDIR/list"
	for _ in 1 2 3 4 5 6; do
		t=$(ciq-pop)
		if [ "$t" = t2 ]; then ciq-ack --failed -- "$t"; else ciq-ack -- "$t"; fi
	done
	run --separate-stderr ciq-populate --retry true "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs 0 failed tests again"
	run ciq-pop
	assert_equal "$status" 1
	assert_equal "$(counter failed)" 2
}
