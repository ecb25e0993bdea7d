#!/usr/bin/env bats
#
# Timing order: the report folds a finished build's durations into its
# namespace's history; --order timing runs new tests first, then the
# longest first.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() {
	ciq_setup
	export CIQ_NAMESPACE="ns$BATS_TEST_NUMBER"
}

history() {
	rcli HGET "ciq:timing:{$CIQ_NAMESPACE}" "$1"
}

# build ID DURATION_MS...: a finished build whose tests took these times
# (recorded straight into its results, as acks would), then its report.
finished_build() {
	local id
	export CIQ_BUILD=$1
	shift
	printf '%s\n' "${@%%=*}" | ciq-populate --order given
	for t in "$@"; do
		id=${t%%=*}
		ciq-pop >/dev/null
		ciq-ack -- "$id"
		rcli HSET "$(key results)" "$id" "p ${t#*=} 0" >/dev/null
	done
	ciq-report >/dev/null
}

@test "a finished build's report records each test's duration" {
	finished_build b1 a=100 b=3000 c=20
	assert_equal "$(history a)" 100
	assert_equal "$(history b)" 3000
	assert_equal "$(history c)" 20
	run rcli TTL "ciq:timing:{$CIQ_NAMESPACE}"
	[ "$output" -gt 1209000 ] && [ "$output" -le 1209600 ]
}

@test "each build counts for half of the moving average" {
	finished_build b1 a=100
	finished_build b2 a=300
	assert_equal "$(history a)" 200
}

@test "a report run twice records the build once" {
	finished_build b1 a=100
	rcli HSET "ciq:timing:{$CIQ_NAMESPACE}" a 500 >/dev/null
	ciq-report >/dev/null
	assert_equal "$(history a)" 500
}

@test "a build's results kept compact by the server are recorded whole, not a page of them" {
	# With a high listpack threshold the server returns the results hash
	# in one HSCAN page, whatever COUNT asks: every duration must land.
	rcli CONFIG SET hash-max-listpack-entries 5000 >/dev/null
	seq 2500 | sed 's/^/t/' | ciq-populate --order given
	ciq-pop -n 2500 >"$BATS_TEST_TMPDIR/ids"
	xargs ciq-ack -- <"$BATS_TEST_TMPDIR/ids"
	run ciq-report
	rcli CONFIG SET hash-max-listpack-entries 128 >/dev/null
	assert_success
	assert_equal "$(rcli HLEN "ciq:timing:{$CIQ_NAMESPACE}")" 2500
}

@test "an unfinished build records nothing" {
	export CIQ_BUILD=b1
	printf '%s\n' a b | ciq-populate
	t=$(ciq-pop)
	ciq-ack -- "$t"
	run ciq-report --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$(rcli EXISTS "ciq:timing:{$CIQ_NAMESPACE}")" 0
}

@test "--order timing: new tests first in seeded order, then the longest first" {
	finished_build b1 short=10 long=5000 mid=300
	export CIQ_BUILD=b2
	printf '%s\n' short new1 long mid new2 new3 | ciq-populate --order timing --seed s1
	run rcli LRANGE "$(key queue)" 0 -1
	# The new ones keep the order --order random gives the list, seed s1.
	local new
	new=$(printf '%s\n' short new1 long mid new2 new3 |
		ciq-populate --build b3 --order random --seed s1 &&
		rcli LRANGE "ciq:{$CIQ_NAMESPACE:b3}:queue" 0 -1 | grep new | tr '\n' ' ')
	assert_equal "$(echo "$output" | head -3 | tr '\n' ' ')" "$new"
	assert_equal "$(echo "$output" | tail -3 | tr '\n' ' ')" "long mid short "
	assert_equal "$(rcli HGET "$(key meta)" order)" timing
}

@test "namespaces keep separate histories" {
	local mine=$CIQ_NAMESPACE
	finished_build b1 a=100
	export CIQ_NAMESPACE=other
	finished_build b1 a=900
	assert_equal "$(rcli HGET 'ciq:timing:{other}' a)" 900
	assert_equal "$(rcli HGET "ciq:timing:{$mine}" a)" 100
}

@test "an unknown order is a configuration error" {
	run --separate-stderr ciq-populate --order fastest </dev/null
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid --order 'fastest': expected random, timing or given"
}

@test "two reports of one namespace that finish at once lose no update" {
	local b id pids=()
	seq 3000 | sed 's/^/t/' >"$BATS_TEST_TMPDIR/ids"
	# Two finished builds of the same tests: 100 ms each in one, 300 in
	# the other (written straight into their results, as acks would).
	for b in x100 y300; do
		export CIQ_BUILD=$b
		ciq-populate --order given "$BATS_TEST_TMPDIR/ids"
		while t=$(ciq-pop -n 1000); do
			# shellcheck disable=SC2086
			ciq-ack -- $t
		done
		sed "s/^/HSET $(key results) /; s/\$/ \"p ${b#?} 0\"/" "$BATS_TEST_TMPDIR/ids" |
			rcli >/dev/null
	done
	for b in x100 y300; do
		CIQ_BUILD=$b ciq-report >/dev/null &
		pids+=($!)
	done
	for id in "${pids[@]}"; do wait "$id"; done
	# Whichever came first, each id is the mean of both: 200. A lost
	# update would leave 100 or 300.
	assert_equal "$(rcli HLEN "ciq:timing:{$CIQ_NAMESPACE}")" 3000
	assert_equal "$(rcli HVALS "ciq:timing:{$CIQ_NAMESPACE}" | sort -u)" 200
}

@test "the history keeps the ids of the last 10 published lists" {
	local b
	finished_build first gone=100 kept=200
	assert_equal "$(history gone)" 100
	assert_equal "$(rcli HGET "ciq:timing:{$CIQ_NAMESPACE}:seen" '')" 1
	# Nine more lists without 'gone': it is still in the last ten.
	for b in 2 3 4 5 6 7 8 9 10; do
		finished_build "list$b" kept=200
	done
	assert_equal "$(history gone)" 100
	# The eleventh: 'gone' was last in list 1 of 11, and is dropped.
	finished_build list11 kept=200
	assert_equal "$(history gone)" ""
	assert_equal "$(rcli HEXISTS "ciq:timing:{$CIQ_NAMESPACE}:seen" gone)" 0
	assert_equal "$(history kept)" 200
	assert_equal "$(rcli HGET "ciq:timing:{$CIQ_NAMESPACE}:seen" kept)" 11
	# The lists' hash lives as long as the history.
	[ "$(rcli TTL "ciq:timing:{$CIQ_NAMESPACE}:seen")" -gt 1000000 ]
}
