#!/usr/bin/env bats
#
# ciq-bisect: premises, halving, ddmin, flaky failures, hung and crashing
# runners, interrupts, ids as bytes and their replay, the order from a
# file or from a worker of a real build, the command line.
#
# The runners are small sh scripts in tests/bisect/ whose suites leak
# state from one test to the next within one run.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() {
	ciq_setup
	R=$BATS_TEST_DIRNAME/bisect
	T=$BATS_TEST_TMPDIR
}
# A background ciq-bisect left by a failed test is stopped, by its pid.
teardown() { [ -z "${BG_PID:-}" ] || kill "$BG_PID" 2>/dev/null || true; }

# suite N: t1 ... tN then victim, one a line, into $T/order.
suite() {
	{
		seq -f 't%g' 1 "$1"
		echo victim
	} >"$T/order"
}

# gone PID...: none of these processes runs (a zombie nobody reaped is
# not running).
gone() {
	local p s
	for p in "$@"; do
		s=$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null) || continue
		[ "$s" = Z ] || return 1
	done
}

# The last line of stderr when the runner's output was discarded.
DISCARDED="ciq-bisect: the runner's output was discarded: --log FILE keeps it"

# --- finding culprits ---------------------------------------------------------

@test "one culprit among 500 suspects, by halving" {
	suite 500
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t137
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (1 of its 500 suspects, then it):
t137
victim
replay: printf '%s\n' t137 victim | $R/leak.sh victim t137"
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: step 2: all 500 suspects, then 'victim'
ciq-bisect: step 3, 500 suspects left: halving, 250 of them
ciq-bisect: step 4, 250 suspects left: halving, 125 of them
ciq-bisect: step 5, 250 suspects left: halving, 125 of them
ciq-bisect: step 6, 125 suspects left: halving, 62 of them
ciq-bisect: step 7, 62 suspects left: halving, 31 of them
ciq-bisect: step 8, 31 suspects left: halving, 15 of them
ciq-bisect: step 9, 15 suspects left: halving, 7 of them
ciq-bisect: step 10, 15 suspects left: halving, 8 of them
ciq-bisect: step 11, 8 suspects left: halving, 4 of them
ciq-bisect: step 12, 8 suspects left: halving, 4 of them
ciq-bisect: step 13, 4 suspects left: halving, 2 of them
ciq-bisect: step 14, 2 suspects left: halving, 1 of them
ciq-bisect: step 15: replaying the 1 culprit, then 'victim'
ciq-bisect: found 1 culprit of 'victim' among its 500 suspects in 15 steps
$DISCARDED"
}

@test "the replay line reproduces the failure, and --json says the same" {
	suite 500
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t500
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "{\"version\":1,\"failing_test\":\"victim\",\"verdict\":\"found\",\"exit_status\":0,\"culprits\":[\"t500\"],\"suspects\":500,\"steps\":21,\"timed_out_steps\":0,\"method\":\"halving\",\"replay\":\"printf '%s\\\\n' t500 victim | $R/leak.sh victim t500\",\"log\":null}"
	replay=$(jq -r .replay <<<"$output")
	run bash -c "$replay"
	assert_equal "$status" 1
	assert_output "ok t500
FAIL victim: polluted"
}

@test "two culprits that only leak together, among 500: ddmin" {
	suite 500
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t400 t100
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (2 of its 500 suspects, then it):
t100
t400
victim
replay: printf '%s\n' t100 t400 victim | $R/leak.sh victim t400 t100"
	# Neither half fails alone: the whole is run again, then ddmin.
	assert_equal "$(sed -n 3,5p <<<"$stderr")" "ciq-bisect: step 3, 500 suspects left: halving, 250 of them
ciq-bisect: step 4, 500 suspects left: halving, 250 of them
ciq-bisect: step 5, 500 suspects left: neither half fails alone; all 500 again"
	assert_equal "$(sed -n 6p <<<"$stderr")" "ciq-bisect: step 6, 500 suspects left: ddmin, 125 of them"
	assert_equal "$(tail -n 3 <<<"$stderr")" "ciq-bisect: step 64: replaying the 2 culprits, then 'victim'
ciq-bisect: found 2 culprits of 'victim' among its 500 suspects in 64 steps
$DISCARDED"
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t400 t100
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "$(jq -c '[.verdict, .culprits, .steps, .method]' <<<"$output")" '["found",["t100","t400"],64,"ddmin"]'
}

@test "three culprits that leak together, next to each other and apart" {
	suite 40
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t3 t4 t37
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "$(jq -c '[.verdict, .culprits, .method]' <<<"$output")" '["found",["t3","t4","t37"],"ddmin"]'
}

@test "a single suspect is the culprit" {
	printf '%s\n' only victim >"$T/order"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim only
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (1 of its 1 suspect, then it):
only
victim
replay: printf '%s\n' only victim | $R/leak.sh victim only"
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: step 2: all 1 suspect, then 'victim'
ciq-bisect: step 3: replaying the 1 culprit, then 'victim'
ciq-bisect: found 1 culprit of 'victim' among its 1 suspect in 3 steps
$DISCARDED"
}

@test "a runner killed by a signal counts as the failure" {
	suite 20
	run --separate-stderr ciq-bisect --log "$T/log" --failing-test victim --order "$T/order" -- "$R/crash.sh" victim t7
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (1 of its 20 suspects, then it):
t7
victim
replay: printf '%s\n' t7 victim | $R/crash.sh victim t7"
	# Each step's end, as the log says it.
	sed -nE 's/^ciq-bisect: (step [0-9]+): (.*) after [0-9.]+ s: (.*)/\1 \2 \3/p' "$T/log" >"$T/ends"
	assert_equal "$(cat "$T/ends")" "step 1 exit status 0 passed
step 2 killed by signal 11 failed
step 3 killed by signal 11 failed
step 4 exit status 0 passed
step 5 killed by signal 11 failed
step 6 killed by signal 11 failed
step 7 exit status 0 passed
step 8 killed by signal 11 failed
step 9 killed by signal 11 failed"
}

# --- premises -------------------------------------------------------------------

@test "a test that fails alone is not a leak" {
	suite 10
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_ALONE"
	assert_output "'victim' fails alone:
victim
replay: printf '%s\n' victim | $R/leak.sh victim"
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: 'victim' fails alone (exit status 1): not a leak
$DISCARDED"
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_ALONE"
	assert_output "{\"version\":1,\"failing_test\":\"victim\",\"verdict\":\"fails-alone\",\"exit_status\":85,\"culprits\":[],\"suspects\":10,\"steps\":1,\"timed_out_steps\":0,\"method\":null,\"replay\":\"printf '%s\\\\n' victim | $R/leak.sh victim\",\"log\":null}"
}

@test "a failure that does not come back does not reproduce" {
	suite 10
	# The CI run failed; no run of the bisect does.
	echo 0 >"$T/runs"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/flaky.sh" "$T/runs" victim
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_output ''
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: step 2: all 10 suspects, then 'victim'
ciq-bisect: does not reproduce: 'victim' passes after all its 10 suspects
$DISCARDED"
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/flaky.sh" "$T/runs" victim
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_output '{"version":1,"failing_test":"victim","verdict":"does-not-reproduce","exit_status":86,"culprits":[],"suspects":10,"steps":2,"timed_out_steps":0,"method":null,"replay":null,"log":null}'
}

@test "a failure that reproduced once, by chance, is flaky" {
	suite 10
	# Fails on the second run only: all the suspects then victim.
	echo 0 >"$T/runs"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/flaky.sh" "$T/runs" victim 2
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_output ''
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: step 2: all 10 suspects, then 'victim'
ciq-bisect: step 3, 10 suspects left: halving, 5 of them
ciq-bisect: step 4, 10 suspects left: halving, 5 of them
ciq-bisect: step 5, 10 suspects left: neither half fails alone; all 10 again
ciq-bisect: does not reproduce: 10 suspects then 'victim' failed once, then passed when run again: the failure is flaky
$DISCARDED"
	assert_equal "$(cat "$T/runs")" 5
	echo 0 >"$T/runs"
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/flaky.sh" "$T/runs" victim 2
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_equal "$(jq -c '[.verdict, .culprits, .steps, .replay]' <<<"$output")" '["flaky",[],5,null]'
}

@test "a result that does not fail again when replayed is flaky" {
	suite 4
	# Runs 1-3: alone passes, all fail, first half (t1 t2) fails; then
	# t1 fails (run 4), and its replay (run 5) passes.
	echo 0 >"$T/runs"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/flaky.sh" "$T/runs" victim 2 3 4
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_output ''
	assert_equal "$(tail -n 3 <<<"$stderr")" "ciq-bisect: step 5: replaying the 1 culprit, then 'victim'
ciq-bisect: does not reproduce: 1 suspect then 'victim' failed once, then passed when run again: the failure is flaky
$DISCARDED"
}

# --- time limits, hung runners, signals -----------------------------------------

@test "a hung step is killed with its process group and counts as unresolved" {
	# t:hang hangs unless t:guard ran before it: the second half hangs.
	printf '%s\n' a guard b hang culprit c victim >"$T/order"
	run --separate-stderr ciq-bisect --step-timeout 0.3 --failing-test victim --order "$T/order" \
		-- "$R/hang.sh" "$T/pids" victim culprit hang guard
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (1 of its 6 suspects, then it):
culprit
victim
replay: printf '%s\n' culprit victim | $R/hang.sh $T/pids victim culprit hang guard"
	# The timed-out steps' times vary: the line's shape is checked.
	sed -E 's/after [0-9]+\.[0-9]{3} s/after N s/' <<<"$stderr" >"$T/err"
	assert_equal "$(cat "$T/err")" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: step 2: all 6 suspects, then 'victim'
ciq-bisect: step 3, 6 suspects left: halving, 3 of them
ciq-bisect: step 4, 6 suspects left: halving, 3 of them
ciq-bisect: step 4 timed out after N s: its runner's process group was killed; the step counts as unresolved
ciq-bisect: step 5, 6 suspects left: neither half fails alone; all 6 again
ciq-bisect: step 6, 6 suspects left: ddmin, 1 of them
ciq-bisect: step 7, 6 suspects left: ddmin, 2 of them
ciq-bisect: step 8, 6 suspects left: ddmin, 1 of them
ciq-bisect: step 8 timed out after N s: its runner's process group was killed; the step counts as unresolved
ciq-bisect: step 9, 6 suspects left: ddmin, 2 of them
ciq-bisect: step 10, 2 suspects left: ddmin, 1 of them
ciq-bisect: step 11: replaying the 1 culprit, then 'victim'
ciq-bisect: 2 steps timed out (--step-timeout): unresolved, so a smaller set may have been missed
ciq-bisect: found 1 culprit of 'victim' among its 6 suspects in 11 steps
$DISCARDED"
	# Both hung runners' children were killed with them.
	assert_equal "$(wc -l <"$T/pids")" 2
	wait_for 100 gone $(cat "$T/pids")
}

@test "a step that hangs on a premise is not a pass: exit 75" {
	# victim hangs alone (it is its own hang, with no guard).
	printf '%s\n' a victim >"$T/order"
	run --separate-stderr ciq-bisect --json --step-timeout 0.2 --failing-test victim --order "$T/order" \
		-- "$R/hang.sh" "$T/pids" victim a victim none
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_output '{"version":1,"failing_test":"victim","verdict":"timed-out","exit_status":75,"culprits":[],"suspects":1,"steps":1,"timed_out_steps":1,"method":null,"replay":null,"log":null}'
	assert_equal "$(sed -n 3p <<<"$stderr")" "ciq-bisect: 'victim' alone timed out after 0.2 s (--step-timeout): cannot tell whether it passes alone"
	wait_for 100 gone $(cat "$T/pids")
	# hang hangs unless guard ran: not alone, but after every suspect.
	printf '%s\n' hang victim >"$T/order"
	run --separate-stderr ciq-bisect --step-timeout 0.2 --failing-test victim --order "$T/order" \
		-- "$R/hang.sh" "$T/pids" victim none hang guard
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_output ''
	assert_equal "$(tail -n 2 <<<"$stderr")" "ciq-bisect: all 1 suspect then 'victim' timed out after 0.2 s (--step-timeout): cannot tell whether they make it fail
$DISCARDED"
	wait_for 100 gone $(cat "$T/pids")
}

@test "SIGTERM kills the running step's process group and ends ciq-bisect by that signal" {
	printf '%s\n' a guard b hang culprit c victim >"$T/order"
	ciq-bisect --failing-test victim --order "$T/order" -- "$R/hang.sh" "$T/pids" victim culprit hang guard \
		>"$T/out" 2>"$T/err" 3>&- &
	BG_PID=$!
	# Step 4 hangs: its child's pid is written.
	wait_for 100 test -s "$T/pids"
	kill -TERM "$BG_PID"
	status=0
	wait "$BG_PID" || status=$?
	BG_PID=
	assert_equal "$status" $((128 + 15))
	assert_equal "$(cat "$T/out")" ''
	assert_equal "$(tail -n 2 "$T/err")" "ciq-bisect: step 4, 6 suspects left: halving, 3 of them
ciq-bisect: interrupted by SIGTERM at step 4: its runner was killed"
	wait_for 100 gone $(cat "$T/pids")
}

@test "--max-steps bounds the search: the smallest failing set so far, exit 88" {
	suite 500
	run --separate-stderr ciq-bisect --max-steps 10 --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t400 t100
	assert_equal "$status" "$CIQ_EX_UNFINISHED"
	assert_output "$(printf '%s\n' "smallest failing sequence of 'victim' when --max-steps ran out (500 of its 500 suspects, then it; not minimal):"
		seq -f 't%g' 1 500
		echo victim
		printf "replay: printf '%%s\\\\n' %s victim | %s victim t400 t100" "$(seq -f 't%g' 1 500 | tr '\n' ' ' | sed 's/ $//')" "$R/leak.sh")"
	assert_equal "$(tail -n 2 <<<"$stderr")" "ciq-bisect: --max-steps 10 ran out: 500 of the 500 suspects of 'victim' are left, not a minimal set
$DISCARDED"
	run --separate-stderr ciq-bisect --json --max-steps 14 --failing-test victim --order "$T/order" -- "$R/leak.sh" victim t137
	assert_equal "$status" "$CIQ_EX_UNFINISHED"
	assert_equal "$(jq -c '[.verdict, .culprits, .steps, .method]' <<<"$output")" '["unfinished",["t137"],14,"halving"]'
	assert_equal "$(tail -n 2 <<<"$stderr")" "ciq-bisect: --max-steps 14 ran out before the replay: 1 of the 500 suspects of 'victim' are left, minimal but not confirmed
$DISCARDED"
}

# --- ids, the order, the replay ---------------------------------------------------

@test "every step gets the ids byte for byte, and the replay line gives them back in bash" {
	local -a ids=("it's a \"quoted\" test" 'costs $5 and $(rm -rf ~)' 'back\slash\n' '-n' '  spaced  '
		$'tab\there' 'bang!x' 'héllo wörld' $'bad\xffbyte' $'esc\x1b[31m' '*' '~' '#x' 'a=b' '')
	local culprit=${ids[1]} id
	printf '%s\n' "${ids[@]}" victim >"$T/order"
	# An empty line is no id: it is dropped.
	unset 'ids[14]'
	RECORD=$T/record run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim "$culprit"
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "$(jq -r '.culprits[0]' <<<"$output")" "$culprit"
	# Step 1 ran victim alone, step 2 every suspect then victim.
	printf '%s\n' victim "${ids[@]}" victim >"$T/want"
	head -n $((${#ids[@]} + 2)) "$T/record" >"$T/got"
	cmp "$T/want" "$T/got"
	# Each id alone, as the replay command of a one-culprit result.
	for id in "${ids[@]}"; do
		printf '%s\n' "$id" victim >"$T/order"
		run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim "$id"
		assert_equal "$status" "$CIQ_EX_OK"
		rm -f "$T/record"
		RECORD=$T/record bash -c "$(jq -r .replay <<<"$output")" >/dev/null || true
		printf '%s\n' "$id" victim >"$T/want"
		cmp "$T/want" "$T/record"
	done
}

@test "the replay line quotes: bare, single quotes, \$'...' only for control bytes" {
	printf '%s\n' "it's" 'a$b' $'x\ty' $'q\'!\\\x01' 'plain-id_1.rb:3' victim >"$T/order"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim "it's" 'a$b' $'x\ty' $'q\'!\\\x01' 'plain-id_1.rb:3'
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${lines[-1]}" "replay: printf '%s\n' 'it'\''s' 'a\$b' \$'x\\x09y' \$'q\\x27\\x21\\\\\\x01' plain-id_1.rb:3 victim | $R/leak.sh victim 'it'\''s' 'a\$b' \$'x\\x09y' \$'q\\x27\\x21\\\\\\x01' plain-id_1.rb:3"
}

@test "a very long id is run and replayed whole" {
	local long
	long=$(printf 'x%.0s' $(seq 60000))
	printf '%s\n' a "$long" b victim >"$T/order"
	run --separate-stderr ciq-bisect --json --failing-test victim --order "$T/order" -- "$R/leak.sh" victim "$long"
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "$(jq -r '.culprits[0]' <<<"$output")" "$long"
	jq -r .replay <<<"$output" >"$T/replay"
	run bash "$T/replay"
	assert_equal "$status" 1
	assert_equal "${lines[1]}" 'FAIL victim: polluted'
	# Longer than an id may be: the order is refused.
	printf '%s\n' a "$long$long" victim >"$T/order"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-bisect: $T/order:2: id is 120000 bytes long, more than 65536"
}

@test "an order file with CRLF lines, and from standard input" {
	printf '%s\r\n' a culprit b victim >"$T/order"
	RECORD=$T/record run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${lines[1]}" culprit
	printf '%s\n' a culprit b victim >"$T/want"
	sed -n 2,5p "$T/record" | cmp "$T/want" -
	run --separate-stderr ciq-bisect --failing-test victim --order - -- "$R/leak.sh" victim culprit <"$T/order"
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${lines[1]}" culprit
	printf 'a\n\0\n' | {
		run --separate-stderr ciq-bisect --failing-test victim --order - -- "$R/leak.sh" victim
		assert_equal "$status" "$CIQ_EX_DATAERR"
		assert_equal "$stderr" "ciq-bisect: <stdin>:2: id contains a NUL byte"
	}
	# With its own stdin closed, the order file and the runner's input
	# take its place: neither is lost.
	RECORD=$T/record2 run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit <&-
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${lines[1]}" culprit
	assert_equal "$(head -n 1 "$T/record2")" victim
}

@test "a duplicate keeps its first place; a test after its first place is no suspect" {
	printf '%s\n' a victim culprit b a victim >"$T/order"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	assert_equal "${stderr%%$'\n'*}" "ciq-bisect: 2 later copies of ids in the order file '$T/order' ignored: each id keeps its first place"
	printf '%s\n' a culprit b a victim culprit victim >"$T/order"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "$(sed -n 3p <<<"$stderr")" "ciq-bisect: step 2: all 3 suspects, then 'victim'"
}

@test "a test that is not in the order, or first in it, is a data error" {
	suite 3
	run --separate-stderr ciq-bisect --failing-test nope --order "$T/order" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-bisect: 'nope' is not in the order file '$T/order' (4 tests)"
	run --separate-stderr ciq-bisect --failing-test t1 --order "$T/order" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-bisect: 't1' is the first test in the order file '$T/order': no test ran before it, so none can have leaked into it: nothing to bisect"
	: >"$T/empty"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/empty" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-bisect: 'victim' is not in the order file '$T/empty' (0 tests)"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/none" -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-bisect: cannot open '$T/none': No such file or directory"
}

# --- the runner -----------------------------------------------------------------------

@test "a runner that cannot be executed is its own error, not a pass" {
	suite 3
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$T/no-such-runner" x
	assert_equal "$status" "$CIQ_EX_NORUNNER"
	assert_output ''
	assert_equal "$stderr" "ciq-bisect: step 1: 'victim' alone
ciq-bisect: cannot run '$T/no-such-runner': No such file or directory"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- no-such-command-ciq
	assert_equal "$status" "$CIQ_EX_NORUNNER"
	assert_equal "${stderr##*$'\n'}" "ciq-bisect: cannot run 'no-such-command-ciq': No such file or directory"
	printf '#!/bin/sh\nexit 0\n' >"$T/noexec"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$T/noexec"
	assert_equal "$status" "$CIQ_EX_NORUNNER"
	assert_equal "${stderr##*$'\n'}" "ciq-bisect: cannot run '$T/noexec': Permission denied"
}

@test "--log keeps each step's runner output after a line naming the step" {
	printf '%s\n' a culprit victim >"$T/order"
	run --separate-stderr ciq-bisect --log "$T/log" --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${stderr##*$'\n'}" "ciq-bisect: the runner's output is in '$T/log'"
	sed -E 's/after [0-9]+\.[0-9]{3} s/after N s/' "$T/log" >"$T/got"
	assert_equal "$(cat "$T/got")" "ciq-bisect: step 1 (alone): 0 suspects, then 'victim'
ok victim
ciq-bisect: step 1: exit status 0 after N s: passed
ciq-bisect: step 2 (all suspects): 2 suspects, then 'victim'
ok a
ok culprit
FAIL victim: polluted
ciq-bisect: step 2: exit status 1 after N s: failed
ciq-bisect: step 3 (halving): 1 suspect, then 'victim'
ok a
ok victim
ciq-bisect: step 3: exit status 0 after N s: passed
ciq-bisect: step 4 (halving): 1 suspect, then 'victim'
ok culprit
FAIL victim: polluted
ciq-bisect: step 4: exit status 1 after N s: failed
ciq-bisect: step 5 (replay): 1 suspect, then 'victim'
ok culprit
FAIL victim: polluted
ciq-bisect: step 5: exit status 1 after N s: failed"
	run --separate-stderr ciq-bisect --json --log "$T/log" --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$(jq -r .log <<<"$output")" "$T/log"
	run --separate-stderr ciq-bisect --log "$T/no/such/dir/log" --failing-test victim --order "$T/order" -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" "ciq-bisect: cannot write the log '$T/no/such/dir/log': No such file or directory"
}

# --- the order of a worker in a real build ---------------------------------------------

@test "--worker bisects the order ciq-pop handed that worker, requeues included" {
	local t
	printf '%s\n' a culprit b victim c | ciq-populate --order given --worker 1
	for _ in 1 2 3 4 5; do
		t=$(ciq-pop --worker 1)
		ciq-ack --worker 1 -- "$t"
	done
	run ciq-pop --worker 1
	assert_equal "$status" "$CIQ_EX_NO"
	run --separate-stderr ciq-bisect --worker 1 --failing-test victim -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	assert_output "minimal failing sequence of 'victim' (1 of its 3 suspects, then it):
culprit
victim
replay: printf '%s\n' culprit victim | $R/leak.sh victim culprit"
	assert_equal "$(sed -n 2p <<<"$stderr")" "ciq-bisect: step 2: all 3 suspects, then 'victim'"
	# The build and the worker from the settings, CIQ_WORKER included.
	CIQ_WORKER=1 run --separate-stderr ciq-bisect --failing-test victim -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	run --separate-stderr ciq-bisect --build other --worker 1 --failing-test victim -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" "ciq-bisect: build 'other' is gone: its keys expired, were evicted or were never published"
}

@test "--worker: an id handed twice keeps its first place" {
	local t
	export CIQ_WORKER=1
	printf '%s\n' a culprit victim | ciq-populate --order given
	assert_equal "$(ciq-pop)" a
	ciq-ack -- a
	assert_equal "$(ciq-pop)" culprit
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 -- culprit
	while t=$(ciq-pop); do ciq-ack -- "$t"; done
	assert_equal "$(ciq-report --order 1 | tr '\n' ' ')" "a culprit culprit victim "
	run --separate-stderr ciq-bisect --failing-test victim -- "$R/leak.sh" victim culprit
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${stderr%%$'\n'*}" "ciq-bisect: 1 later copies of ids in the order of worker '1' in build '$CIQ_BUILD' ignored: each id keeps its first place"
	assert_equal "${lines[1]}" culprit
}

@test "--worker: a worker that took no test is a data error" {
	printf '%s\n' a victim | ciq-populate --order given
	run --separate-stderr ciq-bisect --worker 7 --failing-test victim -- "$R/leak.sh" victim
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-bisect: worker '7' took no test in build '$CIQ_BUILD'"
}

# --- the command line ------------------------------------------------------------------

@test "usage errors: what is missing or wrong is named, exit 64" {
	suite 3
	local o=$T/order
	check() {
		local want=$1
		shift
		run --separate-stderr ciq-bisect "$@"
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_output ''
		assert_equal "${stderr%%$'\n'*}" "ciq-bisect: $want"
		[[ $stderr == *"usage: ciq-bisect "* ]] || fail "no usage: $stderr"
	}
	check "no --failing-test ID: which test failed?" --order "$o" -- "$R/leak.sh"
	check "invalid --failing-test '': a test id is not empty and holds no newline" --failing-test '' --order "$o" -- "$R/leak.sh"
	check "unexpected argument '$R/leak.sh': put -- before the runner's command" --failing-test victim --order "$o" "$R/leak.sh" victim
	check "no runner: put -- COMMAND [ARG...] last" --failing-test victim --order "$o" --
	check "no runner: put -- COMMAND [ARG...] last" --failing-test victim --order "$o"
	check "invalid --step-timeout '0': expected seconds above 0" --step-timeout 0 --failing-test victim --order "$o" -- "$R/leak.sh"
	check "invalid --step-timeout '-1': expected seconds above 0" --step-timeout -1 --failing-test victim --order "$o" -- "$R/leak.sh"
	check "invalid --step-timeout '1e3': expected seconds above 0" --step-timeout 1e3 --failing-test victim --order "$o" -- "$R/leak.sh"
	check "invalid --max-steps '0': expected a whole number from 2 to 1000000" --max-steps 0 --failing-test victim --order "$o" -- "$R/leak.sh"
	check "invalid --max-steps '1': expected a whole number from 2 to 1000000" --max-steps 1 --failing-test victim --order "$o" -- "$R/leak.sh"
	check "--order and --worker both name an order: give one" --worker 1 --failing-test victim --order "$o" -- "$R/leak.sh"
	unset CIQ_WORKER
	check "no order: give --order FILE, or --worker ID to read it from the build" --failing-test victim -- "$R/leak.sh"
}

@test "the runner's own options after -- are its own; --order FILE is not the queue order" {
	printf '%s\n' a -x victim >"$T/order"
	# -x and --json after -- go to the runner (leak.sh takes them as ids).
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim -x --json
	assert_equal "$status" "$CIQ_EX_NOREPRO"
	run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim -x
	assert_equal "$status" "$CIQ_EX_OK"
	assert_equal "${lines[1]}" -x
	# CIQ_ORDER is still read and checked, as by every tool.
	CIQ_ORDER=given run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim -x
	assert_equal "$status" "$CIQ_EX_OK"
	CIQ_ORDER=sideways run --separate-stderr ciq-bisect --failing-test victim --order "$T/order" -- "$R/leak.sh" victim -x
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-bisect: invalid CIQ_ORDER 'sideways': expected random, timing or given"
}

@test "ciq-bisect exits 70 when it cannot write its result" {
	printf '%s\n' culprit victim >"$T/order"
	run --separate-stderr bash -c "ciq-bisect --failing-test victim --order '$T/order' -- '$R/leak.sh' victim culprit >/dev/full"
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "${stderr##*$'\n'}" "ciq-bisect: cannot write the result: No space left on device"
}
