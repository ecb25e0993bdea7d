#!/usr/bin/env bats
#
# ciq-run: a whole run on one machine. Most tests give it nothing (no
# queue, no build, no worker): it starts its own redis-server. One joins
# this file's server through CIQ_QUEUE.

load test_helper

# A test that hangs must fail, not hang the suite.
export BATS_TEST_TIMEOUT=60

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() {
	ciq_setup
	# Nothing set up: no queue, no build, no worker; the heartbeat as a
	# user has it.
	unset CIQ_QUEUE CIQ_BUILD CIQ_WORKER CIQ_WORKERS CIQ_HEARTBEAT CIQ_JOBS CIQ_RETRY
	D=$BATS_TEST_TMPDIR
	export D
	# Never the user's own ~/.cache.
	export CIQ_RUN_CACHE=$D/cache
	seq -f 't%02g' 1 12 >"$D/list"

	# runner ID: records "WORKER ID" in $D/ran; the ids in $FAIL fail.
	# With BARRIER=N, it first waits (bounded) until N workers have run a
	# test, so that N loops are seen to work at once.
	cat >"$D/runner" <<-'EOF'
		#!/bin/sh
		printf '%s %s\n' "$CIQ_WORKER" "$1" >>"$D/ran"
		if [ -n "${BARRIER:-}" ]; then
			i=0
			while [ "$(cut -d' ' -f1 "$D/ran" | sort -u | wc -l)" -lt "$BARRIER" ]; do
				i=$((i + 1)); [ "$i" -lt 200 ] || break
				sleep 0.02
			done
		fi
		case " ${FAIL:-} " in
		*" $1 "*) echo "out of $1"; exit 1 ;;
		esac
	EOF
	# sleeper ID: records the queue and its pid and its loop's, then sleeps.
	cat >"$D/sleeper" <<-'EOF'
		#!/bin/sh
		printf '%s\n' "$CIQ_QUEUE" >"$D/queue"
		echo "$$ $PPID" >>"$D/pids"
		exec sleep 30
	EOF
	chmod +x "$D/runner" "$D/sleeper"
}

# The report's first line, whatever the build id ciq-run chose.
header_re() {
	printf '^ciq: build local-[0-9]{8}-[0-9]{6}-[0-9]+: %s$' "$1"
}

@test "nothing set up: a green suite on 3 loops passes, each loop its own worker" {
	BARRIER=3 run ciq-run -j 3 "$D/list" -- "$D/runner"
	assert_success
	assert_line --regexp "$(header_re '12 tests, 12 with a result, 3 workers')"
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
	# Every test ran once, on the three loops.
	assert_equal "$(cut -d' ' -f2 "$D/ran" | sort | tr '\n' ' ')" "$(tr '\n' ' ' <"$D/list")"
	assert_equal "$(cut -d' ' -f1 "$D/ran" | sort -u | tr '\n' ' ')" "local local.2 local.3 "
}

@test "nothing set up: a red suite fails with exit 1 and the failures' output" {
	FAIL="t03 t07" run ciq-run -j 2 "$D/list" -- "$D/runner"
	assert_failure 1
	assert_line --regexp "$(header_re '12 tests, 12 with a result, 2 workers')"
	assert_line "    | out of t03"
	assert_line "    | out of t07"
	assert_line --index -1 "FAILED: 2 of 12 tests failed"
}

@test "one loop: the worker is the job itself (local)" {
	run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_success
	assert_line --regexp "$(header_re '12 tests, 12 with a result, 1 workers')"
	assert_equal "$(cut -d' ' -f1 "$D/ran" | sort -u)" local
}

@test "the list from standard input, as - or as no FILE" {
	run ciq-run -j 1 - -- "$D/runner" <"$D/list"
	assert_success
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
	rm "$D/ran"
	run ciq-run -j 2 -- "$D/runner" <"$D/list"
	assert_success
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
	assert_equal "$(wc -l <"$D/ran")" 12
}

@test "ids with spaces, quotes, \$ and backslashes reach the runner as they are" {
	# shellcheck disable=SC2016 # a $ that no shell may expand
	printf '%s\n' 'a b' "it's" '$HOME' 'back\slash' '"q"' '-x' >"$D/odd"
	run ciq-run -j 2 "$D/odd" -- "$D/runner"
	assert_success
	assert_line --index -1 "PASSED: 6 tests, 6 passed, 0 skipped"
	sed 's/^[^ ]* //' "$D/ran" | LC_ALL=C sort >"$D/got"
	LC_ALL=C sort "$D/odd" >"$D/want"
	cmp "$D/want" "$D/got"
}

@test "the number of loops: CIQ_JOBS, else the number of cores; CIQ_WORKERS follows" {
	cat >"$D/workers" <<-'EOF'
		#!/bin/sh
		echo "$CIQ_WORKERS" >>"$D/n"
	EOF
	chmod +x "$D/workers"
	CIQ_JOBS=2 BARRIER=2 run ciq-run "$D/list" -- "$D/runner"
	assert_success
	assert_line --regexp "$(header_re '12 tests, 12 with a result, 2 workers')"
	run ciq-run "$D/list" -- "$D/workers"
	assert_success
	assert_equal "$(sort -u "$D/n")" "$(nproc)"
	# -j wins over CIQ_JOBS.
	rm "$D/n"
	CIQ_JOBS=2 run ciq-run -j 3 "$D/list" -- "$D/workers"
	assert_success
	assert_equal "$(sort -u "$D/n")" 3
}

@test "the user's CIQ_BUILD, CIQ_WORKER and CIQ_WORKERS are kept" {
	cat >"$D/env" <<-'EOF'
		#!/bin/sh
		echo "$CIQ_BUILD $CIQ_WORKER $CIQ_WORKERS" >>"$D/env.out"
	EOF
	chmod +x "$D/env"
	CIQ_BUILD=mine CIQ_WORKER=me CIQ_WORKERS=7 run ciq-run -j 2 "$D/list" -- "$D/env"
	assert_success
	assert_line "ciq: build mine: 12 tests, 12 with a result, 2 workers"
	run sort -u "$D/env.out"
	assert_output - <<-EOF
		mine me 7
		mine me.2 7
	EOF
}

@test "bad -j and CIQ_JOBS values are refused" {
	for j in 0 -1 abc 01 257 99999999999999999999 '' 2x ' 2'; do
		run ciq-run -j "$j" "$D/list" -- true
		assert_failure "$CIQ_EX_USAGE"
		assert_line --index 0 "ciq-run: invalid -j '$j': expected a number of loops from 1 to 256"
		assert_line --index 1 --partial "usage: ciq-run"
	done
	run ciq-run -j0 "$D/list" -- true
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: invalid -j '0': expected a number of loops from 1 to 256"
	for j in 0 x 300; do
		CIQ_JOBS=$j run ciq-run "$D/list" -- true
		assert_failure "$CIQ_EX_CONFIG"
		assert_output "ciq-run: invalid CIQ_JOBS '$j': expected a number of loops from 1 to 256"
		# Checked even when -j is given.
		CIQ_JOBS=$j run ciq-run -j 2 "$D/list" -- true
		assert_failure "$CIQ_EX_CONFIG"
	done
	run ciq-run -j
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: -j needs a number"
}

@test "usage errors: no command, an unknown option, two lists, --local with --queue" {
	run ciq-run -j 1 "$D/list"
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: no command: give it after --"
	run ciq-run -j 1 "$D/list" --
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: no command: give it after --"
	run ciq-run --frobnicate "$D/list" -- true
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: unknown option '--frobnicate'"
	run ciq-run "$D/list" "$D/list" -- true
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: one list only: '$D/list' and '$D/list' (the command goes after --; for several lists: cat A B | ciq-run - -- ...)"
	run ciq-run --local --queue "unix://$REDIS_SOCK" "$D/list" -- true
	assert_failure "$CIQ_EX_USAGE"
	assert_line --index 0 "ciq-run: --local and --queue contradict each other"
	run ciq-run --help
	assert_success
	assert_line --index 0 "usage: ciq-run [-j N] [--local] [--queue URL] [FILE] -- COMMAND [ARG...]"
}

@test "a command that cannot run: exit 87 before anything starts" {
	run ciq-run -j 1 "$D/list" -- "$D/no-such-runner"
	assert_failure "$CIQ_EX_NORUNNER"
	assert_output "ciq-run: cannot run '$D/no-such-runner': not found or not executable"
	run ciq-run -j 1 "$D/list" -- no-such-command-here
	assert_failure "$CIQ_EX_NORUNNER"
	assert_output "ciq-run: cannot run 'no-such-command-here': not found or not executable"
}

@test "a bad list: ciq-populate's exit 65, and the server and its directory are gone" {
	: >"$D/empty"
	export TMPDIR=$D/tmp
	mkdir "$TMPDIR"
	run ciq-run -j 1 "$D/empty" -- true
	assert_failure "$CIQ_EX_DATAERR"
	assert_output "ciq-populate: no test ids in the input: nothing was published"
	# Its private directory was in TMPDIR; nothing is left there.
	assert_equal "$(ls -A "$TMPDIR")" ""
}

# no_env Q: no process has CIQ_QUEUE=Q in its environment.
no_env() {
	! grep -lsF -- "CIQ_QUEUE=$1" /proc/[0-9]*/environ
}

# gone PID: the process is gone.
gone() {
	! kill -0 "$1" 2>/dev/null
}

# interrupt HOW STATUS: start ciq-run on 2 loops of sleeping tests, wait
# until both run, send the signal (HOW is "INT", "TERM" or "INT-group"),
# and check that ciq-run exits STATUS and that nothing it started is left:
# the runners, their loops, the server, any process with its queue in its
# environment (the heartbeats, the report), its directory.
interrupt() {
	local how=$1 status=$2 pid rc q dir server p
	# A shell started in the background ignores SIGINT, and the shell of
	# ciq-run would inherit that: env gives it back the default.
	if [ "$how" = INT-group ]; then
		# Its own process group, as a terminal's foreground job has.
		setsid env --default-signal=INT ciq-run -j 2 "$D/list" -- "$D/sleeper" >"$D/out" 2>&1 &
	else
		env --default-signal=INT ciq-run -j 2 "$D/list" -- "$D/sleeper" >"$D/out" 2>&1 &
	fi
	pid=$!
	# shellcheck disable=SC2016 # expanded by that sh, each try
	wait_for 200 sh -c '[ "$(wc -l <"$D/pids")" -eq 2 ]'
	q=$(cat "$D/queue")
	dir=${q#unix://}
	dir=${dir%/sock}
	server=$(cat "$dir/redis.pid")
	kill -0 "$server"
	case $how in
	INT-group) kill -INT -- "-$pid" ;;
	*) kill "-$how" "$pid" ;;
	esac
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" "$status"
	# Nothing printed: the loops were quiet (-q) and there is no report.
	assert_equal "$(cat "$D/out")" ""
	for p in $(cat "$D/pids") "$server"; do
		wait_for 100 gone "$p"
	done
	wait_for 100 no_env "$q"
	[ ! -e "$dir" ]
	# An interrupted run saves no timing history.
	assert_equal "$(ls -A "$CIQ_RUN_CACHE")" ""
}

@test "SIGINT to ciq-run mid-run: exit 130, nothing of it left behind" {
	interrupt INT 130
}

@test "SIGINT to its process group (a terminal's Ctrl-C): exit 130, nothing left behind" {
	interrupt INT-group 130
}

@test "SIGTERM mid-run: exit 143, nothing left behind" {
	interrupt TERM 143
}

@test "SIGHUP mid-run: exit 129, nothing left behind" {
	interrupt HUP 129
}

@test "its output cut short (| head): nothing left behind either" {
	cat >"$D/pidof" <<-'EOF'
		#!/bin/sh
		q=${CIQ_QUEUE#unix://}
		cat "${q%/sock}/redis.pid" >"$D/server"
		echo "out of $1"
		exit 1
	EOF
	chmod +x "$D/pidof"
	export TMPDIR=$D/tmp
	mkdir "$TMPDIR"
	run sh -c 'ciq-run -j 1 "$D/list" -- "$D/pidof" 2>&1 | head -n 1'
	assert_success
	assert_output --regexp '^FAIL +[0-9]+\.[0-9]{2}s  t[0-9]{2}$'
	wait_for 100 gone "$(cat "$D/server")"
	assert_equal "$(find "$TMPDIR" -maxdepth 1 -name 'ciq-run.*')" ""
}

@test "no redis-server: exit 69 with the package to install" {
	# Every command of the system but redis-*, and the ciq tools.
	mkdir "$D/path"
	ln -s /usr/bin/* "$D/path/"
	rm -f "$D/path"/redis-*
	PATH=$CIQ_BIN:$D/path run ciq-run -j 1 "$D/list" -- true
	assert_failure "$CIQ_EX_UNAVAILABLE"
	assert_output "ciq-run: redis-server not found: install it (Debian, Ubuntu: apt-get install redis-server; macOS: brew install redis), or set CIQ_QUEUE to a Redis server"
}

@test "a CI provider and no queue: exit 78, set CIQ_QUEUE; --local runs anyway" {
	GITHUB_ACTIONS=true GITHUB_RUN_ID=9 run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_failure "$CIQ_EX_CONFIG"
	assert_output "ciq-run: CI provider 'github' detected and no queue set: set CIQ_QUEUE (or REDIS_URL) to a Redis server every parallel job reaches, or pass --local to run this job alone on a private server"
	[ ! -e "$D/ran" ]
	# --local: a private server; the CI's retry does not apply to it.
	GITHUB_ACTIONS=true GITHUB_RUN_ID=9 GITHUB_RUN_ATTEMPT=2 run ciq-run --local -j 2 "$D/list" -- "$D/runner"
	assert_success
	assert_line --regexp "$(header_re '12 tests, 12 with a result, 2 workers')"
	assert_equal "$(wc -l <"$D/ran")" 12
}

@test "CIQ_QUEUE set: joins that queue and starts no server" {
	cat >"$D/where" <<-'EOF'
		#!/bin/sh
		printf '%s %s\n' "$CIQ_QUEUE" "$CIQ_WORKER" >>"$D/where.out"
	EOF
	chmod +x "$D/where"
	export CIQ_QUEUE=unix://$REDIS_SOCK CIQ_BUILD=joined CIQ_WORKER=7
	run ciq-run -j 2 "$D/list" -- "$D/where"
	assert_success
	assert_line "ciq: build joined: 12 tests, 12 with a result, 2 workers"
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
	run sort -u "$D/where.out"
	assert_output - <<-EOF
		unix://$REDIS_SOCK 7
		unix://$REDIS_SOCK 7.2
	EOF
	# The results are on this file's server, and no timing history was
	# kept locally.
	assert_equal "$(records results)" 12
	[ ! -e "$CIQ_RUN_CACHE" ]
}

@test "CIQ_QUEUE set without a build: the tools say what is missing (exit 78)" {
	CIQ_QUEUE=unix://$REDIS_SOCK run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_failure "$CIQ_EX_CONFIG"
	assert_output "ciq-populate: no build: set CIQ_BUILD or --build (no CI provider detected)"
	[ ! -e "$D/ran" ]
}

@test "a queue URL's password is never printed" {
	CIQ_QUEUE='redis://:s3cret@127.0.0.1:1' CIQ_BUILD=b CIQ_WORKER=0 CIQ_CONNECT_TIMEOUT=1 \
		CIQ_RECONNECT_TIMEOUT=1 run ciq-run -j 1 "$D/list" -- true
	assert_failure "$CIQ_EX_UNAVAILABLE"
	refute_output --partial s3cret
}

@test "a loop that breaks never leaves a green run green" {
	# The first test kills its own loop (TERM: it gives the test back and
	# exits 143); the other loop runs it, and the report is green.
	cat >"$D/killer" <<-'EOF'
		#!/bin/sh
		if mkdir "$D/killed" 2>/dev/null; then
			kill -TERM "$PPID"
		fi
	EOF
	chmod +x "$D/killer"
	run ciq-run -j 2 "$D/list" -- "$D/killer"
	assert_failure 143
	assert_line "ciq-run: the worker loops failed with status 143"
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
}

@test "every loop stopped by a circuit breaker: the report at once, UNFINISHED (75)" {
	CIQ_ORDER=given CIQ_MAX_CONSECUTIVE_FAILURES=1 FAIL=t01 run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_failure "$CIQ_EX_TEMPFAIL"
	# (The loop's ciq-loop takes the next test, and so is the one that stops.)
	assert_line "ciq-loop: worker 'local' stops: 1 tests failed in a row on it (--max-consecutive-failures 1); other workers take the rest"
	assert_line "  QUEUED t12"
	assert_line --index -1 "UNFINISHED: 11 tests not run yet"
}

@test "--max-failures stops the build: the report's exit 83" {
	CIQ_ORDER=given CIQ_MAX_FAILURES=1 FAIL=t01 run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_failure "$CIQ_EX_STOPPED"
	assert_line --index -1 "STOPPED: 1 tests failed, the build's --max-failures; 11 tests not run"
}

@test "the timing history: the next run starts with the slowest tests; the file is the user's" {
	cat >"$D/slow" <<-'EOF'
		#!/bin/sh
		echo "$1" >>"$D/order"
		case $1 in
		t05) sleep 0.4 ;;
		t09) sleep 0.2 ;;
		esac
	EOF
	chmod +x "$D/slow"
	mkdir "$D/proj"
	cd "$D/proj"
	run ciq-run -j 1 "$D/list" -- "$D/slow"
	assert_success
	rm "$D/order"
	run ciq-run -j 1 "$D/list" -- "$D/slow"
	assert_success
	assert_equal "$(head -n 2 "$D/order" | tr '\n' ' ')" "t05 t09 "
	# One file for this directory, mode 0600, holding the history alone.
	file=timing-proj-$(printf '%s' "$(pwd -P)" | cksum | cut -d' ' -f1).rdb
	assert_equal "$(ls -A "$CIQ_RUN_CACHE")" "$file"
	assert_equal "$(stat -c %a "$CIQ_RUN_CACHE/$file")" 600
	mkdir "$D/load"
	cp "$CIQ_RUN_CACHE/$file" "$D/load/"
	server_start "$D/load" --dbfilename "$file"
	run redis-cli -s "$D/load/sock" KEYS '*'
	server_stop "$D/load"
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" 'ciq:timing:{} ciq:timing:{}:seen '
}

@test "two runs at once in one directory: both pass, and the history is still good" {
	mkdir "$D/proj"
	cd "$D/proj"
	ciq-run -j 2 "$D/list" -- "$D/runner" >"$D/one" 2>&1 &
	one=$!
	ciq-run -j 2 "$D/list" -- "$D/runner" >"$D/two" 2>&1 &
	two=$!
	wait "$one"
	wait "$two"
	assert_equal "$(tail -n 1 "$D/one")" "PASSED: 12 tests, 12 passed, 0 skipped"
	assert_equal "$(tail -n 1 "$D/two")" "PASSED: 12 tests, 12 passed, 0 skipped"
	assert_equal "$(wc -l <"$D/ran")" 24
	# A third run loads what they left, without a warning.
	run ciq-run -j 2 "$D/list" -- "$D/runner"
	assert_success
	refute_line --partial warning
	assert_equal "$(find "$CIQ_RUN_CACHE" -type f | wc -l)" 1
}

@test "a cache directory that cannot be written: a warning, and the run goes on" {
	: >"$D/file"
	CIQ_RUN_CACHE=$D/file/cache run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_success
	assert_line --index 0 "ciq-run: warning: cannot write in '$D/file/cache': running without the timing history (set CIQ_RUN_CACHE to a directory of yours)"
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
}

@test "a history file the server cannot load: a warning, and the run goes on" {
	mkdir "$D/proj"
	cd "$D/proj"
	mkdir -p "$CIQ_RUN_CACHE"
	file=$CIQ_RUN_CACHE/timing-proj-$(printf '%s' "$(pwd -P)" | cksum | cut -d' ' -f1).rdb
	echo 'not an RDB file' >"$file"
	run ciq-run -j 1 "$D/list" -- "$D/runner"
	assert_success
	assert_line --index 0 --partial "ciq-run: warning: redis-server did not start with the timing history '$file' ("
	assert_line --index 0 --partial "): running without it; remove the file to start a new history"
	assert_line --index -1 "PASSED: 12 tests, 12 passed, 0 skipped"
	# The file is left as it was, for the user to look at.
	assert_equal "$(cat "$file")" 'not an RDB file'
}
