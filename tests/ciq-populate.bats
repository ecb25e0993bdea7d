#!/usr/bin/env bats
#
# ciq-populate: reading and validating the list, election, publish, the
# seeded order, followers, configuration errors, key names and TTLs.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }
# A background follower left by a failed test is stopped, by its pid.
teardown() { [ -z "${BG_PID:-}" ] || kill "$BG_PID" 2>/dev/null || true; }

# ids N: t1..tN, one per line.
ids() {
	local i
	for ((i = 1; i <= $1; i++)); do printf 't%d\n' "$i"; done
}

# queue [BUILD]: the queue of the current (or the named) build, one per line.
queue() {
	if [ $# -gt 0 ]; then
		rcli LRANGE "ciq:{$1}:queue" 0 -1
	else
		rcli LRANGE "$(key queue)" 0 -1
	fi
}

# assert_no_keys: the server holds nothing at all.
assert_no_keys() {
	assert_equal "$(rcli DBSIZE)" 0
}

# assert_ttls MAX: every key on the server expires, within MAX seconds.
assert_ttls() {
	local max=$1 k t n=0
	while IFS= read -r k; do
		t=$(rcli TTL "$k")
		if [ "$t" -le 0 ] || [ "$t" -gt "$max" ]; then
			echo "key '$k' has TTL $t (expected 1..$max)" >&2
			return 1
		fi
		n=$((n + 1))
	done < <(rcli --raw KEYS 'ciq:{*')
	[ "$n" -gt 0 ] || { echo "no keys at all" >&2; return 1; }
}

# --- the leader publishes ---------------------------------------------------

@test "the leader publishes the queue and the meta fields" {
	run --separate-stderr ciq-populate --seed s1 < <(ids 10)
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(rcli LLEN "$(key queue)")" 10
	assert_equal "$(rcli HGET "$(key meta)" status)" ready
	assert_equal "$(rcli HGET "$(key meta)" total)" 10
	assert_equal "$(rcli HGET "$(key meta)" seed)" s1
	assert_equal "$(rcli HGET "$(key meta)" order)" timing
	assert_equal "$(rcli HGET "$(key meta)" leader)" 0
	assert_equal "$(rcli GET "$(key leader)")" 0
	# The leader is the first registered worker.
	[ -n "$(rcli ZSCORE "$(key workers)" 0)" ]
}

@test "the keys written for every test, and meta, are hash tables and a skip list from the start, the others listpacks" {
	ciq-populate < <(ids 10)
	local k
	for k in results owner replies wstats meta; do
		assert_equal "$k $(rcli OBJECT ENCODING "$(key "$k")")" "$k hashtable"
		assert_equal "$(rcli HSTRLEN "$(key "$k")" '')" 73
	done
	for k in stats output cases requeues reclaims requeued_by held; do
		assert_equal "$k $(rcli OBJECT ENCODING "$(key "$k")")" "$k listpack"
		assert_equal "$(rcli HGET "$(key "$k")" '')" ''
	done
	# running's marker is its member at +inf, 80 bytes long: a skip list.
	assert_equal "$(rcli OBJECT ENCODING "$(key running)")" skiplist
	assert_equal "$(rcli ZRANGE "$(key running)" 0 -1 WITHSCORES)" \
		$'ciq: the marker of running, at +inf; over 64 bytes, it keeps running a skip list\ninf'
	# Still so after a test is taken and recorded.
	ciq-ack -- "$(ciq-pop)"
	assert_equal "$(rcli OBJECT ENCODING "$(key results)")" hashtable
	assert_equal "$(rcli OBJECT ENCODING "$(key running)")" skiplist
	assert_equal "$(records results)" 1
}

@test "the digest is the documented SHA-256 of the sorted set" {
	printf '%s\n' c a bb | ciq-populate
	assert_equal "$(rcli HGET "$(key meta)" digest)" "$(digest a bb c)"
}

@test "the digest does not depend on the input order" {
	printf '%s\n' c a bb | ciq-populate --build one
	printf '%s\n' bb c a | ciq-populate --build two
	assert_equal "$(rcli HGET 'ciq:{one}:meta' digest)" "$(rcli HGET 'ciq:{two}:meta' digest)"
}

@test "the seed defaults to the build id" {
	ids 3 | ciq-populate
	assert_equal "$(rcli HGET "$(key meta)" seed)" "$CIQ_BUILD"
}

# --- reading the list -------------------------------------------------------

@test "blank lines are skipped and a trailing CR is stripped" {
	printf 'a\r\n\n  \n\t\nb\r\n \t \nc\n' | ciq-populate --order given
	run queue
	assert_output "$(printf '%s\n' a b c)"
	# The ids pop back without the CR.
	ciq-pop -n 3 >"$BATS_TEST_TMPDIR/out"
	printf 'a\nb\nc\n' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
}

@test "a CR inside an id and spaces around it are kept" {
	printf ' a\rb \r\n' | ciq-populate
	ciq-pop >"$BATS_TEST_TMPDIR/out"
	printf ' a\rb \n' >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/want"
}

@test "a last line without a newline is read" {
	printf 'a\nb' | ciq-populate --order given
	run queue
	assert_output "$(printf '%s\n' a b)"
}

@test "duplicates are dropped with one warning per duplicate naming file and line" {
	printf '%s\n' a b a c b a >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_output ''
	assert_equal "$stderr" "ciq-populate: $BATS_TEST_TMPDIR/list:3: duplicate id 'a' dropped
ciq-populate: $BATS_TEST_TMPDIR/list:5: duplicate id 'b' dropped
ciq-populate: $BATS_TEST_TMPDIR/list:6: duplicate id 'a' dropped"
	run queue
	assert_output "$(printf '%s\n' a b c)"
	assert_equal "$(rcli HGET "$(key meta)" total)" 3
}

@test "a duplicate that differs only by a trailing CR is a duplicate" {
	run --separate-stderr ciq-populate < <(printf 'a\r\na\n')
	assert_success
	assert_equal "$stderr" "ciq-populate: <stdin>:2: duplicate id 'a' dropped"
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}

@test "more than ten duplicates give ten warnings and a count" {
	{
		echo a
		for _ in $(seq 12); do echo a; done
	} >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	local want="" i
	for i in $(seq 2 11); do
		want+="ciq-populate: $BATS_TEST_TMPDIR/list:$i: duplicate id 'a' dropped"$'\n'
	done
	want+="ciq-populate: 2 more duplicate ids dropped"
	assert_equal "$stderr" "$want"
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}

@test "an id with a NUL byte rejects the whole list and publishes nothing" {
	run --separate-stderr ciq-populate < <(printf 'ok\na\0b\nc\n')
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: <stdin>:2: id contains a NUL byte: nothing was published"
	run rcli KEYS '*'
	assert_output ''
}

@test "an id with a NUL byte on the first line names line 1" {
	run --separate-stderr ciq-populate < <(printf 'a\0b\n')
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: <stdin>:1: id contains a NUL byte: nothing was published"
	assert_no_keys
}

@test "an id of 65537 bytes rejects the list and publishes nothing" {
	{
		echo first
		head -c 65537 /dev/zero | tr '\0' x
		echo
	} >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: $BATS_TEST_TMPDIR/list:2: id is 65537 bytes long, more than 65536: nothing was published"
	assert_no_keys
}

@test "an id of exactly 65536 bytes is accepted and round-trips byte for byte" {
	# 49152 random bytes are exactly 65536 base64 characters.
	{
		head -c 49152 /dev/urandom | base64 -w0
		echo
	} >"$BATS_TEST_TMPDIR/list"
	assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/list")" 65537
	run ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	ciq-pop >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/list"
	run ciq-ack -- "$(cat "$BATS_TEST_TMPDIR/out")"
	assert_success
	assert_equal "$(records results)" 1
}

@test "an id of 65536 bytes followed by a CR is accepted without the CR" {
	{
		head -c 65536 /dev/zero | tr '\0' y
		printf '\r\n'
	} >"$BATS_TEST_TMPDIR/list"
	run ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	ciq-pop >"$BATS_TEST_TMPDIR/out"
	assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/out")" 65537
	cmp "$BATS_TEST_TMPDIR/out" <(tr -d '\r' <"$BATS_TEST_TMPDIR/list")
}

@test "a blank line longer than 65536 bytes rejects the list too" {
	{
		echo a
		head -c 65537 /dev/zero | tr '\0' ' '
		echo
	} >"$BATS_TEST_TMPDIR/list"
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: $BATS_TEST_TMPDIR/list:2: id is 65537 bytes long, more than 65536: nothing was published"
	assert_no_keys
}

@test "empty input is rejected and publishes nothing" {
	run --separate-stderr ciq-populate </dev/null
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: no test ids in the input: nothing was published"
	assert_no_keys
}

@test "input of only blank lines is rejected" {
	run --separate-stderr ciq-populate < <(printf '\n \n\t\r\n')
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: no test ids in the input: nothing was published"
	assert_no_keys
}

@test "several files and - for stdin are read in the order given" {
	printf '%s\n' a b >"$BATS_TEST_TMPDIR/one"
	printf '%s\n' d a >"$BATS_TEST_TMPDIR/two"
	run --separate-stderr ciq-populate --order given "$BATS_TEST_TMPDIR/one" - "$BATS_TEST_TMPDIR/two" < <(printf 'c\nb\n')
	assert_success
	assert_equal "$stderr" "ciq-populate: <stdin>:2: duplicate id 'b' dropped
ciq-populate: $BATS_TEST_TMPDIR/two:2: duplicate id 'a' dropped"
	run queue
	assert_output "$(printf '%s\n' a b c d)"
}

@test "stdin is not read when files are given" {
	printf '%s\n' a >"$BATS_TEST_TMPDIR/one"
	run ciq-populate --order given "$BATS_TEST_TMPDIR/one" < <(printf 'b\n')
	assert_success
	run queue
	assert_output a
}

@test "a missing file is rejected and publishes nothing" {
	printf '%s\n' a >"$BATS_TEST_TMPDIR/one"
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/one" "$BATS_TEST_TMPDIR/nope"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-populate: cannot open '$BATS_TEST_TMPDIR/nope': No such file or directory"
	assert_no_keys
}

@test "a list larger than one batch is published in full" {
	ids 2500 >"$BATS_TEST_TMPDIR/list"
	run ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(rcli LLEN "$(key queue)")" 2500
	queue >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/list"
}

@test "a list of more than a megabyte is published in full" {
	local i
	for i in $(seq 40); do
		printf '%05d' "$i"
		head -c 60000 /dev/zero | tr '\0' z
		echo
	done >"$BATS_TEST_TMPDIR/list"
	run ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(rcli LLEN "$(key queue)")" 40
	queue >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/list"
}

# --- order ------------------------------------------------------------------

@test "the same seed and list give the same order on two builds" {
	ids 20 | ciq-populate --build one --seed s
	ids 20 | tac | ciq-populate --build two --seed s
	assert_equal "$(queue one)" "$(queue two)"
	# And it is a shuffle, not the input order.
	[ "$(queue one)" != "$(ids 20)" ]
}

@test "a different seed gives a different order" {
	ids 20 | ciq-populate --build one --seed s1
	ids 20 | ciq-populate --build two --seed s2
	[ "$(queue one)" != "$(queue two)" ]
	assert_equal "$(queue one | sort)" "$(queue two | sort)"
}

@test "CIQ_SEED sets the seed" {
	ids 20 | ciq-populate --build one --seed s1
	ids 20 | CIQ_SEED=s1 ciq-populate --build two
	assert_equal "$(queue one)" "$(queue two)"
	assert_equal "$(rcli HGET 'ciq:{two}:meta' seed)" s1
}

@test "--order given keeps the input order" {
	printf '%s\n' z m a q b >"$BATS_TEST_TMPDIR/list"
	run ciq-populate --order given --seed s1 "$BATS_TEST_TMPDIR/list"
	assert_success
	queue >"$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/list"
	assert_equal "$(rcli HGET "$(key meta)" order)" given
}

@test "an unknown --order is a configuration error" {
	run --separate-stderr ciq-populate --order fastest < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid --order 'fastest': expected random, timing or given"
	assert_no_keys
}

@test "the order for a known seed is stable (the documented PRNG)" {
	# splitmix64 seeded with the first 8 bytes of SHA-256("s1"), Fisher-Yates
	# over the sorted ids; checked against an independent implementation.
	ids 10 | ciq-populate --seed s1
	run queue
	assert_output "$(printf '%s\n' t10 t3 t8 t1 t6 t5 t7 t2 t4 t9)"
	# The input order does not matter: the ids are sorted first.
	ids 10 | tac | ciq-populate --build other --seed s1
	assert_equal "$(queue other)" "$(queue)"
}

# --- running again, followers -----------------------------------------------

@test "running populate twice as the same worker is harmless" {
	ids 5 | ciq-populate
	local before
	before=$(queue)
	run --separate-stderr ciq-populate < <(ids 5)
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(rcli LLEN "$(key queue)")" 5
	assert_equal "$(queue)" "$before"
}

@test "running populate again after pops does not refill the queue" {
	ids 5 | ciq-populate
	ciq-pop -n 2 >/dev/null
	run ciq-populate < <(ids 5)
	assert_success
	assert_equal "$(rcli LLEN "$(key queue)")" 3
}

@test "a follower with the same list joins without a warning and registers" {
	ids 5 | ciq-populate
	local before
	before=$(queue)
	run --separate-stderr ciq-populate --worker 1 < <(ids 5 | tac)
	assert_success
	assert_output ''
	assert_equal "$stderr" ''
	assert_equal "$(queue)" "$before"
	[ -n "$(rcli ZSCORE "$(key workers)" 1)" ]
	assert_equal "$(rcli HGET "$(key meta)" leader)" 0
}

@test "a follower with a different list says so, records it for the report and exits 65" {
	printf '%s\n' a b c | ciq-populate
	run --separate-stderr ciq-populate --worker 1 < <(printf '%s\n' a b d e)
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	local mine theirs
	mine=$(digest a b d e)
	theirs=$(digest a b c)
	assert_equal "$stderr" "ciq-populate: this worker's list (4 ids, digest ${mine:0:12}) differs from the one worker '0' published (3 ids, digest ${theirs:0:12}): the queue holds the published one, and the build's report will say so (--allow-mismatch when they differ on purpose)"
	assert_equal "$(rcli LLEN "$(key queue)")" 3
	[ -n "$(rcli ZSCORE "$(key workers)" 1)" ]
	assert_equal "$(rcli HGET "$(key meta)" mismatch:1)" "4 $mine"
	# Joining again says the same.
	run ciq-populate --worker 1 < <(printf '%s\n' a b d e)
	assert_equal "$status" "$CIQ_EX_DATAERR"
}

@test "--allow-mismatch: a follower with a different list only warns, and records nothing" {
	printf '%s\n' a b c | ciq-populate
	run --separate-stderr ciq-populate --allow-mismatch --worker 1 < <(printf '%s\n' a b)
	assert_success
	assert_output ''
	local mine theirs
	mine=$(digest a b)
	theirs=$(digest a b c)
	assert_equal "$stderr" "ciq-populate: warning: this worker's list (2 ids, digest ${mine:0:12}) differs from the one worker '0' published (3 ids, digest ${theirs:0:12}): the queue holds the published one"
	assert_equal "$(rcli HKEYS "$(key meta)" | grep -c mismatch)" 0
}

@test "a follower with the same list in another order joins quietly" {
	printf '%s\n' a b c | ciq-populate
	run --separate-stderr ciq-populate --worker 1 < <(printf '%s\n' c a b)
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(rcli HKEYS "$(key meta)" | grep -c mismatch)" 0
}

@test "a follower times out when the leader never publishes and names it" {
	rcli SET "$(key leader)" 9 EX 100 >/dev/null
	run --separate-stderr ciq-populate --worker 1 --init-timeout 0.5 < <(ids 3)
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: the leader (worker '9') did not publish build '$CIQ_BUILD' within 0.5 s"
	# The follower pushed nothing.
	assert_equal "$(rcli EXISTS "$(key queue)")" 0
}

@test "a follower succeeds once the leader publishes while it waits" {
	# Worker 0 is elected by hand, so worker 1 can only follow.
	rcli SET "$(key leader)" 0 EX 100 >/dev/null
	ids 5 | timeout 10 ciq-populate --worker 1 --init-timeout 5 \
		>"$BATS_TEST_TMPDIR/f.out" 2>"$BATS_TEST_TMPDIR/f.err" 3>&- &
	BG_PID=$!
	local pid=$BG_PID rc=0
	# The follower is connected and polling.
	wait_for 100 follower_polling
	run ciq-populate --worker 0 < <(ids 5)
	assert_success
	wait "$pid" || rc=$?
	BG_PID=
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/f.out")" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/f.err")" ''
	[ -n "$(rcli ZSCORE "$(key workers)" 1)" ]
	assert_equal "$(rcli LLEN "$(key queue)")" 5
}

# follower_polling: a client other than redis-cli has run a script.
follower_polling() {
	rcli CLIENT LIST | grep -v 'cmd=client' | grep -q 'cmd=eval'
}

# --- configuration ----------------------------------------------------------

@test "a missing CIQ_BUILD is a configuration error naming it" {
	unset CIQ_BUILD
	run --separate-stderr ciq-populate < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: no build: set CIQ_BUILD or --build (no CI provider detected)"
	assert_no_keys
}

@test "a missing CIQ_WORKER is a configuration error naming it" {
	unset CIQ_WORKER
	run --separate-stderr ciq-populate < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: no worker: set CIQ_WORKER or --worker (no CI provider detected)"
	assert_no_keys
}

@test "a missing CIQ_QUEUE is a configuration error naming it" {
	unset CIQ_QUEUE
	run --separate-stderr ciq-populate < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
	assert_no_keys
}

@test "REDIS_URL is used when CIQ_QUEUE is not set" {
	export REDIS_URL=$CIQ_QUEUE
	unset CIQ_QUEUE
	run ciq-populate < <(ids 3)
	assert_success
	assert_equal "$(rcli LLEN "$(key queue)")" 3
}

@test "an invalid --timeout value is a configuration error" {
	run --separate-stderr ciq-populate --timeout soon < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid --timeout 'soon': expected seconds"
	run --separate-stderr ciq-populate --timeout -1 < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid --timeout '-1': expected seconds"
	assert_no_keys
}

@test "an invalid CIQ_TIMEOUT names the variable" {
	export CIQ_TIMEOUT=soon
	run --separate-stderr ciq-populate < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid CIQ_TIMEOUT 'soon': expected seconds"
}

@test "a build id with a brace is a configuration error" {
	run --separate-stderr ciq-populate --build 'a}b' < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: invalid --build 'a}b': expected printable ASCII without spaces or braces"
	assert_no_keys
}

@test "the configuration is checked before the list is read" {
	unset CIQ_BUILD
	run --separate-stderr ciq-populate < <(printf 'a\0\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: no build: set CIQ_BUILD or --build (no CI provider detected)"
}

@test "the list is validated before the configuration reaches the server" {
	# A bad list with an unreachable queue is still a data error: the list
	# is checked before connecting.
	run ciq-populate --queue unix:///nonexistent/sock < <(printf 'a\0\n')
	assert_equal "$status" "$CIQ_EX_DATAERR"
}

# --- TTLs and key names -----------------------------------------------------

# assert_deadline: every key on the server dies at the build's deadline,
# expire_at in meta, to the second.
assert_deadline() {
	local at k t n=0
	at=$(rcli HGET "$(key meta)" expire_at)
	while IFS= read -r k; do
		t=$(rcli EXPIRETIME "$k")
		if [ "$t" != "$at" ]; then
			echo "key '$k' expires at $t, not at the deadline $at" >&2
			return 1
		fi
		n=$((n + 1))
	done < <(rcli --raw KEYS 'ciq:{*')
	[ "$n" -gt 0 ] || { echo "no keys at all" >&2; return 1; }
}

@test "every key has a TTL within CIQ_TTL after publish" {
	ids 5 | ciq-populate
	local k want=()
	for k in $PUBLISHED_KEYS; do want+=("$(key "$k")"); done
	# The build's keys; the namespace's duration history is no build's.
	assert_equal "$(rcli KEYS 'ciq:{*' | sort)" "$(printf '%s\n' "${want[@]}" | sort)"
	assert_ttls 28800
	assert_deadline
	# expire_at is the deadline every key shares, CIQ_TTL from publish.
	local d
	d=$(($(rcli HGET "$(key meta)" expire_at) - $(rcli TIME | head -1) - 28800))
	[ "$d" -ge -2 ] && [ "$d" -le 0 ]
}

# runner ID: fails "b" and passes the rest.
runner() {
	echo "running $1"
	[ "$1" != b ]
}

@test "every key has a TTL within CIQ_TTL after a run" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	printf '%s\n' a b c d | ciq-populate --order given
	# Worker 1 takes a and goes silent; worker 0 reclaims it later.
	run ciq-pop --worker 1 --timeout 0.5
	assert_output a
	wait_for 100 lost a 500
	CIQ_TIMEOUT=0.5 worker_loop 0 runner
	# Everything ran: b failed twice (requeued once), a was reclaimed.
	assert_equal "$(records results)" 4
	assert_equal "$(rcli HGET "$(key requeues)" b)" 1
	assert_equal "$(rcli HGET "$(key reclaims)" a)" 1
	assert_equal "$(rcli HEXISTS "$(key output)" b)" 1
	assert_ttls 28800
	assert_deadline
}

# queue_dated: the queue exists and dies at the build's deadline.
queue_dated() {
	[ "$(rcli EXPIRETIME "$(key queue)")" = "$(rcli HGET "$(key meta)" expire_at)" ]
}

@test "a key a call empties and makes again gets the deadline again" {
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1
	printf '%s\n' a b c | ciq-populate --order given
	assert_equal "$(ciq-pop --worker 1)" a
	assert_equal "$(ciq-pop --worker 2)" b
	assert_equal "$(ciq-pop --worker 3)" c
	assert_equal "$(rcli EXISTS "$(key queue)")" 0
	# The requeue makes the queue again.
	echo 'a broke' >"$BATS_TEST_TMPDIR/out"
	run -0 ciq-requeue --worker 1 --output "$BATS_TEST_TMPDIR/out" -- a
	assert_deadline
	# Worker 1 is offered its own requeue while others live: each poll
	# takes it out (emptying the queue) and puts it back.
	ciq-pop --worker 1 >/dev/null 2>&1 &
	local pid=$!
	wait_for 50 queue_dated
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" a
	kill "$pid"
	wait "$pid" || true
	# A release pushes c back.
	run -0 ciq-release --worker 3
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1 | tr '\n' ' ')" "c a "
	echo 'b broke' >"$BATS_TEST_TMPDIR/out"
	run -0 ciq-ack --worker 2 --failed --output "$BATS_TEST_TMPDIR/out" -- b
	assert_equal "$(ciq-pop --worker 2)" c
	run -0 ciq-ack --worker 2 -- c
	assert_equal "$(ciq-pop --worker 2)" a
	run -0 ciq-ack --worker 2 -- a
	# a passed after a requeue: flaky.
	assert_equal "$(rcli SISMEMBER "$(key flaky)" a)" 1
	assert_deadline
}

@test "a key of records lost and made again by a write gets the deadline again" {
	printf '%s\n' a b c d | ciq-populate --order given
	assert_equal "$(ciq-pop)" a
	# An ack makes results again; a pop makes the reservation's keys and
	# the worker's order again (ack and pop check, with one EXISTS, that
	# these keys still exist rather than give each its deadline).
	rcli DEL "$(key results)" >/dev/null
	run -0 ciq-ack -- a
	rcli DEL "$(key running)" "$(key owner)" "$(key order:0)" >/dev/null
	assert_equal "$(ciq-pop)" b
	assert_deadline
	# The same in one call: ack --next records b and reserves c.
	rcli DEL "$(key results)" "$(key running)" >/dev/null
	assert_equal "$(ciq-ack --next -- b)" c
	assert_equal "$(rcli HGET "$(key results)" b | cut -d' ' -f1,3)" "p 0"
	assert_deadline
}

@test "--ttl 100 gives every key a TTL of at most 100 s" {
	ids 5 | ciq-populate --ttl 100
	assert_ttls 100
	ciq-pop >/dev/null
	assert_ttls 100
}

@test "CIQ_TTL sets the TTL of every key" {
	ids 5 | CIQ_TTL=50 ciq-populate
	assert_ttls 50
}

@test "--ttl 0 is refused as configuration, not by the server" {
	# BUG: --ttl is checked as "seconds" (0 and fractions pass) but it goes
	# to SET ... EX in lua/elect.lua, which wants a positive integer.
	run --separate-stderr ciq-populate --ttl 0 < <(ids 3)
	assert_equal "$status" "$CIQ_EX_CONFIG"
	[[ $stderr == *--ttl* ]]
	assert_no_keys
}

@test "a fractional --ttl works or is refused as configuration, never a server error" {
	# BUG: see above; 0.5 and 1e3 reach the server and come back as 70.
	local ttl
	for ttl in 0.5 1e3 100.0; do
		run --separate-stderr ciq-populate --build "b$BATS_TEST_NUMBER-$ttl" --ttl "$ttl" < <(ids 3)
		echo "--ttl $ttl: status $status: $stderr"
		[ "$status" -eq "$CIQ_EX_CONFIG" ] || [ "$status" -eq 0 ]
	done
}

@test "a namespace changes the key prefix to ciq:{NS:BUILD}:" {
	export CIQ_NAMESPACE=unit
	ids 3 | ciq-populate
	local k want=()
	for k in $PUBLISHED_KEYS; do want+=("ciq:{unit:$CIQ_BUILD}:$k"); done
	# The build's keys; the namespace's duration history is no build's.
	assert_equal "$(rcli KEYS 'ciq:{*' | sort)" "$(printf '%s\n' "${want[@]}" | sort)"
	assert_equal "$(key queue)" "ciq:{unit:$CIQ_BUILD}:queue"
}

@test "two namespaces of one build keep separate queues" {
	printf 'u1\n' | ciq-populate --namespace unit
	printf 'i1\n' | ciq-populate --namespace integration
	run ciq-pop --namespace unit
	assert_output u1
	run ciq-pop --namespace integration
	assert_output i1
}

# --- command line -----------------------------------------------------------

@test "--help prints the usage on stdout and exits 0" {
	run --separate-stderr ciq-populate --help
	assert_success
	assert_equal "$stderr" ''
	assert_line --index 0 --regexp '^usage: ciq-populate '
	assert_line 'See ciq-populate(1).'
	run ciq-populate -h
	assert_success
	assert_line --index 0 --regexp '^usage: ciq-populate '
}

@test "--version prints the version" {
	run --separate-stderr ciq-populate --version
	assert_success
	assert_output --regexp '^ciq-populate [0-9]+\.[0-9]+\.[0-9]+$'
	assert_equal "$stderr" ''
}

@test "an unknown option is a usage error" {
	run --separate-stderr ciq-populate --bogus < <(ids 3)
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "$(head -1 <<<"$stderr")" "ciq-populate: unrecognized option '--bogus'"
	[[ $stderr == *"usage: ciq-populate "* ]]
	assert_no_keys
}

@test "a million ids are published, in full, and nothing is lost" {
	seq -f 'spec/models/user_%07g_spec.rb' 1 1000000 >"$BATS_TEST_TMPDIR/million"
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/million"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(rcli LLEN "$(key queue)")" 1000000
	assert_equal "$(rcli HGET "$(key meta)" total)" 1000000
	# The set published is the set read: same digest as a list read in order.
	assert_equal "$(rcli HGET "$(key meta)" digest)" \
		"$(ciq-populate --build other --order given "$BATS_TEST_TMPDIR/million" && rcli HGET 'ciq:{other}:meta' digest)"
}

@test "--join: a follower without a list joins what the leader published, never leads" {
	printf 't%s\n' 1 2 3 >"$BATS_TEST_TMPDIR/list"
	ciq-populate --worker 1 --join --init-timeout 5 &
	local pid=$! rc=0
	ciq-populate --worker 0 --order given "$BATS_TEST_TMPDIR/list"
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(rcli GET "$(key leader)")" 0
	[ -n "$(rcli ZSCORE "$(key workers)" 1)" ]
	run ciq-pop --worker 1
	assert_output t1
}

@test "--join never published within the init timeout exits 75; it takes no list" {
	run --separate-stderr ciq-populate --join --init-timeout 0.3
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$stderr" "ciq-populate: build '$CIQ_BUILD' was not published within 0.3 s (did its leader run ciq-populate with the list?)"
	assert_equal "$(rcli EXISTS "$(key leader)")" 0
	printf 't1\n' >"$BATS_TEST_TMPDIR/list"
	for args in "$BATS_TEST_TMPDIR/list" "--repeat 2" "--allow-mismatch"; do
		# shellcheck disable=SC2086
		run --separate-stderr ciq-populate --join $args
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr%%$'\n'*}" "ciq-populate: --join takes no list, no --allow-mismatch and no --repeat: it joins what the leader published"
	done
}
