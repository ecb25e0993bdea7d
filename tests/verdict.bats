#!/usr/bin/env bats
#
# The verdict comes from the records, and nothing lost is ever green:
# every key of a finished build deleted in turn, keys lost and made again,
# a real allkeys-random eviction, lists that differ, keys that builds can
# never share, late copies of a call, and the minimal ACL rule.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

# full_build [FAILING]: a finished build with every kind of record: a
# flaky test (a: requeued with its output by worker 1, passed by 2), a
# reclaimed one (c: silent worker 3, reclaimed by 1), a skipped one (d),
# and b, which passes, or fails with its output when FAILING is given.
full_build() {
	populate a b c d
	flaky_head a
	assert_equal "$(ciq-pop --worker 0)" b
	if [ -n "${1:-}" ]; then
		ciq-ack --worker 0 --failed --output - -- b <<<'b broke'
	else
		ciq-ack --worker 0 -- b
	fi
	assert_equal "$(ciq-pop --worker 3)" c
	assert_equal "$(ciq-pop --worker 0)" d
	ciq-ack --worker 0 --skipped -- d
	# Only c is left, held by silent worker 3: worker 1 reclaims it.
	assert_equal "$(ciq-pop --worker 1 --timeout 0.5 2>/dev/null)" c
	ciq-ack --worker 1 -- c
	for w in 0 1 2 3; do
		run ciq-pop --worker "$w"
		assert_equal "$status" "$CIQ_EX_NO"
	done
}

# build_keys: the names of the build's keys now, after its prefix.
build_keys() {
	local prefix
	prefix=$(key '')
	rcli --scan --pattern "$(key '*')" | while IFS= read -r k; do
		printf '%s\n' "${k#"$prefix"}"
	done | LC_ALL=C sort
}

# without NAME CMD...: run CMD with the key NAME of the build moved away
# (to database 1, TTL and all), then put it back.
without() {
	local name=$1
	shift
	assert_equal "$(rcli MOVE "$(key "$name")" 1)" 1
	"$@"
	assert_equal "$(redis-cli -s "$REDIS_SOCK" -n 1 MOVE "$(key "$name")" 0)" 1
}

report_now() {
	run --separate-stderr ciq-report --no-wait
}

@test "the keys of a finished build: the ones that hold records, and each worker's order" {
	full_build
	assert_equal "$(build_keys | tr '\n' ' ')" \
		'cases flaky held leader meta order:0 order:1 order:2 order:3 output owner reclaims replies requeued_by requeues results running stats workers wstats '
	report_now
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 4 tests, 3 passed, 1 skipped'
}

@test "any one key of a finished green build deleted: never green, 82, naming the key" {
	full_build
	local name
	for name in $(build_keys); do
		without "$name" report_now
		echo "without $name: $status $output $stderr"
		assert_equal "$status" "$CIQ_EX_VANISHED"
		case $name in
		meta)
			assert_output ''
			assert_equal "$stderr" "ciq-report: the keys of build '$CIQ_BUILD' vanished: its meta is gone while other keys remain (evicted or deleted)"
			;;
		*)
			assert_equal "${lines[-1]}" "LOST: keys of the build were evicted or deleted ($name): its records cannot be trusted"
			assert_line "  LOST $name"
			;;
		esac
	done
	# Every key back: green again.
	report_now
	assert_success
}

@test "any one key of a finished red build deleted: the proven failure, or 82, never green" {
	full_build fail
	local name
	for name in $(build_keys); do
		without "$name" report_now
		echo "without $name: $status $output $stderr"
		case $name in
		meta)
			assert_equal "$status" "$CIQ_EX_VANISHED"
			;;
		results)
			# No record is left to prove the failure.
			assert_equal "$status" "$CIQ_EX_VANISHED"
			assert_equal "${lines[-1]}" "LOST: keys of the build were evicted or deleted (results): its records cannot be trusted"
			;;
		*)
			assert_equal "$status" "$CIQ_EX_NO"
			assert_equal "${lines[-1]}" "FAILED: 1 of 4 tests failed, and keys of the build were lost ($name)"
			;;
		esac
	done
	report_now
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
}

@test "a lost key in --json and --junit: lost_keys, and an error case" {
	full_build
	rcli DEL "$(key flaky)" >/dev/null
	run --separate-stderr ciq-report --no-wait --json --junit "$BATS_TEST_TMPDIR/j.xml"
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$(jq -c '[.verdict, .exit_status, .lost_keys, .totals.flaky]' <<<"$output")" '["lost",82,["flaky"],0]'
	grep -q '<error type="ciq.lost" message="evicted, expired or deleted: the records cannot be trusted">flaky' "$BATS_TEST_TMPDIR/j.xml"
	if command -v xmllint >/dev/null; then
		xmllint --noout --schema "$BATS_TEST_DIRNAME/junit/junit-10.xsd" "$BATS_TEST_TMPDIR/j.xml"
	fi
}

# no_deadline: the keys of the build that have no TTL, a line each.
no_deadline() {
	build_keys | while IFS= read -r name; do
		[ "$(rcli TTL "$(key "$name")")" -ge 0 ] || printf '%s\n' "$name"
	done
}

# (Each step's status depends on the key lost, and is not what is tested:
# whatever the tools do, no key they write lives past the build.)
@test "any one key deleted mid-build: whatever the tools write again keeps the build's deadline" {
	local base=$CIQ_BUILD name t i=0
	# (A build like the ones below, for the names of its keys.)
	populate a b
	ciq-ack --worker 0 -- "$(ciq-pop --worker 0)"
	ciq-ack --worker 1 -- "$(ciq-pop --worker 1)"
	for name in $(build_keys); do
		i=$((i + 1))
		export CIQ_BUILD=$base-$i
		populate a b c d e f g tests/test_cart.py
		ciq-ack --worker 0 -- "$(ciq-pop --worker 0)"
		ciq-ack --worker 1 -- "$(ciq-pop --worker 1)"
		assert_equal "$(rcli DEL "$(key "$name")")" 1
		# (First: a key made again holds only what this call removes.)
		t=$(ciq-pop --worker 0) && t=$(ciq-ack --worker 0 --next -- "$t")
		assert_equal "$name, ack --next: $(no_deadline)" "$name, ack --next: "
		[ -z "$t" ] || run ciq-ack --worker 0 --failed --output - -- "$t" <<<"$t broke"
		assert_equal "$name, ack --failed: $(no_deadline)" "$name, ack --failed: "
		t=$(ciq-pop --worker 1) &&
			run ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 -- "$t"
		assert_equal "$name, requeue: $(no_deadline)" "$name, requeue: "
		if t=$(ciq-pop --worker 0); then
			run script_call heartbeat "$i-beat" 0 "$t"
			assert_equal "$name, heartbeat: $(no_deadline)" "$name, heartbeat: "
			run ciq-ack --worker 0 -- "$t"
		fi
		t=$(ciq-pop --worker 0) && run ciq-release --worker 0
		assert_equal "$name, release: $(no_deadline)" "$name, release: "
		# (The rest: the requeued test passes, flaky; the last one's
		# testcases come from a runner's report.)
		while t=$(ciq-pop --worker 2 --timeout 1); do
			if [ "$t" = tests/test_cart.py ]; then
				run ciq-ack --worker 2 --failed --junit "$BATS_TEST_DIRNAME/fixtures/junit/pytest.xml" -- "$t"
			else
				run ciq-ack --worker 2 -- "$t"
			fi
		done
		assert_equal "$name, the rest: $(no_deadline)" "$name, the rest: "
	done
	# Every key was tried.
	assert_equal "$i" 18
}

@test "a grind's held deleted mid-build: what the tools write again keeps the build's deadline" {
	printf '%s\n' a b | ciq-populate --order given --repeat 2
	ciq-ack --worker 0 -- "$(ciq-pop --worker 0)"
	assert_equal "$(rcli DEL "$(key held)")" 1
	# (Each id twice: a b a b.)
	assert_equal "$(ciq-pop --worker 0)" b
	assert_equal "$(no_deadline)" ''
	assert_equal "$(ciq-ack --worker 0 --next -- b)" a
	assert_equal "$(no_deadline)" ''
	ciq-ack --worker 0 -- a
	assert_equal "$(no_deadline)" ''
	assert_equal "$(rcli HGETALL "$(key held)")" ''
}

@test "a key lost mid-build and made again by a later write is still doubt" {
	populate a b
	assert_equal "$(ciq-pop)" a
	rcli DEL "$(key stats)" >/dev/null
	ciq-ack -- a
	# The ack made stats again, without its marker or its total.
	assert_equal "$(counter passed)" 1
	assert_equal "$(counter total)" ''
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "${lines[-1]}" 'LOST: keys of the build were evicted or deleted (stats): its records cannot be trusted'
}

@test "an order list lost mid-build and made again by the worker's next pop is still doubt" {
	populate a b
	ciq-ack -- "$(ciq-pop)"
	rcli DEL "$(key order:0)" >/dev/null
	ciq-ack -- "$(ciq-pop)"
	# Made again with the one id, and no marker.
	assert_equal "$(rcli LRANGE "$(key order:0)" 0 -1)" b
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "${lines[-1]}" 'LOST: keys of the build were evicted or deleted (order:0): its records cannot be trusted'
}

@test "the report ends its wait at once when a key is lost, and says so" {
	populate a b
	assert_equal "$(ciq-pop)" a
	rcli DEL "$(key workers)" >/dev/null
	# Without the check it would wait for a, held by a live worker.
	run --separate-stderr timeout 10 ciq-report --inactive-timeout 60
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_line '  UNFINISHED a  [held by worker 0]'
	assert_equal "${lines[-1]}" 'LOST: keys of the build were evicted or deleted (workers): its records cannot be trusted'
}

@test "a flaky pass after stats was lost leaves no counter below zero, and the report trusts the records" {
	populate a
	assert_equal "$(ciq-pop --worker 0)" a
	# Worker 0 falls silent; worker 1 reclaims a.
	assert_equal "$(ciq-pop --worker 1 --timeout 0.5 2>/dev/null)" a
	# Worker 0's late failure is the first result.
	ciq-ack --worker 0 --failed -- a
	rcli DEL "$(key stats)" >/dev/null
	# Worker 1's pass makes a flaky, and passed.
	ciq-ack --worker 1 -- a
	assert_equal "$(counter failed)" 0
	assert_equal "$(counter passed)" 1
	run ciq-report --no-wait --json
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$(jq -c '[.totals.passed, .totals.failed, .totals.flaky, .lost_keys]' <<<"$output")" '[1,0,1,["stats"]]'
}

@test "only meta lost: the report says the keys vanished at once, not 'never populated'" {
	populate a b
	work 0
	rcli DEL "$(key meta)" >/dev/null
	SECONDS=0
	run --separate-stderr ciq-report --init-timeout 30
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-report: the keys of build '$CIQ_BUILD' vanished: its meta is gone while other keys remain (evicted or deleted)"
	[ "$SECONDS" -lt 10 ]
}

@test "only meta lost mid-build: a worker's pop says the build is gone, it does not wait" {
	populate a b
	assert_equal "$(ciq-pop)" a
	rcli DEL "$(key meta)" >/dev/null
	run --separate-stderr timeout 10 ciq-pop --init-timeout 30
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" "ciq-pop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

# intact: every record key of the build is there with its marker, every
# published test has a result: what a green report must rest on.
intact() {
	local name total
	for name in $PUBLISHED_KEYS; do
		case $name in
		queue) ;;
		leader | meta) [ "$(rcli EXISTS "$(key "$name")")" = 1 ] || return 1 ;;
		# (running's marker is its member at +inf.)
		running) [ "$(rcli ZCOUNT "$(key running)" +inf +inf)" = 1 ] || return 1 ;;
		*)
			case $(rcli TYPE "$(key "$name")") in
			hash) [ "$(rcli HEXISTS "$(key "$name")" '')" = 1 ] || return 1 ;;
			set) [ "$(rcli SISMEMBER "$(key "$name")" '')" = 1 ] || return 1 ;;
			zset) [ -n "$(rcli ZSCORE "$(key "$name")" '')" ] || return 1 ;;
			*) return 1 ;;
			esac
			;;
		esac
	done
	total=$(rcli HGET "$(key meta)" total)
	[ "$(records results)" = "$total" ]
}

@test "under a real allkeys-random eviction, a report is green only when every record is there" {
	local dir greens=0 reds=0 run_ i s whole
	dir=$(mktemp -d /tmp/ciq.XXXXXX)
	server_start "$dir" --maxmemory 2500kb --maxmemory-policy allkeys-random
	local REDIS_SOCK=$dir/sock
	export CIQ_QUEUE="unix://$dir/sock"
	for run_ in $(seq 12); do
		redis-cli -s "$dir/sock" FLUSHALL >/dev/null
		# Ballast close to the limit: the build's own writes evict keys.
		for i in $(seq 60); do
			redis-cli -s "$dir/sock" SET "ballast:$i" "$(head -c 20000 /dev/zero | tr '\0' x)" >/dev/null
		done
		export CIQ_BUILD="evict$run_"
		seq 300 | ciq-populate --order given 2>/dev/null || continue
		while t=$(ciq-pop 2>/dev/null); do
			ciq-ack -- "$t" 2>/dev/null || break
		done
		# Whole before the report, or the report must not be green. (Not
		# after: the report's own write of the timing history, once it
		# judged, may evict keys. A key lost before never comes back
		# whole: its marker is gone.)
		s=0 whole=1
		intact || whole=0
		ciq-report --no-wait >/dev/null 2>&1 || s=$?
		if [ "$s" -eq 0 ]; then
			[ "$whole" = 1 ] || { echo "run $run_: green without every record" >&2; false; }
			greens=$((greens + 1))
		else
			reds=$((reds + 1))
		fi
	done
	echo "green $greens, not green $reds"
	[ "$(redis-cli -s "$dir/sock" INFO stats | sed -n 's/^evicted_keys:\([0-9]*\).*/\1/p')" -gt 0 ]
	server_stop "$dir"
}

# --- keys builds never share ---------------------------------------------------

@test "namespace 'unit' with build 42 and build 'unit:42' use different keys" {
	CIQ_NAMESPACE=unit CIQ_BUILD=42 populate a b
	CIQ_BUILD=unit:42 populate x y z
	assert_equal "$(rcli HGET 'ciq:{unit:42}:meta' total)" 2
	assert_equal "$(rcli HGET 'ciq:{unit%3A42}:meta' total)" 3
	CIQ_NAMESPACE=unit CIQ_BUILD=42 work 0
	CIQ_BUILD=unit:42 work 0
	run ciq-report --namespace unit --build 42 --no-wait
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 2 tests, 2 passed, 0 skipped'
	run ciq-report --build unit:42 --no-wait
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 3 tests, 3 passed, 0 skipped'
}

@test "namespace 'a' with build 'b:c' and namespace 'a:b' with build 'c' use different keys" {
	CIQ_NAMESPACE=a CIQ_BUILD=b:c populate one
	CIQ_NAMESPACE=a:b CIQ_BUILD=c populate two three
	CIQ_NAMESPACE=a CIQ_BUILD=b%c populate four five six
	assert_equal "$(rcli HGET 'ciq:{a:b%3Ac}:meta' total)" 1
	assert_equal "$(rcli HGET 'ciq:{a%3Ab:c}:meta' total)" 2
	assert_equal "$(rcli HGET 'ciq:{a:b%25c}:meta' total)" 3
	CIQ_NAMESPACE=a CIQ_BUILD=b:c run ciq-pop
	assert_output one
}

@test "every key ciq writes, the timing history included, is under ciq:" {
	export CIQ_NAMESPACE=ns1
	full_build
	run ciq-report
	assert_success
	[ -n "$(rcli --scan --pattern 'ciq:timing:*')" ]
	assert_equal "$(rcli --scan | grep -cv '^ciq:')" 0
}

# --- lists that disagree --------------------------------------------------------

@test "a worker whose list differs: its populate exits 65, the report is not green (84)" {
	populate a b c
	run ciq-populate --worker 1 < <(printf '%s\n' a b c d)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	work 0
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_MISMATCH"
	local d
	d=$(digest a b c d | cut -c1-12)
	assert_line "  MISMATCH worker 1  [4 ids, digest $d]"
	assert_equal "${lines[-1]}" 'MISMATCH: the lists of 1 worker differed from the 3 tests published: tests they listed may not have run'
	run ciq-report --json
	assert_equal "$status" "$CIQ_EX_MISMATCH"
	assert_equal "$(jq -c '[.verdict, .exit_status, (.mismatches[] | [.worker, .ids, .digest[0:12]])]' <<<"$output")" \
		"[\"mismatch\",84,[\"1\",4,\"$d\"]]"
	run ciq-report --junit "$BATS_TEST_TMPDIR/j.xml"
	assert_equal "$status" "$CIQ_EX_MISMATCH"
	grep -q "<testcase name=\"list of worker 1\" classname=\"ciq\">" "$BATS_TEST_TMPDIR/j.xml"
}

@test "a worker that joins again with the published list clears its mismatch" {
	populate a b c
	run ciq-populate --worker 1 < <(printf '%s\n' a b)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	run ciq-populate --worker 1 < <(printf '%s\n' c b a)
	assert_success
	work 0
	run ciq-report
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 3 tests, 3 passed, 0 skipped'
}

@test "a mismatch and a failure: the report says the lists differed (84)" {
	populate a b
	run ciq-populate --worker 1 < <(printf '%s\n' a)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	work 0 b
	run ciq-report
	assert_equal "$status" "$CIQ_EX_MISMATCH"
	assert_line '  FAIL b  [worker 0, '"$(result b | cut -d' ' -f2 | awk '{printf "%d.%03d", $1/1000, $1%1000}')"' s, 1 attempt]'
}

@test "--allow-mismatch: lists that differ on purpose leave the report green" {
	populate a b c
	run ciq-populate --allow-mismatch --worker 1 < <(printf '%s\n' a b)
	assert_success
	work 0
	run ciq-report
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 3 tests, 3 passed, 0 skipped'
}

# --- late copies of a call --------------------------------------------------------

@test "a copy of a pop delivered after a newer call of the worker is stale: it takes nothing" {
	populate a b c
	# The first pop, as sent at time 1, ran and got a.
	run pop_call 0000000000000001aaaaaaaa 0
	assert_output $'ok\na\nqueue\n\n1'
	# The worker went on: its ack and next pop ran (now).
	ciq-ack -- a
	assert_equal "$(ciq-pop)" b
	# The network now delivers a copy of the first call, late.
	run pop_call 0000000000000001aaaaaaaa 0
	assert_output stale
	# And a copy of a call older still.
	run pop_call 0000000000000000bbbbbbbb 0
	assert_output stale
	assert_equal "$(members running)" b
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" c
	# Another worker is not held back by worker 0's clock.
	run pop_call 0000000000000002cccccccc 1
	assert_output $'ok\nc\nqueue\n\n1'
}

@test "a pop answered 'wait' is remembered: a late copy of it takes nothing" {
	populate a
	assert_equal "$(ciq-pop --worker 1)" a
	run pop_call 0000000000000001aaaaaaaa 0
	assert_equal "${lines[0]}" wait
	# a comes back to the queue; a copy of that call is replayed, not run.
	ciq-release --worker 1
	run pop_call 0000000000000001aaaaaaaa 0
	assert_equal "${lines[0]}" wait
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" a
	run pop_call 0000000000000002aaaaaaaa 0
	assert_output $'ok\na\nqueue\n\n1'
}

@test "acks of one worker may overlap: one that arrives after a newer one still records" {
	populate a b
	assert_equal "$(ciq-pop -n 2 | tr '\n' ' ')" 'a b '
	# ack ARGV: status output has_output cases has_cases id...
	# The reply ends with how long the worker held the test (ms).
	run script_call ack 0000000000000002aaaaaaaa 0 pass '' 0 '' 0 b
	assert_equal "${lines[*]:0:4}" 'ok b recorded 1'
	[[ ${lines[4]} =~ ^[0-9]+$ ]]
	run script_call ack 0000000000000001bbbbbbbb 0 pass '' 0 '' 0 a
	assert_equal "${lines[*]:0:4}" 'ok a recorded 1'
	[[ ${lines[4]} =~ ^[0-9]+$ ]]
	assert_equal "${#lines[@]}" 5
	assert_equal "$(records results)" 2
}

# now_nonce: a nonce of this moment, as the tools make them (lib/script.c).
now_nonce() {
	printf '%016x%08x\n' $(($(date +%s%N) / 1000)) "$RANDOM"
}

@test "a copy of a release delivered after the worker's next pop gives nothing back" {
	populate a b
	assert_equal "$(ciq-pop)" a
	local n
	n=$(now_nonce)
	run script_call release "$n" 0
	assert_output $'released\n1'
	assert_equal "$(ciq-pop)" a
	run script_call release "$n" 0
	assert_output stale
	assert_equal "$(members running)" a
}

@test "a tool that meets a newer call of its worker says so and exits 70" {
	populate a b
	# A call from the future, as from another job with the same worker id
	# on a machine whose clock runs ahead.
	run pop_call 7fffffffffffffffaaaaaaaa 0
	assert_output $'ok\na\nqueue\n\n1'
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" "ciq-pop: a newer call of worker '0' already ran on build '$CIQ_BUILD': is another job running with the same worker id, or did this machine's clock go back?"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
}

@test "ciq-ack --next and ciq-loop that meet a newer call of their worker say so and exit 70" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	run pop_call 7fffffffffffffffaaaaaaaa 0
	assert_output $'ok\nb\nqueue\n\n1'
	run --separate-stderr ciq-ack --next -- a
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_output ''
	assert_equal "$stderr" "ciq-ack: a newer call of worker '0' already ran on build '$CIQ_BUILD': is another job running with the same worker id, or did this machine's clock go back?"
	run --separate-stderr ciq-loop < <(printf 'pass\t\ta\n')
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_output ''
	assert_equal "$stderr" "ciq-loop: a newer call of worker '0' already ran on build '$CIQ_BUILD': is another job running with the same worker id, or did this machine's clock go back?"
	assert_equal "$(records results)" 0
	assert_equal "$(queue)" c
}

# --- ACL ------------------------------------------------------------------------

# The rule of ACL in ciq(7), as the man page gives it.
acl_rule() {
	sed -n 's/^\tACL SETUSER ciq on >PASSWORD \(.*\)$/\1/p' "$CIQ_ROOT/man/ciq.7.scd" |
		sed 's/\\\*/*/g'
}

# acl_user NAME SED: a user with the rule of ciq(7), edited by SED.
acl_user() {
	local rule
	read -ra rule <<<"$(acl_rule | sed "$2")"
	[ "${#rule[@]}" -gt 10 ]
	rcli ACL SETUSER "$1" reset on '>pw' "${rule[@]}" >/dev/null
}

@test "a whole build runs as a user with exactly the ACL rule of ciq(7)" {
	acl_user ciq ''
	printf '#!/bin/sh\n[ "$1" != b ]\n' >"$BATS_TEST_TMPDIR/runner"
	chmod +x "$BATS_TEST_TMPDIR/runner"
	export CIQ_USER=ciq CIQ_PASSWORD=pw CIQ_NAMESPACE=acl CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	local b
	for b in acl1 acl2; do
		export CIQ_BUILD=$b
		printf '%s\n' a b c d | ciq-populate
		printf '%s\n' a b c d | ciq-populate --worker 1
		ciq-pop --worker 1 >/dev/null
		ciq-release --worker 1
		worker_loop 1 "$BATS_TEST_TMPDIR/runner" &
		worker_loop 2 "$BATS_TEST_TMPDIR/runner"
		wait
		run ciq-report --junit "$BATS_TEST_TMPDIR/j.xml"
		assert_equal "$status" "$CIQ_EX_NO"
		assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
		assert_line '  REQUEUED b  [1 time]'
	done
	# The second build was ordered by the first one's durations.
	assert_equal "$(rcli HGET "$(key meta)" order)" timing
	assert_equal "$(rcli HLEN 'ciq:timing:{acl}')" 4
}

@test "a user without EVALSHA gets 78, naming what it lacks" {
	acl_user nosha 's/+evalsha //'
	export CIQ_USER=nosha CIQ_PASSWORD=pw
	run --separate-stderr ciq-populate < <(printf '%s\n' a)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: the server's ACL does not let user 'nosha' do what a script needs (NOPERM this user has no permissions to run the 'evalsha' command): give the user the rule under ACL in ciq(7)"
}

# pop_refused USER SED MESSAGE: ciq-pop, as a user with the rule of ciq(7)
# edited by SED, exits 78 with "ciq-pop: the server's ACL does not let
# user 'USER' " and MESSAGE, and prints nothing.
pop_refused() {
	acl_user "$1" "$2"
	export CIQ_USER=$1 CIQ_PASSWORD=pw
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: the server's ACL does not let user '$1' $3"
}

@test "a user without a command a script runs gets 78, naming the command" {
	populate a
	pop_refused nozadd 's/+zadd //' "run ZADD, which a script needs (ERR The user executing the script can't run this command or subcommand): give the user the rule under ACL in ciq(7)"
}

@test "a user without several commands the scripts run gets them all named" {
	populate a
	pop_refused nowrite 's/+zadd //; s/+hset //; s/+lpop //' "run HSET, LPOP, ZADD, which a script needs (ERR The user executing the script can't run this command or subcommand): give the user the rule under ACL in ciq(7)"
}

@test "a user without a command, where the server cannot be asked which, gets 78 and the server's words" {
	populate a
	# pop.lua is loaded (by the default user); acl.lua, which asks, is not,
	# and this user may not load it.
	rcli SCRIPT FLUSH >/dev/null
	printf '%s\n' x | ciq-populate --build warm
	assert_equal "$(ciq-pop --build warm)" x
	pop_refused noeval 's/+eval //; s/+zadd //' "do what a script needs (ERR The user executing the script can't run this command or subcommand): give the user the rule under ACL in ciq(7)"
}

@test "every command the scripts run is in the ACL rule of ciq(7)" {
	local rule c n=0
	rule=" $(acl_rule) "
	for c in $(sh "$CIQ_ROOT/lua/commands.sh" "$CIQ_ROOT"/lua/*.lua | grep -o '"[A-Z]*"'); do
		c=${c//\"/}
		n=$((n + 1))
		[[ $rule == *" +${c,,} "* ]] || { echo "ciq(7) lacks +${c,,}"; return 1; }
	done
	[ "$n" -gt 30 ]
}

@test "a user without a command the report sends gets 78, naming it" {
	populate a
	work 0
	acl_user nohscan 's/+hscan //'
	export CIQ_USER=nohscan CIQ_PASSWORD=pw
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-report: the server's ACL does not let user 'nohscan' do what HSCAN results needs (NOPERM this user has no permissions to run the 'hscan' command): give the user the rule under ACL in ciq(7)"
}

@test "a user whose keys stop short of ciq:* gets 78" {
	acl_user narrow 's/~ciq:\*/~ciq:{other}:*/'
	export CIQ_USER=narrow CIQ_PASSWORD=pw
	run --separate-stderr ciq-populate < <(printf '%s\n' a)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: the server's ACL does not let user 'narrow' do what a script needs (NOPERM this user has no permissions to access one of the keys used as arguments): give the user the rule under ACL in ciq(7)"
}
