# test_helper.bash - loaded by every test file: a private redis-server per
# file on a unix socket in a short temp dir, killed by its pidfile; the
# binaries under test first on PATH; exit codes by name.
#
#   CIQ_BIN   directory of the binaries (default: bin/ of this checkout);
#             tests/run.sh points it at bin-san/ for the sanitizer run.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

CIQ_ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
CIQ_BIN=${CIQ_BIN:-$CIQ_ROOT/bin}
PATH=$CIQ_BIN:$PATH
# shellcheck source=/dev/null
. "$CIQ_ROOT/tests/exit_codes.bash"

# server_start DIR [ARGS...]: a redis-server on DIR/sock, with its pidfile
# and log in DIR; extra ARGS go to the server (--requirepass pw, ...).
server_start() {
	local dir=$1
	shift
	redis-server --port 0 --unixsocket "$dir/sock" --unixsocketperm 700 \
		--save '' --appendonly no --daemonize yes \
		--pidfile "$dir/pid" --logfile "$dir/log" --dir "$dir" "$@"
	# PONG, or NOAUTH from a server that wants a password: it is up.
	wait_for 100 sh -c 'redis-cli -s "$1" ping 2>&1 | grep -qE "PONG|NOAUTH"' sh "$dir/sock"
}

# server_stop DIR: stop the server of DIR by its pidfile, remove DIR.
server_stop() {
	local dir=$1
	[ -n "$dir" ] || return 0
	if [ -f "$dir/pid" ]; then
		kill "$(cat "$dir/pid")" 2>/dev/null || true
		# Bounded wait for the server to go, so the dir can be removed.
		for _ in $(seq 100); do
			kill -0 "$(cat "$dir/pid" 2>/dev/null)" 2>/dev/null || break
			sleep 0.05
		done
	fi
	rm -rf "$dir"
}

# Start this file's server. Call from setup_file.
redis_start() {
	REDIS_DIR=$(mktemp -d /tmp/ciq.XXXXXX)
	export REDIS_DIR
	export REDIS_SOCK=$REDIS_DIR/sock
	server_start "$REDIS_DIR" "$@"
}

# Stop it. Call from teardown_file.
redis_stop() {
	server_stop "${REDIS_DIR:-}"
}

# A fresh build for each test: new build id, empty database.
ciq_setup() {
	redis-cli -s "$REDIS_SOCK" flushall >/dev/null
	export CIQ_QUEUE="unix://$REDIS_SOCK"
	export CIQ_BUILD="b$BATS_TEST_NUMBER"
	export CIQ_WORKER=0
	# A test's "worker" is the test itself, alive throughout: without this
	# its reservations would be kept fresh and never reclaimed. The
	# heartbeat tests turn it back on.
	export CIQ_HEARTBEAT=0
	unset CIQ_NAMESPACE CIQ_TIMEOUT CIQ_MAX_REQUEUES CIQ_REQUEUE_TOLERANCE REDIS_URL
	# No CI provider leaks in from the machine running the tests.
	unset BUILDKITE CIRCLECI TRAVIS HEROKU_TEST_RUN_ID SEMAPHORE GITHUB_ACTIONS \
		GITLAB_CI BITBUCKET_BUILD_NUMBER TF_BUILD JENKINS_URL CI_NODE_INDEX
}

# wait_for N CMD...: run CMD every 50 ms until it succeeds, at most N times.
wait_for() {
	local n=$1
	shift
	for _ in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

# rcli ARGS...: redis-cli on this file's server.
rcli() {
	redis-cli -s "$REDIS_SOCK" "$@"
}

# calls NAME: how many times the server ran command NAME (lower case)
# since its stats were reset (0 for none).
calls() {
	rcli INFO commandstats | tr -d '\r' | sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p" | grep . || echo 0
}

# script_calls: the script calls (EVALSHA and EVAL) the server has run
# since its stats were reset.
script_calls() {
	echo $(($(calls evalsha) + $(calls eval)))
}

# passes: the workers' passes in the report, added up (each result counts
# once, for the worker that recorded it).
passes() {
	ciq-report --no-wait --json | jq '[.workers[].passed] | add // 0'
}

# blocked WORKER: WORKER's ciq-pop, ciq-ack --next or ciq-loop waits on
# the wake list (a condition for wait_for): it is in the waiting set and
# a connection blocks.
blocked() {
	[ "$(rcli SISMEMBER "$(key waiting)" "$1")" = 1 ] &&
		rcli CLIENT LIST | grep -q 'cmd=blpop'
}

# holder ID: the worker that holds ID now, from its owner value
# "WORKER MS" (ciq(7) STORAGE); nothing when nobody does.
holder() {
	local v
	v=$(rcli HGET "$(key owner)" "$1")
	printf '%s\n' "${v%% *}"
}

# key NAME: the full name of a key of the current build (lib/keys.h: a
# ':' or '%' in the namespace or build is written %3A or %25).
key() {
	local esc='s/%/%25/g; s/:/%3A/g' b ns
	b=$(printf '%s' "$CIQ_BUILD" | sed "$esc")
	if [ -n "${CIQ_NAMESPACE:-}" ]; then
		ns=$(printf '%s' "$CIQ_NAMESPACE" | sed "$esc")
		printf 'ciq:{%s:%s}:%s' "$ns" "$b" "$1"
	else
		printf 'ciq:{%s}:%s' "$b" "$1"
	fi
}

# Every key of a build that holds records carries a marker, the empty
# field or member (lua/prelude.lua); these look past it.
# The keys a build has once it is published (lua/publish.lua).
PUBLISHED_KEYS="cases flaky leader meta output owner queue reclaims replies requeued_by
requeues results running stats workers wstats held"

# records NAME: how many entries the key holds, its marker not counted.
records() {
	local k n m
	k=$(key "$1")
	case $(rcli TYPE "$k") in
	hash) n=$(rcli HLEN "$k") m=$(rcli HEXISTS "$k" '') ;;
	set) n=$(rcli SCARD "$k") m=$(rcli SISMEMBER "$k" '') ;;
	zset) n=$(rcli ZCARD "$k") m=$(($([ -n "$(rcli ZSCORE "$k" '')" ] && echo 1 || echo 0) +
		$(rcli ZCOUNT "$k" +inf +inf))) ;;
	list) n=$(rcli LLEN "$k") m=0 ;;
	*) n=0 m=0 ;;
	esac
	echo $((n - m))
}

# members NAME: the fields (hash) or members (set, zset in score order)
# of a key, one a line, without its marker (running's: the member at +inf).
members() {
	local k
	k=$(key "$1")
	case $(rcli TYPE "$k") in
	hash) rcli HKEYS "$k" ;;
	set) rcli SMEMBERS "$k" ;;
	zset) rcli ZRANGE "$k" -inf '(inf' BYSCORE ;;
	esac | sed '/^$/d'
}

# digest ID...: the documented digest of a set of ids, computed here
# independently: sorted bytewise, each as an 8-byte big-endian length and
# its bytes, SHA-256 (ids shorter than 256 bytes only).
digest() {
	local id LC_ALL=C
	printf '%s\n' "$@" | LC_ALL=C sort | while IFS= read -r id; do
		printf '\0\0\0\0\0\0\0'
		printf "\\$(printf '%03o' "${#id}")"
		printf '%s' "$id"
	done | sha256sum | cut -d' ' -f1
}

# script_call NAME NONCE WORKER ARG...: script lua/NAME.lua called by hand
# for WORKER, as the tools call it: what a client repeating a call after
# a lost reply sends, or a network that delivers a copy of a call late.
# Prints the reply's strings, one a line (a kept reply comes as one
# string, its strings joined by NULs: prelude.lua).
script_call() {
	local name=$1 nonce=$2 w=$3 keys=() k
	shift 3
	for k in $(sed -n 's/^-- KEYS: *//p' "$CIQ_ROOT/lua/$name.lua"); do
		case $k in
		*:) keys+=("$(key "$k")$w") ;;
		*) keys+=("$(key "$k")") ;;
		esac
	done
	cat "$CIQ_ROOT/lua/prelude.lua" "$CIQ_ROOT/lua/$name.lua" >"$BATS_TEST_TMPDIR/$name.lua"
	rcli --eval "$BATS_TEST_TMPDIR/$name.lua" "${keys[@]}" , "$nonce" "$w" "$@" | tr '\0' '\n'
}

# pop_call NONCE [WORKER]: one pop of a test, as ciq-pop asks, by WORKER (0).
pop_call() {
	script_call pop "$1" "${2:-0}" 30000 1 0
}

# flaky_head ID: ID, at the head of the queue, turns flaky: worker 1
# takes it, fails and requeues it with the output "ID failed once";
# worker 2 takes it again and passes.
flaky_head() {
	assert_equal "$(ciq-pop --worker 1)" "$1"
	ciq-requeue --worker 1 --max-requeues 1 --requeue-tolerance 1 --output - -- "$1" <<<"$1 failed once"
	assert_equal "$(ciq-pop --worker 2)" "$1"
	ciq-ack --worker 2 -- "$1"
}

# The SPEC loop for one worker: runs "$RUNNER ID" for each test.
# Usage: worker_loop WORKER RUNNER
worker_loop() {
	local w=$1 runner=$2 rc t
	while :; do
		rc=0
		t=$(ciq-pop --worker "$w") || rc=$?
		[ "$rc" -eq 1 ] && break
		[ "$rc" -eq 0 ] || return "$rc"
		if "$runner" "$t" >"$BATS_TEST_TMPDIR/out.$w" 2>&1; then
			ciq-ack --worker "$w" -- "$t"
		else
			ciq-requeue --worker "$w" --output "$BATS_TEST_TMPDIR/out.$w" -- "$t" ||
				ciq-ack --worker "$w" --failed --output "$BATS_TEST_TMPDIR/out.$w" -- "$t"
		fi
	done
}

# populate ID...: publish these ids, in this order, as the current worker.
populate() {
	printf '%s\n' "$@" | ciq-populate --order given
}

# result ID: the stored result of ID ("CODE MS WORKER"), or nothing.
result() {
	rcli HGET "$(key results)" "$1"
}

# counter NAME: the build's counter NAME in stats. passed and skipped,
# which stats does not keep (ciq(7)), are counted from the results, and
# are empty for none, as a counter never set is.
counter() {
	local n
	case $1 in
	passed | skipped)
		n=$(rcli HVALS "$(key results)" | grep -c "^${1:0:1} ")
		[ "$n" -eq 0 ] || echo "$n"
		;;
	*) rcli HGET "$(key stats)" "$1" ;;
	esac
}

# work W [FAILING...]: worker W pops and acks until the queue is
# exhausted; the ids named fail, with a two-line output.
work() {
	local w=$1 t
	shift
	while t=$(ciq-pop --worker "$w"); do
		if [[ " $* " == *" $t "* ]]; then
			printf 'out of %s\nsecond line\n' "$t" |
				ciq-ack --worker "$w" --failed --output - -- "$t"
		else
			ciq-ack --worker "$w" -- "$t"
		fi
	done
}

# heartbeats: pids of the heartbeat processes of worker $W (they keep
# ciq-pop's command line: "ciq-pop --worker $W").
heartbeats() {
	ps -eo pid=,args= | awk -v w="--worker $W" 'index($0, "ciq-pop " w) { print $1 }'
}

# Conditions for wait_for (functions, so each try looks again).
no_heartbeat() {
	[ -z "$(heartbeats)" ]
}

has_heartbeat() {
	[ -n "$(heartbeats)" ]
}

# --- tests of a live worker loop (heartbeat.bats, report-running.bats) ----
#
# hb_setup PREFIX: the loop's heartbeat on, a short timeout, worker
# PREFIX<test number> in $W, the loops' logs in the test's own directory
# (not the machine's /tmp/ciq-UID), $STATE for the runner's notes. The
# caller writes the runner, $BATS_TEST_TMPDIR/run, which notes its pid in
# $STATE/runners and stops once $STATE/release exists.
hb_setup() {
	export CIQ_HEARTBEAT=1 CIQ_TIMEOUT=0.6
	export W="$1$BATS_TEST_NUMBER"
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	export STATE=$BATS_TEST_TMPDIR
}

# hb_teardown: release the runners, then kill, by pid, our own background
# jobs, the runners they started and the heartbeats of $W.
hb_teardown() {
	: >"$STATE/release"
	for p in $(jobs -p) $(cat "$STATE/runners" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in $(heartbeats); do kill -9 "$p" 2>/dev/null || true; done
}

# loop: the worker loop of $W, with the runner $BATS_TEST_TMPDIR/run.
loop() {
	local t rc
	while :; do
		rc=0
		t=$(ciq-pop --worker "$W") || rc=$?
		[ "$rc" -eq 1 ] && break
		[ "$rc" -eq 0 ] || return "$rc"
		"$BATS_TEST_TMPDIR/run" "$t" && ciq-ack --worker "$W" -- "$t"
	done
}

one_running() {
	[ "$(records running)" = 1 ]
}

# beats_seen SCORE [ID]: the reservation of ID (a) was refreshed since SCORE.
beats_seen() {
	[ "$(rcli ZSCORE "$(key running)" "${2:-a}")" != "$1" ]
}

# all_ended N: N loops wrote their status (a condition for wait_for).
all_ended() {
	[ "$(cat "$BATS_TEST_TMPDIR"/status.* 2>/dev/null | wc -l)" = "$1" ]
}

# four_loops_one_build LOOP: LOOP 1 ... LOOP 4 at once on a build of 200
# ids (LOOP W runs worker W's whole loop, and writes each id it ran to
# $BATS_TEST_TMPDIR/ran.W): each ends with 1 and says nothing, no id runs
# twice, every id runs and has one result, and the build is green.
four_loops_one_build() {
	seq -f 't%03g' 1 200 >"$BATS_TEST_TMPDIR/list"
	ciq-populate "$BATS_TEST_TMPDIR/list"
	local w
	for w in 1 2 3 4; do
		(
			rc=0
			"$1" "$w" 2>"$BATS_TEST_TMPDIR/err.$w" || rc=$?
			echo "$rc" >"$BATS_TEST_TMPDIR/status.$w"
		) 3>&- &
	done
	wait_for 600 all_ended 4
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/status.[1-4] | tr '\n' ' ')" "1 1 1 1 "
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/err.[1-4])" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/ran.* | LC_ALL=C sort | uniq -d)" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/ran.* | LC_ALL=C sort)" "$(cat "$BATS_TEST_TMPDIR/list")"
	assert_equal "$(records results)" 200
	assert_equal "$(counter passed)" 200
	assert_equal "$(records running)" 0
	run ciq-report
	assert_success
	assert_line "PASSED: 200 tests, 200 passed, 0 skipped"
}

# queue: the queued ids, one a line, head first.
queue() {
	rcli LRANGE "$(key queue)" 0 -1
}

# running: the running ids, sorted, one a line.
running() {
	members running | LC_ALL=C sort
}

# ran W: the ids worker W ran, in order, one a line.
ran() {
	cat "$BATS_TEST_TMPDIR/ran.$1"
}

# lost ID MS: ID has been reserved for more than MS by the server's clock.
lost() {
	local t now score
	t=$(rcli TIME)
	now=$(($(sed -n 1p <<<"$t") * 1000 + $(sed -n 2p <<<"$t") / 1000))
	score=$(rcli ZSCORE "$(key running)" "$1")
	[ -n "$score" ] && [ $((now - ${score%.*})) -gt "$2" ]
}
