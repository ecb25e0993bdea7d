#!/usr/bin/env bats
#
# End to end: the SPEC's shell loop, several workers at once, a killed
# worker, requeue limits, and ids no shell should mangle.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() {
	ciq_setup
	D=$BATS_TEST_TMPDIR
	export D
}

# start_workers RUNNER W...: one worker_loop per W in the background, each
# with W exported to its runner; their pids in WORKER_PIDS.
start_workers() {
	local runner=$1 w
	shift
	WORKER_PIDS=()
	for w in "$@"; do
		(
			export W=$w
			worker_loop "$w" "$runner"
		) 3>&- &
		WORKER_PIDS+=($!)
	done
}

# wait_workers: every worker loop of start_workers ended with exit 0.
wait_workers() {
	local p rc
	for p in "${WORKER_PIDS[@]}"; do
		rc=0
		wait "$p" || rc=$?
		assert_equal "$rc" 0
	done
}

@test "4 concurrent workers drain 1000 tests, each acknowledged exactly once" {
	cat >"$D/runner" <<-'EOF'
		#!/bin/sh
		printf '%s\n' "$1" >>"$D/ran.$W"
	EOF
	chmod +x "$D/runner"
	seq -f 'test-%04g' 1 1000 >"$D/ids"
	ciq-populate "$D/ids"
	start_workers "$D/runner" 0 1 2 3
	wait_workers
	assert_equal "$(records results)" 1000
	assert_equal "$(passes)" 1000
	assert_equal "$(rcli LLEN "$(key queue)")" 0
	assert_equal "$(records running)" 0
	# Each test ran once, on one worker.
	assert_equal "$(cat "$D"/ran.* | wc -l)" 1000
	cmp "$D/ids" <(cat "$D"/ran.* | LC_ALL=C sort)
	run ciq-report
	assert_success
	assert_line --index 0 "ciq: build $CIQ_BUILD: 1000 tests, 1000 with a result, 4 workers"
	assert_equal "${lines[-1]}" 'PASSED: 1000 tests, 1000 passed, 0 skipped'
	run ciq-report --json
	assert_success
	assert_equal "$(jq '[.workers[].passed] | add' <<<"$output")" 1000
	assert_equal "$(jq '[.workers[].tests] | add' <<<"$output")" 1000
	assert_equal "$(jq '.workers | length' <<<"$output")" 4
	# Each worker's count matches the tests its runner ran.
	local w
	for w in 0 1 2 3; do
		assert_equal "$(jq --arg w "$w" '.workers[] | select(.id == $w) | .passed' <<<"$output")" \
			"$(wc -l <"$D/ran.$w")"
	done
}

@test "a worker killed with SIGKILL mid-test has its test reclaimed by another" {
	# Worker 0's runner records itself, then blocks until a flag file.
	cat >"$D/blocker" <<-'EOF'
		#!/bin/sh
		printf '%s\n' "$1" >"$D/held"
		echo $$ >"$D/blocker.pid.tmp" && mv "$D/blocker.pid.tmp" "$D/blocker.pid"
		while [ ! -e "$D/flag" ]; do sleep 0.02; done
	EOF
	cat >"$D/runner" <<-'EOF'
		#!/bin/sh
		printf '%s\n' "$1" >>"$D/ran"
	EOF
	chmod +x "$D/blocker" "$D/runner"
	printf '%s\n' t1 t2 t3 t4 t5 | ciq-populate
	start_workers "$D/blocker" 0
	wait_for 100 test -s "$D/blocker.pid"
	local t pid rc=0
	t=$(cat "$D/held")
	pid=$(cat "$D/blocker.pid")
	assert_equal "$(holder "$t")" 0
	kill -KILL "${WORKER_PIDS[0]}" "$pid"
	wait "${WORKER_PIDS[0]}" || rc=$?
	assert_equal "$rc" 137

	export CIQ_TIMEOUT=1
	run --separate-stderr worker_loop 1 "$D/runner"
	assert_success
	assert_equal "$stderr" "ciq-pop: reclaimed '$t' from worker 0, silent for over 1 s"
	assert_equal "$(LC_ALL=C sort "$D/ran")" "$(printf '%s\n' t1 t2 t3 t4 t5)"
	run rcli HGET "$(key results)" "$t"
	assert_output --regexp '^p [0-9]+ 1$'

	run ciq-report
	assert_success
	assert_line '  passed 5, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 1, never run 0'
	assert_line 'Reclaimed tests (1): their worker fell silent'
	assert_line "  RECLAIMED $t  [1 time]"
	assert_line --regexp '^  1 +5 +5 +0 +0 +0 +1 +[0-9]+\.[0-9] s$'
	assert_equal "${lines[-1]}" 'PASSED: 5 tests, 5 passed, 0 skipped'
}

@test "requeue limits end to end: an always-failing test fails after 2 attempts, a flaky one passes" {
	# bad always fails; flaky fails the first time only.
	cat >"$D/runner" <<-'EOF'
		#!/bin/sh
		printf '%s %s\n' "$W" "$1" >>"$D/ran"
		case $1 in
		bad) echo "bad failed on worker $W"; exit 1 ;;
		flaky) if mkdir "$D/flaky.once" 2>/dev/null; then echo 'flaky failed'; exit 1; fi ;;
		esac
		echo "$1 ok"
	EOF
	chmod +x "$D/runner"
	printf '%s\n' bad flaky p1 p2 | ciq-populate
	export CIQ_MAX_REQUEUES=1 CIQ_REQUEUE_TOLERANCE=0.5
	start_workers "$D/runner" 0 1
	wait_workers

	# Each retry ran on the other worker.
	local a b
	a=$(grep ' bad$' "$D/ran" | cut -d' ' -f1 | LC_ALL=C sort | tr '\n' ' ')
	b=$(grep ' flaky$' "$D/ran" | cut -d' ' -f1 | LC_ALL=C sort | tr '\n' ' ')
	assert_equal "$a" '0 1 '
	assert_equal "$b" '0 1 '

	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_line '  passed 3, failed 1, skipped 0, flaky 1, requeued 2, reclaimed 0, never run 0'
	assert_line 'Failed tests (1):'
	assert_line --regexp '^  FAIL bad  \[worker [01], [0-9]+\.[0-9]{3} s, 2 attempts\]$'
	assert_line --regexp '^    \| bad failed on worker [01]$'
	assert_line 'Flaky tests (1): failed, then passed'
	assert_line --regexp '^  FLAKY flaky  \[passed on worker [01] after 1 requeue\]$'
	assert_line 'Requeued tests (2):'
	assert_line '  REQUEUED bad  [1 time]'
	assert_line '  REQUEUED flaky  [1 time]'
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
	run ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq -c '.failures | map([.id, .attempts])' <<<"$output")" '[["bad",2]]'
	assert_equal "$(jq -c '[.flaky[].id]' <<<"$output")" '["flaky"]'
	assert_equal "$(jq -c '[.requeued[].id]' <<<"$output")" '["bad","flaky"]'
}

@test "ids with spaces, quotes, tabs, \$(...), backslashes, dashes and non-ASCII bytes come back byte for byte" {
	cd "$D"
	printf '%s\n' \
		'with space' \
		"it's" \
		'"double quoted"' \
		$'tab\there' \
		'$(touch pwned)' \
		'`touch pwned2`' \
		'back\slash\n' \
		'\' \
		'-n' \
		'--failed' \
		'--' \
		'-' \
		' leading space' \
		'trailing space ' \
		'*' \
		'%s%n' \
		'a;b|c&d>e' \
		$'cr\rinside' \
		'héllo wörld' \
		$'raw \xff\xfe bytes' \
		'日本語' >"$D/ids"
	cat >"$D/runner" <<-'EOF'
		#!/bin/sh
		printf '%s\n' "$1" >>"$D/ran"
	EOF
	chmod +x "$D/runner"
	ciq-populate "$D/ids"
	start_workers "$D/runner" 0 1
	wait_workers
	cmp <(LC_ALL=C sort "$D/ids") <(LC_ALL=C sort "$D/ran")
	# The server holds the same bytes.
	cmp <(LC_ALL=C sort "$D/ids") <(members results | LC_ALL=C sort)
	[ ! -e "$D/pwned" ] && [ ! -e "$D/pwned2" ]
	run ciq-report
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 21 tests, 21 passed, 0 skipped'
}

@test "odd ids that fail show up byte for byte in the text report" {
	cd "$D"
	printf '%s\n' '-n' $'tab\there' '$(x)' 'héllo' $'raw\xff' >"$D/ids"
	ciq-populate "$D/ids"
	start_workers false 0
	wait_workers
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_line --regexp '^  FAIL -n  \['
	assert_line --regexp $'^  FAIL tab\there  \\['
	assert_line --regexp '^  FAIL \$\(x\)  \['
	assert_line --regexp '^  FAIL héllo  \['
	assert_line --regexp $'^  FAIL raw\xff  \\['
	# JSON stays UTF-8: the stray byte becomes U+FFFD.
	run ciq-report --json
	assert_equal "$(jq -c '[.failures[].id] | sort' <<<"$output")" \
		"$(jq -c 'sort' <<<'["-n","tab\there","$(x)","héllo","raw\ufffd"]')"
	[[ $output == *'"raw\ufffd"'* ]]
}
