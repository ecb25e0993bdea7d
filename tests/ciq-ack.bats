#!/usr/bin/env bats
#
# ciq-ack: results, outputs, ownership, stale acks after a reclaim, flaky.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

# Worker 0 holds t, then worker 1 reclaims it after a 0.5 s silence.
reclaim_t() {
	populate t
	run ciq-pop --timeout 0.5
	assert_success
	assert_output t
	# Nothing else is queued: worker 1 waits until t is lost, then takes it.
	run --separate-stderr ciq-pop --worker 1 --timeout 0.5
	assert_success
	assert_output t
	assert_equal "$stderr" "ciq-pop: reclaimed 't' from worker 0, silent for over 0.5 s"
}

@test "a pass is recorded with its duration and worker and counted" {
	populate a
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack -- a
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	run result a
	assert_output --regexp '^p [0-9]+ 0$'
	assert_equal "$(counter passed)" 1
	assert_equal "$(counter failed)" ''
	# The reservation is over.
	assert_equal "$(rcli ZSCORE "$(key running)" a)" ''
	assert_equal "$(rcli HEXISTS "$(key owner)" a)" 0
}

@test "an owner value without its reservation time (an older version's) is the worker's, held 0 ms" {
	populate a b
	ciq-pop >/dev/null
	rcli HSET "$(key owner)" a 0 >/dev/null
	run --separate-stderr ciq-ack -- a
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(result a)" 'p 0 0'
	assert_equal "$(rcli HEXISTS "$(key owner)" a)" 0
	# A requeue reads it the same way.
	ciq-pop >/dev/null
	rcli HSET "$(key owner)" b 0 >/dev/null
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- b
	assert_success
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
}

@test "--long prints the held time the result records, and - for a test held no more" {
	populate 'a b' c
	ciq-pop -n 2 >/dev/null
	run --separate-stderr ciq-ack --long -- 'a b'
	assert_success
	assert_equal "$stderr" ''
	# The very milliseconds of the record.
	assert_output "$(result 'a b' | cut -d' ' -f2) a b"
	# Recorded again: this call ended no reservation.
	run --separate-stderr ciq-ack -l -- 'a b'
	assert_success
	assert_output '- a b'
	run ciq-ack -l --failed -- c
	assert_success
	assert_output --regexp '^[0-9]+ c$'
}

@test "a failure is recorded as f and counted failed" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack --failed -- a
	assert_success
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(counter failed)" 1
	assert_equal "$(counter passed)" ''
}

@test "a skip is recorded as s and counted skipped" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack --skipped -- a
	assert_success
	run result a
	assert_output --regexp '^s [0-9]+ 0$'
	assert_equal "$(counter skipped)" 1
}

@test "the short options -f and -s record a failure and a skip" {
	populate a b
	ciq-pop -n 2 >/dev/null
	run ciq-ack -f a
	assert_success
	run ciq-ack -s b
	assert_success
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
	run result b
	assert_output --regexp '^s [0-9]+ 0$'
}

@test "the worker is taken from --worker over CIQ_WORKER" {
	populate a
	ciq-pop --worker w-9 >/dev/null
	run ciq-ack --worker w-9 -- a
	assert_success
	run result a
	assert_output --regexp '^p [0-9]+ w-9$'
}

@test "a failure's output file is stored with it" {
	populate a
	ciq-pop >/dev/null
	printf 'boom\nat line 3\n' >"$BATS_TEST_TMPDIR/out"
	run ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" -- a
	assert_success
	assert_equal "$(rcli HGET "$(key output)" a)" "$(printf 'boom\nat line 3')"
	assert_equal "$(rcli HSTRLEN "$(key output)" a)" 15
}

@test "--output - reads the output from stdin" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack --failed --output - -- a <<<'from stdin'
	assert_success
	assert_equal "$(rcli HGET "$(key output)" a)" 'from stdin'
}

@test "an output with NUL and CR bytes is stored byte for byte" {
	populate a
	ciq-pop >/dev/null
	printf 'x\0y\r\nz' >"$BATS_TEST_TMPDIR/out"
	run ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" -- a
	assert_success
	rcli HGET "$(key output)" a >"$BATS_TEST_TMPDIR/got"
	# redis-cli adds one newline after the value.
	printf 'x\0y\r\nz\n' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
}

@test "stdin is not read without --output -" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack --failed -- a <<<'never read'
	assert_success
	assert_equal "$(rcli HEXISTS "$(key output)" a)" 0
}

@test "the output of a pass is not stored" {
	populate a
	ciq-pop >/dev/null
	run ciq-ack --output - -- a <<<'fine'
	assert_success
	assert_equal "$(rcli HEXISTS "$(key output)" a)" 0
}

# stored_output ID FILE: the output stored for ID (the only failure), as
# the report reads it back, in FILE. (Stored compressed: ciq(7), STORAGE.)
stored_output() {
	run ciq-report --json
	assert_failure 1
	jq -j --arg id "$1" '.failures[] | select(.id == $id) | .output' <<<"$output" >"$2"
}

@test "an output of exactly 65536 bytes is stored whole" {
	populate a
	ciq-pop >/dev/null
	head -c 65536 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/out"
	run ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" -- a
	assert_success
	stored_output a "$BATS_TEST_TMPDIR/got"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/got"
}

@test "an output over 64 KiB is cut to its last bytes, 65536 in all, behind a note" {
	populate a
	ciq-pop >/dev/null
	local out=$BATS_TEST_TMPDIR/out got=$BATS_TEST_TMPDIR/got
	# 200000 bytes of distinct lines, so the kept tail is checkable.
	seq -f 'line %07g of the test output' 1 100000 | head -c 200000 >"$out"
	assert_equal "$(wc -c <"$out")" 200000
	run ciq-ack --failed --output "$out" -- a
	assert_success
	# Stored compressed: far less than the 65536 bytes it holds.
	[ "$(rcli HSTRLEN "$(key output)" a)" -lt 32768 ]
	stored_output a "$got"
	assert_equal "$(wc -c <"$got")" 65536
	# man ciq-ack: "[ciq: output cut: the first D of N bytes were dropped]"
	local note='[ciq: output cut: the first 134529 of 200000 bytes were dropped]'
	assert_equal "$(head -n 1 "$got")" "$note"
	# The note and its newline, then the file's last bytes: 65536 in all,
	# and D is exactly what was left out.
	local keep=$((65536 - ${#note} - 1))
	assert_equal $((200000 - keep)) 134529
	cmp <(tail -c "$keep" "$out") <(tail -c +$((${#note} + 2)) "$got")
}

@test "an output of 65537 bytes is cut with a note counting the dropped bytes" {
	populate a
	ciq-pop >/dev/null
	local out=$BATS_TEST_TMPDIR/out got=$BATS_TEST_TMPDIR/got
	{ printf 'FIRST'; head -c 65527 /dev/zero | tr '\0' y; printf 'LAST\n'; } >"$out"
	assert_equal "$(wc -c <"$out")" 65537
	run ciq-ack --failed --output "$out" -- a
	assert_success
	stored_output a "$got"
	assert_equal "$(wc -c <"$got")" 65536
	local note='[ciq: output cut: the first 61 of 65537 bytes were dropped]'
	assert_equal "$(head -n 1 "$got")" "$note"
	assert_equal $((65537 - (65536 - ${#note} - 1))) 61
	# The kept bytes start after the first 61 and end with LAST.
	cmp <(tail -c +62 "$out") <(tail -c +$((${#note} + 2)) "$got")
}

@test "an output over 64 KiB read from stdin is cut the same way" {
	populate a
	ciq-pop >/dev/null
	local got=$BATS_TEST_TMPDIR/got
	seq -f '%09g' 1 30000 >"$BATS_TEST_TMPDIR/out" # 300000 bytes
	run ciq-ack --failed --output - -- a <"$BATS_TEST_TMPDIR/out"
	assert_success
	stored_output a "$got"
	assert_equal "$(wc -c <"$got")" 65536
	assert_equal "$(head -n 1 "$got")" '[ciq: output cut: the first 234529 of 300000 bytes were dropped]'
	assert_equal "$(tail -n 1 "$got")" 000030000
	cmp <(tail -c 65471 "$BATS_TEST_TMPDIR/out") <(tail -c 65471 "$got")
}

@test "an ack of a test this worker never reserved exits 65 and records nothing" {
	populate a b
	ciq-pop --worker 1 >/dev/null # worker 1 holds a
	run --separate-stderr ciq-ack --failed -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: 'a' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
	assert_equal "$(counter failed)" ''
	# Worker 1 still holds it.
	assert_equal "$(holder a)" 1
	run --separate-stderr ciq-ack -- b
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: 'b' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
}

@test "an ack of an id not in the build exits 65" {
	populate a
	run --separate-stderr ciq-ack -- nope
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: 'nope' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 0
}

@test "one ack call records several tests" {
	populate a b c
	run ciq-pop -n 3
	assert_output "$(printf 'a\nb\nc')"
	run --separate-stderr ciq-ack --skipped -- a b c
	assert_success
	assert_equal "$stderr" ''
	for t in a b c; do
		run result "$t"
		assert_output --regexp '^s [0-9]+ 0$'
	done
	assert_equal "$(counter skipped)" 3
	assert_equal "$(records running)" 0
}

@test "one ack call with one foreign id records the others and exits 65" {
	populate a b c
	ciq-pop -n 2 >/dev/null
	run --separate-stderr ciq-ack -- a c b
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: 'c' was never reserved by worker '0': not recorded"
	assert_equal "$(records results)" 2
	assert_equal "$(result c)" ''
	assert_equal "$(counter passed)" 2
}

@test "--failed and --skipped together are a usage error" {
	populate a
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --failed --skipped -- a
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" 'ciq-ack: --failed and --skipped exclude each other'
	assert_equal "$(records results)" 0
}

@test "an ack without a test is a usage error" {
	run --separate-stderr ciq-ack --failed
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" 'ciq-ack: no test given'
	run --separate-stderr ciq-ack --failed --
	assert_equal "$status" "$CIQ_EX_USAGE"
}

@test "a missing output file exits 65 and records nothing" {
	populate a
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --failed --output "$BATS_TEST_TMPDIR/missing" -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: cannot open '$BATS_TEST_TMPDIR/missing': No such file or directory: nothing was recorded"
	assert_equal "$(records results)" 0
	# Still reserved: the worker can ack again.
	assert_equal "$(holder a)" 0
}

@test "an id starting with a dash is acked after --" {
	populate --failed -x
	ciq-pop -n 2 >/dev/null
	run ciq-ack -- --failed -x
	assert_success
	run result --failed
	assert_output --regexp '^p [0-9]+ 0$'
	run result -x
	assert_output --regexp '^p [0-9]+ 0$'
}

@test "an ack of a build never populated exits 82" {
	run --separate-stderr ciq-ack -- a
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" "ciq-ack: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "a stale ack after a reclaim records the first result but leaves the new owner's reservation" {
	reclaim_t
	run --separate-stderr ciq-ack -- t
	assert_success
	assert_equal "$stderr" "ciq-ack: 't' was reclaimed by another worker: this first result is recorded"
	# No duration: worker 0 no longer held the reservation.
	assert_equal "$(result t)" 'p  0'
	assert_equal "$(counter passed)" 1
	[ -n "$(rcli ZSCORE "$(key running)" t)" ]
	assert_equal "$(holder t)" 1

	# The new owner's ack ends the reservation; the first result stays.
	run --separate-stderr ciq-ack --worker 1 -- t
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(records running)" 0
	assert_equal "$(rcli HEXISTS "$(key owner)" t)" 0
	assert_equal "$(result t)" 'p  0'
	assert_equal "$(counter passed)" 1
	run ciq-pop --worker 1
	assert_equal "$status" "$CIQ_EX_NO"
}

@test "a late ack after the new owner's ack changes nothing" {
	reclaim_t
	run --separate-stderr ciq-ack --worker 1 --skipped -- t
	assert_success
	assert_equal "$stderr" ''
	run result t
	assert_output --regexp '^s [0-9]+ 1$'
	local before
	before=$(result t)
	printf 'late\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" -- t
	assert_success
	assert_equal "$stderr" "ciq-ack: 't' already has a result: this one is ignored"
	assert_equal "$(result t)" "$before"
	assert_equal "$(counter skipped)" 1
	assert_equal "$(counter failed)" ''
	assert_equal "$(records output)" 0
	assert_equal "$(records running)" 0
}

@test "a failure then a pass on another attempt makes the test flaky and passed" {
	reclaim_t
	printf 'first attempt\n' >"$BATS_TEST_TMPDIR/out"
	run --separate-stderr ciq-ack --failed --output "$BATS_TEST_TMPDIR/out" -- t
	assert_success
	assert_equal "$stderr" "ciq-ack: 't' was reclaimed by another worker: this first result is recorded"
	assert_equal "$(counter failed)" 1
	run --separate-stderr ciq-ack --worker 1 -- t
	assert_success
	assert_equal "$stderr" "ciq-ack: 't' both passed and failed: recorded as flaky"
	run result t
	assert_output --regexp '^p [0-9]+ 1$'
	assert_equal "$(counter flaky)" 1
	assert_equal "$(counter failed)" 0
	assert_equal "$(counter passed)" 1
	assert_equal "$(members flaky)" t
	assert_equal "$(records running)" 0
}

@test "a pass then a failure on another attempt makes the test flaky and keeps the pass" {
	reclaim_t
	run ciq-ack -- t
	assert_success
	run --separate-stderr ciq-ack --worker 1 --failed --output - -- t <<<'second attempt'
	assert_success
	assert_equal "$stderr" "ciq-ack: 't' both passed and failed: recorded as flaky"
	assert_equal "$(result t)" 'p  0'
	assert_equal "$(counter flaky)" 1
	assert_equal "$(counter passed)" 1
	assert_equal "$(counter failed)" ''
	assert_equal "$(rcli HGET "$(key output)" t)" 'second attempt'
}

@test "a skip after a failure leaves the failure as the result" {
	reclaim_t
	run ciq-ack --failed -- t
	assert_success
	run --separate-stderr ciq-ack --worker 1 --skipped -- t
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(result t)" 'f  0'
	assert_equal "$(counter failed)" 1
	assert_equal "$(counter skipped)" ''
	assert_equal "$(counter flaky)" ''
	assert_equal "$(records running)" 0
}

@test "a second ack of the same test by the same worker changes nothing" {
	populate a
	ciq-pop >/dev/null
	ciq-ack --failed --output - -- a <<<'first'
	local before
	before=$(result a)
	run --separate-stderr ciq-ack --failed --output - -- a <<<'second'
	assert_success
	assert_equal "$stderr" "ciq-ack: 'a' already has a result: this one is ignored"
	assert_equal "$(result a)" "$before"
	assert_equal "$(counter failed)" 1
	assert_equal "$(rcli HGET "$(key output)" a)" first
}

@test "a repeated --failed is not taken for --failed with --skipped" {
	populate a
	ciq-pop >/dev/null
	run --separate-stderr ciq-ack --failed --failed -- a
	assert_success
	assert_equal "$stderr" ''
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
}

@test "a failure without --output keeps the output of an earlier requeue" {
	populate a
	ciq-pop >/dev/null
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 --output - -- a <<<'from the requeue'
	assert_equal "$(ciq-pop)" a
	run ciq-ack --failed -- a
	assert_success
	assert_equal "$(rcli HGET "$(key output)" a)" 'from the requeue'
}

@test "a failure with --output replaces the output of an earlier requeue" {
	populate a
	ciq-pop >/dev/null
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 --output - -- a <<<'from the requeue'
	assert_equal "$(ciq-pop)" a
	run ciq-ack --failed --output - -- a <<<'from the second try'
	assert_success
	assert_equal "$(rcli HGET "$(key output)" a)" 'from the second try'
}

@test "an ack after a release records the first result without a duration" {
	populate a b
	ciq-pop >/dev/null
	ciq-release
	run --separate-stderr ciq-ack -- a
	assert_success
	assert_equal "$stderr" "ciq-ack: 'a' was reclaimed by another worker: this first result is recorded"
	assert_equal "$(result a)" 'p  0'
	# The release put it back; the ack does not take it out of the queue.
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf 'a\nb')"
}
