#!/usr/bin/env bats
#
# ci-templates/ciq-worker.sh: its log (a line per test, the output of each
# failure, a closing line) in each CI provider's form, against hostile ids
# and output; -q; attempts and reclaims; one ciq-loop and one server
# connection per loop, no tool started per test; -j N loops (worker ids,
# blocks that do not mix, exit status, retry mode, signals); options.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	W=$CIQ_ROOT/ci-templates/ciq-worker.sh
	RUN=$BATS_TEST_TMPDIR/run
	# A test fails when its id says "fail"; it prints hostile lines when
	# it says "hostile", nothing when it says "quiet", else a line or two.
	# Every run is logged as "WORKER ID" in $BATS_TEST_TMPDIR/ran.
	cat >"$RUN" <<'SH'
#!/bin/sh
printf '%s %s\n' "$CIQ_WORKER" "$1" >>"${0%/*}/ran"
case $1 in
*hostile*)
	printf '::endgroup::\n::add-mask::x\n\033[0Ksection_end:1:x\r\033[0K\n'
	printf '+++ fake\n--- a/file\n\033[31m~~~ red\033[0m\ntravis_fold:end:x\r\n'
	printf 'no newline' ;;
*quiet*) ;;
*fail*) printf 'expected 42, got 41 in %s\nsecond line\n' "$1" ;;
*) printf 'ok %s\n' "$1" ;;
esac
case $1 in *fail*) exit 1 ;; esac
exit 0
SH
	chmod +x "$RUN"
	unset CIQ_JOBS CIQ_RETRY
}

# A worker left in the background by a failed test is stopped, and every
# process it left (they carry its mark: see ours), by pid.
teardown() {
	[ -z "${BG:-}" ] || kill -TERM "$BG" 2>/dev/null || true
	local p
	for p in $(ours); do kill -9 "$p" 2>/dev/null || true; done
}

# norm: the log read on stdin, its varying parts fixed (durations, GitLab's
# times, the random token), ESC, CR and other bytes made visible (cat -v).
norm() {
	LC_ALL=C sed -E 's/[0-9]+\.[0-9]{2}s  /N.NNs  /; s/busy [0-9]+\.[0-9]s$/busy N.Ns/
		s/(section_(start|end)):[0-9]+:/\1:T:/g; s/[0-9a-f]{16}/TOKEN/g' | cat -v
}

# log: norm of the output of the last run.
log() {
	norm <<<"$output"
}

# The suite of the provider tests: a test that passes and prints a line,
# one that prints nothing, one with a hostile id and output (a CR and an
# invalid byte in the id), and a hostile one that fails.
HOSTILE_PASS=$'hostile pass\r::error::cr \377 %s \\ "$x"'
HOSTILE_FAIL="hostile-fail 'q' ::endgroup::"
provider_suite() {
	populate p1 p2-quiet "$HOSTILE_PASS" "$HOSTILE_FAIL"
}

# The hostile output, as norm shows it.
HOSTILE_OUT='::endgroup::
::add-mask::x
^[[0Ksection_end:T:x^M^[[0K
+++ fake
--- a/file
^[[31m~~~ red^[[0m
travis_fold:end:x^M
no newline'

# --- the log -----------------------------------------------------------------

@test "plain log: a line per test, each failure's output in full, the closing line" {
	populate a b-fail c-quiet d-quiet-fail '-e -n'
	run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	assert_equal "$(log)" "PASS      N.NNs  a
FAIL      N.NNs  b-fail
expected 42, got 41 in b-fail
second line
PASS      N.NNs  c-quiet
FAIL      N.NNs  d-quiet-fail
PASS      N.NNs  -e -n
ciq-worker 0: 5 tests, 2 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(cut -d' ' -f2- "$BATS_TEST_TMPDIR/ran")" "$(printf '%s\n' a b-fail c-quiet d-quiet-fail '-e -n')"
	assert_equal "$(counter failed)" 2
	assert_equal "$(rcli HGET "$(key output)" b-fail)" "expected 42, got 41 in b-fail
second line"
}

@test "the durations are the server's, from reservation to result, as the report's; busy is their sum" {
	cat >"$BATS_TEST_TMPDIR/slow" <<'SH'
#!/bin/sh
sleep "$1"
SH
	chmod +x "$BATS_TEST_TMPDIR/slow"
	populate 0.3 0.5
	run sh "$W" "$BATS_TEST_TMPDIR/slow"
	assert_success
	# At least the sleep, and not much more (a loaded machine starts
	# processes slowly).
	[[ ${lines[0]} =~ ^PASS\ +0\.[345][0-9]s\ \ 0\.3$ ]]
	[[ ${lines[1]} =~ ^PASS\ +0\.[567][0-9]s\ \ 0\.5$ ]]
	[[ ${lines[2]} =~ ^ciq-worker\ 0:\ 2\ tests,\ 0\ failed,\ 0\ requeued,\ 0\ reclaimed,\ busy\ (0\.[89]|1\.[0-3])s$ ]]
	# The same milliseconds as the test's record, to the hundredth.
	local ms c
	ms=$(result 0.5 | cut -d' ' -f2)
	c=$(((ms + 5) / 10))
	assert_equal "${lines[1]}" "$(printf 'PASS    %7s  0.5' "$((c / 100)).$(printf %02d $((c % 100)))s")"
}

@test "-q: nothing for a passing test; failures and the closing line" {
	populate a b-fail c-quiet
	run --separate-stderr sh "$W" -q "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	assert_equal "$(log)" "FAIL      N.NNs  b-fail
expected 42, got 41 in b-fail
second line
ciq-worker 0: 3 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "plain on CircleCI, hostile ids and output as they are" {
	provider_suite
	CIRCLECI=true run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	assert_equal "$(log)" "PASS      N.NNs  p1
PASS      N.NNs  p2-quiet
PASS      N.NNs  hostile pass^M::error::cr M-^? %s \\ \"\$x\"
FAIL      N.NNs  $HOSTILE_FAIL
$HOSTILE_OUT
ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "GitHub Actions: passes in groups, everything printed inside stop-commands, titles escaped" {
	provider_suite
	GITHUB_ACTIONS=true run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	assert_equal "$(log)" "::group::PASS      N.NNs  p1
::stop-commands::TOKEN
ok p1
::TOKEN::
::endgroup::
::stop-commands::TOKEN
PASS      N.NNs  p2-quiet
::TOKEN::
::group::PASS      N.NNs  hostile pass%0D::error::cr M-^? %25s \\ \"\$x\"
::stop-commands::TOKEN
$HOSTILE_OUT
::TOKEN::
::endgroup::
::stop-commands::TOKEN
FAIL      N.NNs  $HOSTILE_FAIL
$HOSTILE_OUT
::TOKEN::
ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	# One token, random, for the whole job.
	assert_equal "$(grep -o '::stop-commands::.*' <<<"$output" | sort -u | wc -l)" 1
	[[ $output =~ ::stop-commands::[0-9a-f]{16} ]]
}

@test "GitLab CI: passes in collapsed sections, failures in open ones, no marker from the output" {
	provider_suite
	GITLAB_CI=true run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	# The output's CR ESC[0K loses its ESC[0K: no section marker is left.
	local out=${HOSTILE_OUT/"section_end:T:x^M^[[0K"/"section_end:T:x^M"}
	assert_equal "$(log)" "^[[0Ksection_start:T:ciq-TOKEN-1-1[collapsed=true]^M^[[0KPASS      N.NNs  p1
ok p1
^[[0Ksection_end:T:ciq-TOKEN-1-1^M^[[0K
PASS      N.NNs  p2-quiet
^[[0Ksection_start:T:ciq-TOKEN-1-3[collapsed=true]^M^[[0KPASS      N.NNs  hostile pass^M::error::cr M-^? %s \\ \"\$x\"
$out
^[[0Ksection_end:T:ciq-TOKEN-1-3^M^[[0K
^[[0Ksection_start:T:ciq-TOKEN-1-4^M^[[0KFAIL      N.NNs  $HOSTILE_FAIL
$out
^[[0Ksection_end:T:ciq-TOKEN-1-4^M^[[0K
ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	# A section starts and ends within the test's run, by the clock.
	local t0 t1
	t0=$(grep -ao 'section_start:[0-9]*:ciq-[0-9a-f]*-1-1' <<<"$output" | cut -d: -f2)
	t1=$(grep -ao 'section_end:[0-9]*:ciq-[0-9a-f]*-1-1' <<<"$output" | cut -d: -f2)
	[ "$t0" -le "$t1" ] && [ $((t1 - t0)) -le 1 ]
	[ $((t0 - $(date +%s))) -le 0 ]
}

@test "Buildkite: every test a header, --- for a pass, +++ for a failure; the output's headers defused" {
	provider_suite
	BUILDKITE=true run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	local out=${HOSTILE_OUT/"+++ fake"/" +++ fake"}
	out=${out/"--- a/file"/" --- a/file"}
	out=${out/"^[[31m~~~"/" ^[[31m~~~"}
	assert_equal "$(log)" "--- PASS      N.NNs  p1
ok p1
--- PASS      N.NNs  p2-quiet
--- PASS      N.NNs  hostile pass^M::error::cr M-^? %s \\ \"\$x\"
$out
+++ FAIL      N.NNs  $HOSTILE_FAIL
$out
+++ ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "Travis CI: passes folded, failures outside any fold, fold markers of the output defused" {
	provider_suite
	TRAVIS=true run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	local out=${HOSTILE_OUT/"travis_fold:end:x"/"travis_fold:end: x"}
	assert_equal "$(log)" "travis_fold:start:ciq-TOKEN-1-1^MPASS      N.NNs  p1
ok p1
travis_fold:end:ciq-TOKEN-1-1^M
PASS      N.NNs  p2-quiet
travis_fold:start:ciq-TOKEN-1-3^MPASS      N.NNs  hostile pass^M::error::cr M-^? %s \\ \"\$x\"
$out
travis_fold:end:ciq-TOKEN-1-3^M
FAIL      N.NNs  $HOSTILE_FAIL
$out
ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "an id with a fold marker is defused on Travis CI" {
	populate 'x travis_fold:start:y-fail'
	TRAVIS=true run sh "$W" "$RUN"
	assert_failure 1
	assert_line --index 0 --regexp '^FAIL +[0-9.]+s  x travis_fold:start: y-fail$'
}

@test "-q on GitHub Actions: the failures only, in stop-commands" {
	provider_suite
	GITHUB_ACTIONS=true run --separate-stderr sh "$W" -q "$RUN"
	assert_failure 1
	assert_equal "$(log)" "::stop-commands::TOKEN
FAIL      N.NNs  $HOSTILE_FAIL
$HOSTILE_OUT
::TOKEN::
ciq-worker 0: 4 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

# --- attempts and reclaims ----------------------------------------------------

@test "a requeued test's next run shows its attempt" {
	cat >"$BATS_TEST_TMPDIR/once" <<'SH'
#!/bin/sh
# Fails the first time only.
[ -e "${0%/*}/failed-once" ] && { echo "passed now"; exit 0; }
: >"${0%/*}/failed-once"
echo "failed once"
exit 1
SH
	chmod +x "$BATS_TEST_TMPDIR/once"
	populate flaky
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/once"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(log)" "REQUEUE   N.NNs  flaky
failed once
PASS      N.NNs  flaky  (attempt 2)
ciq-worker 0: 2 tests, 0 failed, 1 requeued, 0 reclaimed, busy N.Ns"
}

@test "a test reclaimed from a dead worker is counted and shows its attempt" {
	populate a b
	# Worker 9 takes a and dies without a word.
	assert_equal "$(ciq-pop --worker 9)" a
	CIQ_TIMEOUT=0.5 run --separate-stderr sh "$W" "$RUN"
	assert_success
	# Said by ciq-loop, which reclaimed it after b, or first when a was
	# already lost when the loop began.
	assert_equal "$stderr" "ciq-loop: reclaimed 'a' from worker 9, silent for over 0.5 s"
	# b first, unless a was already lost when the loop began.
	assert_equal "$(log | sort)" "PASS      N.NNs  a  (attempt 2, reclaimed)
PASS      N.NNs  b
ciq-worker 0: 2 tests, 0 failed, 0 requeued, 1 reclaimed, busy N.Ns"
	[[ ${lines[2]} == "ciq-worker 0: "* ]]
}

# held_by_0 ID: worker 0 holds ID.
held_by_0() {
	[ "$(holder "$1")" = 0 ]
}

@test "a test taken from this worker while it ran shows no time, and busy leaves it out" {
	cat >"$BATS_TEST_TMPDIR/slow" <<'SH'
#!/bin/sh
# Runs until the test has reclaimed it for worker 9.
while [ ! -e "${0%/*}/taken" ]; do sleep 0.05; done
SH
	chmod +x "$BATS_TEST_TMPDIR/slow"
	populate a
	CIQ_TIMEOUT=0.3 sh "$W" "$BATS_TEST_TMPDIR/slow" >"$BATS_TEST_TMPDIR/log" 2>"$BATS_TEST_TMPDIR/err" &
	local pid=$!
	wait_for 100 held_by_0 a
	# No heartbeat here: a's reservation goes stale, and worker 9 takes it.
	assert_equal "$(ciq-pop --worker 9 --timeout 0.3 2>/dev/null)" a
	: >"$BATS_TEST_TMPDIR/taken"
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/log")" "PASS          -  a
ciq-worker 0: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy 0.0s"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "ciq-loop: 'a' was reclaimed by another worker: this first result is recorded"
}

# --- one ciq-loop per loop, one connection ------------------------------------

# counted: wrappers on PATH that log each start of ciq-loop, ciq-pop,
# ciq-ack and ciq-requeue, a line "TOOL WORKER", to
# $BATS_TEST_TMPDIR/starts, then exec the tool (the same process: its
# parent is still the loop).
counted() {
	local tool
	mkdir "$BATS_TEST_TMPDIR/wrap"
	for tool in ciq-loop ciq-pop ciq-ack ciq-requeue; do
		printf '#!/bin/sh\necho "%s $CIQ_WORKER" >>"%s/starts"\nexec "%s/%s" "$@"\n' \
			"$tool" "$BATS_TEST_TMPDIR" "$CIQ_BIN" "$tool" >"$BATS_TEST_TMPDIR/wrap/$tool"
		chmod +x "$BATS_TEST_TMPDIR/wrap/$tool"
	done
	PATH=$BATS_TEST_TMPDIR/wrap:$PATH
}

# starts: the tools started, a line "TOOL WORKER" each, sorted.
starts() {
	sort "$BATS_TEST_TMPDIR/starts"
}

@test "one ciq-loop per loop and no tool per test: passes, failures, a requeue" {
	cat >"$BATS_TEST_TMPDIR/once" <<'SH'
#!/bin/sh
# f fails the first time only; t3-fail always.
printf '%s %s\n' "$CIQ_WORKER" "$1" >>"${0%/*}/ran"
[ "$1" = f ] && [ ! -e "${0%/*}/failed-once" ] && { : >"${0%/*}/failed-once"; echo "failed once"; exit 1; }
case $1 in *fail) echo "$1 failed"; exit 1 ;; esac
exit 0
SH
	chmod +x "$BATS_TEST_TMPDIR/once"
	counted
	populate t1 f t3-fail t4
	# One requeue allowed in the build: f's (t3-fail's is then refused).
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=0.25 run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/once"
	assert_failure 1
	assert_equal "$stderr" "ciq-loop: the build used its requeues (1/1, --requeue-tolerance 0.25): 't3-fail' not requeued"
	assert_equal "$(log)" "PASS      N.NNs  t1
REQUEUE   N.NNs  f
failed once
PASS      N.NNs  f  (attempt 2)
FAIL      N.NNs  t3-fail
t3-fail failed
PASS      N.NNs  t4
ciq-worker 0: 5 tests, 1 failed, 1 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(starts)" "ciq-loop 0"
	assert_equal "$(counter failed)" 1
	assert_equal "$(counter requeued)" 1
	assert_equal "$(rcli HGET "$(key output)" t3-fail)" "t3-fail failed"
	assert_equal "$(records running)" 0
	# -j 2: one ciq-loop per loop, each as its worker.
	CIQ_BUILD=two populate t1 t2 t3 t4 t5 t6
	: >"$BATS_TEST_TMPDIR/starts"
	CIQ_BUILD=two run --separate-stderr sh "$W" -j 2 "$RUN"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(starts)" "ciq-loop 0
ciq-loop 0.2"
	assert_equal "$(log | grep -c '^PASS ')" 6
}

# connections: the connections the server has accepted so far, this
# redis-cli's own included.
connections() {
	rcli INFO stats | sed -n 's/^total_connections_received:\([0-9]*\).*/\1/p'
}

@test "one server connection per loop for all its tests" {
	local i before
	for i in $(seq 1 40); do echo "t$i"; done >"$BATS_TEST_TMPDIR/list"
	echo t41-fail >>"$BATS_TEST_TMPDIR/list"
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	# (No heartbeat here: it would open a connection of its own while a
	# test is held longer than a beat.)
	before=$(connections)
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 run --separate-stderr sh "$W" -q "$RUN"
	# ciq-loop's connection, then the one of connections itself.
	assert_equal "$(connections)" $((before + 1 + 1))
	assert_failure 1
	assert_equal "$stderr" "ciq-loop: 't41-fail' was requeued 1 times already (--max-requeues 1): not requeued"
	assert_equal "$(records results)" 41
	assert_equal "$(counter requeued)" 1
	# -j 3: a ciq-loop each, and loops 2 and 3 join with ciq-populate.
	CIQ_BUILD=three ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	before=$(connections)
	CIQ_BUILD=three CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 run --separate-stderr sh "$W" -q -j 3 "$RUN"
	assert_equal "$(connections)" $((before + 3 + 2 + 1))
	assert_failure 1
	assert_equal "$stderr" "ciq-loop: 't41-fail' was requeued 1 times already (--max-requeues 1): not requeued"
	assert_equal "$(CIQ_BUILD=three records results)" 41
}

@test "the last test: its line and output, then the closing line (ciq-loop finds none left)" {
	populate a z-fail
	run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	assert_equal "$(log)" "PASS      N.NNs  a
FAIL      N.NNs  z-fail
expected 42, got 41 in z-fail
second line
ciq-worker 0: 2 tests, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(records results)" 2
	assert_equal "$(records running)" 0
	# A single test, passing, quiet: the closing line alone.
	CIQ_BUILD=one populate only
	CIQ_BUILD=one run --separate-stderr sh "$W" -q "$RUN"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(log)" "ciq-worker 0: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "a circuit breaker met when taking the next test ends the loop after the failure's line" {
	populate f1-fail f2-fail t3
	CIQ_MAX_CONSECUTIVE_FAILURES=2 run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" "ciq-loop: worker '0' stops: 2 tests failed in a row on it (--max-consecutive-failures 2); other workers take the rest"
	assert_equal "$(log | grep -v '^expected\|^second')" "FAIL      N.NNs  f1-fail
FAIL      N.NNs  f2-fail
ciq-worker 0: 2 tests, 2 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" t3
}

@test "a failing test whose requeue fails mid-loop: no line for it, ciq-loop's status" {
	# t2-fail wipes the build, then fails: its requeue finds no build (82),
	# and ciq-loop ends; t3 is never run.
	cat >"$BATS_TEST_TMPDIR/wipe" <<SH
#!/bin/sh
printf '%s\n' "\$1" >>"$BATS_TEST_TMPDIR/ran"
case \$1 in
t2-fail) redis-cli -s "$REDIS_SOCK" flushall >/dev/null; exit 1 ;;
esac
SH
	chmod +x "$BATS_TEST_TMPDIR/wipe"
	populate t1 t2-fail t3
	run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/wipe"
	assert_failure "$CIQ_EX_VANISHED"
	assert_equal "$(log)" "PASS      N.NNs  t1
ciq-worker 0: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$stderr" "ciq-loop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ran")" "t1
t2-fail"
}

@test "the heartbeat keeps the tests that ciq-loop reserved: two busy workers reclaim nothing" {
	cat >"$BATS_TEST_TMPDIR/slow" <<'SH'
#!/bin/sh
printf '%s %s\n' "$CIQ_WORKER" "$1" >>"${0%/*}/ran"
sleep 0.7
SH
	chmod +x "$BATS_TEST_TMPDIR/slow"
	populate t1 t2 t3 t4 t5 t6
	# Each test runs longer than --timeout: only the heartbeats keep the
	# tests from being reclaimed by the other worker, which waits.
	export CIQ_TIMEOUT=0.4 CIQ_HEARTBEAT=0.1 XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	CIQ_WORKER=9 sh "$W" "$BATS_TEST_TMPDIR/slow" >"$BATS_TEST_TMPDIR/log9" 2>"$BATS_TEST_TMPDIR/err9" &
	BG=$!
	run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/slow"
	local rc=0
	wait "$BG" || rc=$?
	BG=
	assert_success
	assert_equal "$rc" 0
	assert_equal "$stderr" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err9")" ''
	# Every test ran once, a first attempt, and each worker ran more than one.
	assert_equal "$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/ran" | sort)" "$(printf 't%s\n' 1 2 3 4 5 6)"
	assert_equal "$(cat - "$BATS_TEST_TMPDIR/log9" <<<"$output" | norm | grep -v '^ciq-worker ' | sort)" \
		"$(printf 'PASS      N.NNs  t%s\n' 1 2 3 4 5 6)"
	[ "$(grep -c '^0 ' "$BATS_TEST_TMPDIR/ran")" -ge 2 ]
	[ "$(grep -c '^9 ' "$BATS_TEST_TMPDIR/ran")" -ge 2 ]
}

# waiting_0: worker 0 waits for a test to come back.
waiting_0() {
	[ "$(rcli SISMEMBER "$(key waiting)" 0)" = 1 ]
}

@test "the build vanishes while ciq-loop waits: the acked test's line, then the error" {
	populate a b
	# Worker 9 holds a: after b's ack, ciq-loop waits for it.
	ciq-pop --worker 9 >/dev/null
	CIQ_TIMEOUT=0.5 sh "$W" "$RUN" >"$BATS_TEST_TMPDIR/log" 2>"$BATS_TEST_TMPDIR/err" &
	BG=$!
	wait_for 100 waiting_0
	rcli FLUSHALL >/dev/null
	local rc=0
	wait "$BG" || rc=$?
	BG=
	assert_equal "$rc" "$CIQ_EX_VANISHED"
	assert_equal "$(norm <"$BATS_TEST_TMPDIR/log")" "PASS      N.NNs  b
ciq-worker 0: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" "ciq-loop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "a runner gets none of ciq-loop's fifos, and what it leaves running does not hold the loop" {
	cat >"$BATS_TEST_TMPDIR/leaver" <<'SH'
#!/bin/sh
# Leaves a sleep behind with every descriptor the runner has, and notes
# where the runner's descriptors 3 and 4 lead.
sleep 30 &
echo "$!" >>"${0%/*}/pids"
for fd in 3 4; do
	readlink "/proc/$$/fd/$fd" >>"${0%/*}/fds" 2>/dev/null || true
done
SH
	chmod +x "$BATS_TEST_TMPDIR/leaver"
	populate a b-fail c
	local start rc=0
	start=$(date +%s%N)
	CIQW_MARK=$BATS_TEST_TMPDIR run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/leaver"
	assert_success
	assert_equal "$stderr" ''
	# Done long before the sleeps.
	[ $((($(date +%s%N) - start) / 1000000)) -lt 10000 ]
	assert_equal "$(log)" "PASS      N.NNs  a
PASS      N.NNs  b-fail
PASS      N.NNs  c
ciq-worker 0: 3 tests, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	run grep -c 'ciq-worker' "$BATS_TEST_TMPDIR/fds"
	assert_output 0
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/pids")" 3
	# ciq-loop ended with the loop: only the sleeps are left.
	assert_equal "$(ours | sed 's|.*|/proc/&/comm|' | xargs cat | sort -u)" sleep
}

@test "ciq-loop killed while the runner runs: the loop ends with its status, at once" {
	cat >"$BATS_TEST_TMPDIR/killer" <<'SH'
#!/bin/sh
# Kills its loop's ciq-loop (the runner's parent is the loop).
kill -9 "$(pgrep -x -P "$PPID" ciq-loop)"
SH
	chmod +x "$BATS_TEST_TMPDIR/killer"
	populate a b
	run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/killer"
	assert_failure 137
	assert_equal "$stderr" ''
	# a was run, and could not be recorded: no line for it.
	assert_equal "$(log)" "ciq-worker 0: 0 tests, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(records results)" 0
	assert_equal "$(holder a)" 0
}

@test "TMPDIR with a tab or a newline is refused (the output's name goes into ciq-loop's requests)" {
	local d
	populate a
	for d in "$BATS_TEST_TMPDIR/a	b" "$BATS_TEST_TMPDIR/a
b"; do
		mkdir "$d"
		TMPDIR=$d run --separate-stderr sh "$W" "$RUN"
		assert_failure "$CIQ_EX_CONFIG"
		assert_output ''
		assert_equal "$stderr" "ciq-worker.sh: TMPDIR holds a tab or a newline: set it to a path without"
	done
	assert_equal "$(rcli LLEN "$(key queue)")" 1
	# Spaces, quotes, a backslash and a $ are fine.
	d="$BATS_TEST_TMPDIR/a b'\"\\\$x"
	mkdir "$d"
	TMPDIR=$d run --separate-stderr sh "$W" "$RUN"
	assert_success
	assert_equal "$stderr" ''
}

@test "ids with tabs, backslashes and leading dashes go through ciq-loop's requests whole" {
	local t1=$'a\tb' t2=$'-x\t\tfail\\t \\' t3=$'\tlead'
	populate "$t1" "$t2" "$t3"
	CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=1 run --separate-stderr sh "$W" "$RUN"
	assert_failure 1
	assert_equal "$stderr" "ciq-loop: '$t2' was requeued 1 times already (--max-requeues 1): not requeued"
	assert_equal "$(log)" "PASS      N.NNs  $t1
REQUEUE   N.NNs  $t2
expected 42, got 41 in $t2
second line
FAIL      N.NNs  $t2  (attempt 2)
expected 42, got 41 in $t2
second line
PASS      N.NNs  $t3
ciq-worker 0: 4 tests, 1 failed, 1 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(result "$t1" | cut -d' ' -f1)" p
	assert_equal "$(result "$t2" | cut -d' ' -f1)" f
	assert_equal "$(rcli HGET "$(key output)" "$t2")" "expected 42, got 41 in $t2
second line"
}

# --- -j N ----------------------------------------------------------------------

@test "-j 3: three workers 0 0.2 0.3, every test run once, exit 1 when one failed a test" {
	populate t1 t2 t3 t4 t5-fail t6 t7 t8 t9
	run --separate-stderr sh "$W" -j 3 "$RUN"
	assert_failure 1
	assert_equal "$stderr" ''
	# Every test once, on one of the three workers.
	assert_equal "$(cut -d' ' -f2 "$BATS_TEST_TMPDIR/ran" | sort)" "$(printf 't%s\n' 1 2 3 4 5-fail 6 7 8 9)"
	assert_equal "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/ran" | sort -u | grep -cvx '0\|0\.[23]')" 0
	assert_equal "$(log | grep -v '^ciq-worker ' | sort)" "FAIL      N.NNs  t5-fail
PASS      N.NNs  t1
PASS      N.NNs  t2
PASS      N.NNs  t3
PASS      N.NNs  t4
PASS      N.NNs  t6
PASS      N.NNs  t7
PASS      N.NNs  t8
PASS      N.NNs  t9
expected 42, got 41 in t5-fail
second line"
	# The failure's output follows its line.
	assert_equal "$(log | grep -A2 '^FAIL')" "FAIL      N.NNs  t5-fail
expected 42, got 41 in t5-fail
second line"
	# A closing line per worker, with what it ran.
	local w n f
	for w in 0 0.2 0.3; do
		n=$(grep -c "^$w " "$BATS_TEST_TMPDIR/ran" || true)
		f=$(grep -c "^$w .*fail" "$BATS_TEST_TMPDIR/ran" || true)
		[ "$n" -eq 1 ] && s= || s=s
		assert_line --regexp "^ciq-worker $w: $n test$s, $f failed, 0 requeued, 0 reclaimed, busy [0-9]+\.[0-9]s\$"
	done
	# The server knows the three workers (and those that ran tests).
	assert_equal "$(ciq-report --no-wait --json | jq -r '.workers[] | select(.tests > 0) | .id' | sort | tr '\n' ' ')" "$(
		cut -d' ' -f1 "$BATS_TEST_TMPDIR/ran" | sort -u | tr '\n' ' ')"
	assert_equal "$(ciq-report --no-wait --json | jq -r '.workers[].id' | sort | tr '\n' ' ')" "0 0.2 0.3 "
	assert_equal "$(counter failed)" 1
}

@test "-j 3 with every test passing exits 0; CIQ_JOBS gives the count, -j wins" {
	populate t1 t2 t3 t4
	CIQ_JOBS=3 run --separate-stderr sh "$W" "$RUN"
	assert_success
	assert_equal "$(log | grep -c '^ciq-worker 0\(\.[23]\)\{0,1\}: ')" 3
	CIQ_BUILD=again populate t1 t2
	CIQ_BUILD=again CIQ_JOBS=3 run --separate-stderr sh "$W" -j 1 "$RUN"
	assert_success
	assert_equal "$(log | grep '^ciq-worker ')" "ciq-worker 0: 2 tests, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "-j 3: the blocks of the loops do not mix" {
	cat >"$BATS_TEST_TMPDIR/loud" <<'SH'
#!/bin/sh
# 300 lines that name the test, then fail.
i=0
while [ "$i" -lt 300 ]; do
	echo "line $i of $1"
	i=$((i + 1))
done
exit 1
SH
	chmod +x "$BATS_TEST_TMPDIR/loud"
	populate $(seq 1 12)
	local rc=0
	sh "$W" -j 3 "$BATS_TEST_TMPDIR/loud" >"$BATS_TEST_TMPDIR/log" || rc=$?
	assert_equal "$rc" 1
	# Each FAIL line is followed by its 300 lines, in order.
	run awk '
		/^FAIL / { if (n != 0 && n != 300) bad = bad " short:" id; id = $NF; n = 0; next }
		/^ciq-worker / { next }
		{ if ($0 != "line " n " of " id) { bad = bad " at:" NR; exit } n++ }
		END { if (n != 300) bad = bad " last"; print bad == "" ? "ok" : bad }' "$BATS_TEST_TMPDIR/log"
	assert_output ok
	assert_equal "$(grep -c '^FAIL ' "$BATS_TEST_TMPDIR/log")" 12
}

@test "-j 3: a tool's error status is the job's (a dead socket: 69)" {
	CIQ_QUEUE=unix://$BATS_TEST_TMPDIR/nosock run --separate-stderr sh "$W" -j 3 "$RUN"
	assert_failure "$CIQ_EX_UNAVAILABLE"
	assert_equal "$(sort <<<"$output")" "ciq-worker 0.2: 0 tests, 0 failed, 0 requeued, 0 reclaimed, busy 0.0s
ciq-worker 0.3: 0 tests, 0 failed, 0 requeued, 0 reclaimed, busy 0.0s
ciq-worker 0: 0 tests, 0 failed, 0 requeued, 0 reclaimed, busy 0.0s"
	# The first loop's ciq-loop connects at once; the others join first.
	assert_equal "$(sort -u <<<"$stderr")" "ciq-loop: cannot connect to 'unix://$BATS_TEST_TMPDIR/nosock': No such file or directory
ciq-populate: cannot connect to 'unix://$BATS_TEST_TMPDIR/nosock': No such file or directory"
}

@test "a tool's error wins over a failed test" {
	# t1 fails, then t2 wipes the build: its ack finds no build (82).
	cat >"$BATS_TEST_TMPDIR/wipe" <<SH
#!/bin/sh
case \$1 in
t1-fail) exit 1 ;;
t2) redis-cli -s "$REDIS_SOCK" flushall >/dev/null ;;
esac
SH
	chmod +x "$BATS_TEST_TMPDIR/wipe"
	populate t1-fail t2 t3
	run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/wipe"
	assert_failure "$CIQ_EX_VANISHED"
	assert_equal "$(log)" "FAIL      N.NNs  t1-fail
ciq-worker 0: 1 test, 1 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$stderr" "ciq-loop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "-j 2: the build vanishes mid-loop: each loop's closing line, the tool's status" {
	# The runner of t3 wipes the build; the other loop finds it gone too.
	cat >"$BATS_TEST_TMPDIR/wipe" <<SH
#!/bin/sh
[ "\$1" != t3 ] || redis-cli -s "$REDIS_SOCK" flushall >/dev/null
SH
	chmod +x "$BATS_TEST_TMPDIR/wipe"
	populate t1 t2 t3 t4 t5 t6
	run --separate-stderr sh "$W" -j 2 "$BATS_TEST_TMPDIR/wipe"
	assert_failure "$CIQ_EX_VANISHED"
	assert_equal "$(sort -u <<<"$stderr")" "ciq-loop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
	assert_equal "$(log | grep -c '^ciq-worker 0\(\.2\)\{0,1\}: ')" 2
	# Passes only (the other loop's may come before the wipe), none for t3,
	# whose ack found no build.
	assert_equal "$(log | grep -v '^ciq-worker ' | grep -vc '^PASS      N.NNs  t[124-6]$')" 0
	assert_equal "$(rcli DBSIZE)" 0
}

@test "-j 2 in retry mode: each sub-worker runs its own failures again" {
	printf '%s\n' t1 t2-fail t3 t4-fail t5 t6 >"$BATS_TEST_TMPDIR/list"
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	run sh "$W" -j 2 "$RUN"
	assert_failure 1
	local first
	first=$(grep fail "$BATS_TEST_TMPDIR/ran" | sort)
	: >"$BATS_TEST_TMPDIR/ran"
	# The retried job, as a template runs it; its tests pass now.
	cat >"$BATS_TEST_TMPDIR/fixed" <<'SH'
#!/bin/sh
printf '%s %s\n' "$CIQ_WORKER" "$1" >>"${0%/*}/ran"
SH
	chmod +x "$BATS_TEST_TMPDIR/fixed"
	export CIQ_RETRY=true
	run --separate-stderr ciq-populate "$BATS_TEST_TMPDIR/list"
	assert_success
	# The job's own populate lines up the first loop's failures (worker 0).
	assert_equal "$stderr" "ciq-populate: retry of build '$CIQ_BUILD': worker '0' runs $(grep -c "^0 " <<<"$first") failed tests again"
	run --separate-stderr sh "$W" -j 2 "$BATS_TEST_TMPDIR/fixed"
	assert_success
	# The same worker ran each failure again, and nothing else.
	assert_equal "$(sort "$BATS_TEST_TMPDIR/ran")" "$first"
	assert_equal "$(log | grep -v '^ciq-worker ' | sort)" "PASS      N.NNs  t2-fail  (attempt 2, retry)
PASS      N.NNs  t4-fail  (attempt 2, retry)"
	# The second loop set up its own list. (A tool's message is one
	# write: the messages of tools at once never share a line.)
	[[ $stderr == *"retry of build '$CIQ_BUILD': worker '0.2' runs $(grep -c "^0.2 " <<<"$first") failed tests again"* ]]
	[[ $stderr == *"'t2-fail' both passed and failed: recorded as flaky"* ]]
	assert_equal "$(counter failed)" 0
}

@test "-j 2 in retry mode: the build turns green" {
	printf '%s\n' t1 t2-fail >"$BATS_TEST_TMPDIR/list"
	ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	run sh "$W" -j 2 "$RUN"
	assert_failure 1
	export CIQ_RETRY=true
	ciq-populate "$BATS_TEST_TMPDIR/list" 2>/dev/null
	run sh "$W" -j 2 true
	assert_success
	run ciq-report --no-wait
	assert_success
}

# --- signals -----------------------------------------------------------------

# A runner that sleeps in a child of its own, its pids in $BATS_TEST_TMPDIR.
sleeper() {
	cat >"$BATS_TEST_TMPDIR/sleeper" <<'SH'
#!/bin/sh
sleep 30 &
echo "$$ $!" >>"${0%/*}/pids"
wait
SH
	chmod +x "$BATS_TEST_TMPDIR/sleeper"
}

# ours: the pids of the processes started by the worker under test (they
# carry CIQW_MARK in their environment): loops, runners, their children,
# heartbeats.
ours() {
	grep -lsxzF "CIQW_MARK=$BATS_TEST_TMPDIR" /proc/[0-9]*/environ | cut -d/ -f3
	return 0
}

none_left() {
	[ -z "$(ours)" ]
}

running_n() {
	[ "$(records running)" -eq "$1" ] && [ "$(wc -l <"$BATS_TEST_TMPDIR/pids" 2>/dev/null)" -eq "$1" ]
}

# signal_test SIGNAL STATUS ARGS...: a worker with ARGS on 5 sleeping
# tests gets SIGNAL once 3 run: it exits STATUS within 2 s, the tests
# are back in the queue, and nothing of it is left.
signal_test() {
	local sig=$1 want=$2 n=3
	shift 2
	[ "$1" = -j ] || n=1
	sleeper
	populate t1 t2 t3 t4 t5
	unset CIQ_HEARTBEAT
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	# Started from here, in the background, it would have INT ignored.
	CIQW_MARK=$BATS_TEST_TMPDIR env --default-signal=INT \
		sh "$W" "$@" "$BATS_TEST_TMPDIR/sleeper" >"$BATS_TEST_TMPDIR/log" 2>&1 &
	BG=$!
	wait_for 100 running_n "$n"
	# One heartbeat log per loop: each names its worker (a hash) and its
	# loop (a pid).
	local logs
	logs=$(ls "$XDG_RUNTIME_DIR/ciq-$(id -u)")
	assert_equal "$(wc -l <<<"$logs")" "$n"
	assert_equal "$(cut -d- -f2 <<<"$logs" | sort -u | wc -l)" "$n"
	assert_equal "$(cut -d- -f3 <<<"$logs" | sort -u | wc -l)" "$n"
	local start rc=0
	start=$(date +%s%N)
	kill -"$sig" "$BG"
	wait "$BG" || rc=$?
	BG=
	assert_equal "$rc" "$want"
	[ $((($(date +%s%N) - start) / 1000000)) -lt 2000 ]
	assert_equal "$(records running)" 0
	assert_equal "$(rcli LLEN "$(key queue)")" 5
	assert_equal "$(counter released)" "$n"
	wait_for 40 none_left
	assert_equal "$(ls "$XDG_RUNTIME_DIR/ciq-$(id -u)")" ''
	# The runners and their children were stopped.
	local p
	for p in $(cat "$BATS_TEST_TMPDIR/pids"); do
		! kill -0 "$p" 2>/dev/null
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/log")" ''
}

@test "TERM to -j 3: every loop gives its test back, exit 143 at once, no process left" {
	signal_test TERM 143 -j 3
}

@test "INT to -j 3: exit 130 the same way" {
	signal_test INT 130 -j 3
}

@test "TERM to one loop: exit 143 at once, no process left" {
	signal_test TERM 143
}

@test "INT to one loop: exit 130" {
	signal_test INT 130
}

# waiting W...: each worker W waits for a test to come back.
waiting() {
	local w
	for w in "$@"; do
		[ "$(rcli SISMEMBER "$(key waiting)" "$w")" = 1 ] || return 1
	done
}

# The loop's shell is then blocked in a read of ciq-loop's fifo: the
# signal must interrupt it.
@test "TERM while ciq-loop waits for the first test: exit 143 at once" {
	populate a
	ciq-pop --worker 9 >/dev/null
	CIQW_MARK=$BATS_TEST_TMPDIR sh "$W" "$RUN" >"$BATS_TEST_TMPDIR/log" 2>&1 &
	BG=$!
	wait_for 100 waiting 0
	local start rc=0
	start=$(date +%s%N)
	kill -TERM "$BG"
	wait "$BG" || rc=$?
	BG=
	assert_equal "$rc" 143
	[ $((($(date +%s%N) - start) / 1000000)) -lt 2000 ]
	wait_for 40 none_left
	assert_equal "$(cat "$BATS_TEST_TMPDIR/log")" ''
	assert_equal "$(holder a)" 9
}

@test "TERM and INT to -j 2 while both ciq-loops wait: 143 and 130 at once, no process left" {
	local sig want start rc
	for sig in TERM INT; do
		want=143
		[ "$sig" = TERM ] || want=130
		CIQ_BUILD=$sig populate a
		CIQ_BUILD=$sig ciq-pop --worker 9 >/dev/null
		CIQ_BUILD=$sig CIQW_MARK=$BATS_TEST_TMPDIR env --default-signal=INT \
			sh "$W" -j 2 "$RUN" >"$BATS_TEST_TMPDIR/log" 2>&1 &
		BG=$!
		CIQ_BUILD=$sig wait_for 100 waiting 0 0.2
		rc=0
		start=$(date +%s%N)
		kill -"$sig" "$BG"
		wait "$BG" || rc=$?
		BG=
		assert_equal "$rc" "$want"
		[ $((($(date +%s%N) - start) / 1000000)) -lt 2000 ]
		wait_for 40 none_left
		assert_equal "$(cat "$BATS_TEST_TMPDIR/log")" ''
		assert_equal "$(CIQ_BUILD=$sig holder a)" 9
	done
}

@test "TERM while ciq-loop waits after an ack: the acked test's line, exit 143 at once, the test held elsewhere untouched" {
	populate a b
	ciq-pop --worker 9 >/dev/null
	CIQW_MARK=$BATS_TEST_TMPDIR sh "$W" "$RUN" >"$BATS_TEST_TMPDIR/log" 2>"$BATS_TEST_TMPDIR/err" &
	BG=$!
	# It ran b, and ciq-loop, b acked, waits for a, held by worker 9.
	wait_for 100 waiting_0
	local rc=0
	kill -TERM "$BG"
	wait "$BG" || rc=$?
	BG=
	assert_equal "$rc" 143
	wait_for 40 none_left
	# b's line was printed when b was recorded, before the wait.
	assert_equal "$(norm <"$BATS_TEST_TMPDIR/log")" "PASS      N.NNs  b"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ''
	assert_equal "$(result b | cut -d' ' -f1,3)" "p 0"
	assert_equal "$(holder a)" 9
	assert_equal "$(records running)" 1
}

@test "a loop killed while ciq-loop waits: the test it takes later gets no heartbeat, and is lost" {
	populate a b
	ciq-pop --worker 9 >/dev/null
	export CIQ_HEARTBEAT=0.2 TMPDIR=$BATS_TEST_TMPDIR
	CIQW_MARK=$BATS_TEST_TMPDIR sh "$W" "$RUN" >"$BATS_TEST_TMPDIR/log" 2>&1 &
	BG=$!
	# It ran b, and ciq-loop waits for a, held by worker 9.
	wait_for 100 waiting_0
	kill -9 "$BG"
	wait "$BG" || true
	BG=
	# a comes back: the waiting ciq-loop, whose loop is gone, takes it,
	# cannot hand it to anyone (its fifo has no reader) and ends.
	ciq-release --worker 9 -- a
	wait_for 40 eval '[ "$(holder a)" = 0 ]'
	wait_for 40 none_left
	# Nothing beats for a: it is lost after --timeout, for another worker.
	# (A fixed wait, to see that nothing happens: three beats' time.)
	local since
	since=$(rcli ZSCORE "$(key running)" a)
	sleep 0.6
	assert_equal "$(rcli ZSCORE "$(key running)" a)" "$since"
}

# --- options and configuration ----------------------------------------------

USAGE='usage: ciq-worker.sh [-q] [-j N] [--] COMMAND [ARG...]
  -q    quiet: nothing for a passing test; failures and the closing line only
  -j N  run N worker loops in this job, workers JOB, JOB.2 ... JOB.N (CIQ_JOBS; default 1)
  -h    print this and exit
See ciq-worker.sh(1).'

@test "-h prints the usage on stdout" {
	run --separate-stderr sh "$W" -h
	assert_success
	assert_output "$USAGE"
	assert_equal "$stderr" ''
}

@test "a -j that is not a number from 1 to 256 is a usage error" {
	local j
	for j in 0 -1 abc 257 99999999999999999999 '' 03 +3 ' 3' 1.5 -q; do
		run --separate-stderr sh "$W" -j "$j" "$RUN"
		assert_failure "$CIQ_EX_USAGE"
		assert_output ''
		assert_equal "$stderr" "ciq-worker.sh: invalid -j '$j': expected a number of loops from 1 to 256
$USAGE"
	done
	run --separate-stderr sh "$W" -j
	assert_failure "$CIQ_EX_USAGE"
	assert_equal "$stderr" "ciq-worker.sh: option -j needs a number
$USAGE"
	assert_equal "$(records results)" 0
}

@test "an invalid CIQ_JOBS is a configuration error; an empty one means 1" {
	CIQ_JOBS=0 run --separate-stderr sh "$W" "$RUN"
	assert_failure "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-worker.sh: invalid CIQ_JOBS '0': expected a number of loops from 1 to 256"
	populate a
	CIQ_JOBS= run --separate-stderr sh "$W" "$RUN"
	assert_success
	assert_equal "$(log)" "PASS      N.NNs  a
ciq-worker 0: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
}

@test "no command, an unknown option, a runner that cannot run" {
	run --separate-stderr sh "$W"
	assert_failure "$CIQ_EX_USAGE"
	assert_equal "$stderr" "ciq-worker.sh: no COMMAND
$USAGE"
	run --separate-stderr sh "$W" -x "$RUN"
	assert_failure "$CIQ_EX_USAGE"
	assert_equal "$stderr" "ciq-worker.sh: unknown option '-x'
$USAGE"
	populate a
	run --separate-stderr sh "$W" "$BATS_TEST_TMPDIR/nothing"
	assert_failure "$CIQ_EX_NORUNNER"
	assert_equal "$stderr" "ciq-worker.sh: cannot run '$BATS_TEST_TMPDIR/nothing': not found or not executable"
	run --separate-stderr sh "$W" no-such-command-here
	assert_failure "$CIQ_EX_NORUNNER"
	# Nothing was taken.
	assert_equal "$(rcli LLEN "$(key queue)")" 1
}

@test "-q and -j combine, -- ends the options, the runner gets its own arguments" {
	cat >"$BATS_TEST_TMPDIR/-args" <<'SH'
#!/bin/sh
printf '%s|' "$@" >"${0%/*}/args"
SH
	chmod +x "$BATS_TEST_TMPDIR/-args"
	populate 'a b'
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr sh "$W" -q -j2 -- ./-args -q '' "x y"
	assert_success
	assert_equal "$stderr" ''
	# Quiet: the two closing lines only.
	assert_equal "$(log | sed 's/: [01] tests\{0,1\},/: N tests,/' | sort)" "ciq-worker 0.2: N tests, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns
ciq-worker 0: N tests, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	assert_equal "$(cat args)" "-q||x y|a b|"
}

@test "-j N: a worker id that would be too long with its .K is refused" {
	local long
	long=$(printf 'w%.0s' $(seq 254))
	CIQ_WORKER=$long run --separate-stderr sh "$W" -j 10 "$RUN"
	assert_failure "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-worker.sh: worker ids '$long.2' to '$long.10' would be longer than 256 bytes: shorten CIQ_WORKER"
	populate a
	CIQ_WORKER=$long run --separate-stderr sh "$W" -j 9 "$RUN"
	assert_success
	assert_line --regexp "^ciq-worker $long(\.[2-9])?: 1 test, "
}

@test "the worker id comes from the CI provider when CIQ_WORKER is unset; none is a configuration error" {
	populate a b c
	unset CIQ_WORKER
	CIRCLECI=true CIRCLE_NODE_INDEX=2 run --separate-stderr sh "$W" -j 2 "$RUN"
	assert_success
	assert_equal "$(cut -d' ' -f1 "$BATS_TEST_TMPDIR/ran" | sort -u | grep -cvx '2\|2\.2')" 0
	assert_equal "$(log | grep -c '^ciq-worker 2\(\.2\)\{0,1\}: ')" 2
	# One loop is the job's worker, and the runner sees its id too.
	CIQ_BUILD=one CIQ_WORKER=0 populate a
	: >"$BATS_TEST_TMPDIR/ran"
	CIQ_BUILD=one CIRCLECI=true CIRCLE_NODE_INDEX=2 run --separate-stderr sh "$W" "$RUN"
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ran")" "2 a"
	assert_equal "$(log | grep '^ciq-worker ')" "ciq-worker 2: 1 test, 0 failed, 0 requeued, 0 reclaimed, busy N.Ns"
	run --separate-stderr sh "$W" "$RUN"
	assert_failure "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-env: no worker: set CIQ_WORKER or --worker (no CI provider detected)"
}
