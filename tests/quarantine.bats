#!/usr/bin/env bats
#
# ciq-report --known-flaky FILE (CIQ_KNOWN_FLAKY): the failures of listed
# tests are shown, not counted; listed tests that passed are named so the
# list can shrink; nothing listed ever lifts doubt. The list is a plain
# list or a JUnit report, told apart by its content; one that cannot be
# read stops the report at once with exit 65.
# shellcheck disable=SC2030,SC2031,SC2154

load test_helper

XSD=$BATS_TEST_DIRNAME/junit/junit-10.xsd
F=$BATS_TEST_DIRNAME/fixtures/junit

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	unset CIQ_KNOWN_FLAKY
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

# red_build: worker 0 runs a b c d; b and c fail with a two-line output.
# The durations are set by hand (10, 20, 30, 40 ms), so lines are exact.
red_build() {
	populate a b c d
	work 0 b c
	rcli HSET "$(key results)" a 'p 10 0' b 'f 20 0' c 'f 30 0' d 'p 40 0' >/dev/null
}

# list LINE...: the known-flaky list $OUT/known, one line each.
list() {
	printf '%s\n' "$@" >"$OUT/known"
}

# section TITLE: the lines of the text report's section starting with
# TITLE, up to the blank line that ends it.
section() {
	printf '%s\n' "$output" | awk -v t="$1" 'index($0, t) == 1 { on = 1 } on && $0 == "" { exit } on { print }'
}

need_xmllint() {
	command -v xmllint >/dev/null || skip "no xmllint (libxml2-utils)"
}

# xp FILE XPATH: the XPath expression's value in FILE.
xp() {
	xmllint --xpath "$2" "$1"
}

# --- The verdict -------------------------------------------------------------

@test "a listed failure is shown, not counted: the unlisted one still fails the build" {
	red_build
	list b a
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "${lines[1]}" '  passed 2, failed 1, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0, quarantined 1'
	assert_equal "$(section 'Failed tests')" "Failed tests (1):
  FAIL c  [worker 0, 0.030 s, 1 attempt]
    | out of c
    | second line"
	assert_equal "$(section 'Quarantined')" "Quarantined: failed, not counted (1): on the known-flaky list
  QUARANTINED b  [worker 0, 0.020 s, 1 attempt]
    | out of b
    | second line"
	assert_equal "$(section 'Known flaky')" "Known flaky, passed here (1): consider removing them from the known-flaky list
  PASSED a  [worker 0]"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed; 1 quarantined failure not counted'
}

@test "a build whose only failures are listed is PASSED, and says how many were quarantined" {
	red_build
	list c b
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "${lines[1]}" '  passed 2, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0, quarantined 2'
	refute_line --partial 'Failed tests'
	refute_line --partial 'Known flaky'
	assert_equal "$(section 'Quarantined')" "Quarantined: failed, not counted (2): on the known-flaky list
  QUARANTINED b  [worker 0, 0.020 s, 1 attempt]
    | out of b
    | second line
  QUARANTINED c  [worker 0, 0.030 s, 1 attempt]
    | out of c
    | second line"
	assert_equal "${lines[-1]}" 'PASSED: 4 tests, 2 passed, 0 skipped; 2 quarantined failures not counted'
	# Without the list, the same build fails.
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 2 of 4 tests failed'
	refute_line --partial 'quarantined'
}

@test "--json: the quarantined failures and the listed passes in arrays of their own" {
	red_build
	list b d zz
	run --separate-stderr ciq-report --json --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[.verdict, .exit_status]' <<<"$output")" '["failed",1]'
	assert_equal "$(jq -c .totals <<<"$output")" \
		'{"tests":4,"processed":4,"passed":2,"failed":1,"skipped":0,"flaky":0,"requeued":0,"reclaimed":0,"released":0,"unrun":0,"quarantined":1}'
	assert_equal "$(jq -c '.failures | map(.id)' <<<"$output")" '["c"]'
	assert_equal "$(jq -c '.quarantined' <<<"$output")" \
		'[{"id":"b","worker":"0","duration_ms":20,"requeues":0,"reclaims":0,"attempts":1,"output":"out of b\nsecond line\n"}]'
	assert_equal "$(jq -c '.known_flaky_passed' <<<"$output")" \
		'[{"id":"d","worker":"0","duration_ms":40,"requeues":0,"reclaims":0,"attempts":1}]'
	assert_equal "$(jq -c '.known_flaky' <<<"$output")" '{"listed":3,"not_in_build":1}'
	assert_equal "$(jq -c '.tests | map([.id, .outcome, .quarantined])' <<<"$output")" \
		'[["a","passed",false],["b","failed",true],["c","failed",false],["d","passed",false]]'
	# Without a list: no quarantine at all, and known_flaky is null.
	run ciq-report --json
	assert_equal "$(jq -c '[.known_flaky, .totals.quarantined, .quarantined, .known_flaky_passed]' <<<"$output")" \
		'[null,0,[],[]]'
}

@test "CIQ_KNOWN_FLAKY: CRLF lines, blank lines, an id listed twice, an id the build never had" {
	red_build
	printf 'b\r\n\r\n   \n\t\nb\nnot-here\r\nc \n' >"$OUT/known"
	CIQ_KNOWN_FLAKY=$OUT/known run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	# "c " with its space is not c.
	assert_equal "$(jq -c '[(.quarantined | map(.id)), (.failures | map(.id)), .known_flaky]' <<<"$output")" \
		'[["b"],["c"],{"listed":3,"not_in_build":2}]'
}

@test "ids are matched byte for byte: spaces, tabs, quotes, backslashes, UTF-8 and invalid UTF-8" {
	printf '%s\n' 'with space' "$(printf 'tab\there')" 'q"u'"'"'te' 'back\slash' 'é' "$(printf 'bad\377')" ok |
		ciq-populate --order given
	local t
	while t=$(ciq-pop); do
		if [ "$t" = ok ]; then ciq-ack -- "$t"; else ciq-ack --failed -- "$t"; fi
	done
	printf '%s\n' 'with space' "$(printf 'tab\there')" 'q"u'"'"'te' 'back\slash' 'é' "$(printf 'bad\377')" >"$OUT/known"
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 7 tests, 1 passed, 0 skipped; 6 quarantined failures not counted'
	# The section names them byte for byte, in bytewise order.
	printf '%s\n' "$output" | LC_ALL=C sed -n 's/^  QUARANTINED \(.*\)  \[worker 0, .*/\1/p' >"$OUT/shown"
	LC_ALL=C sort "$OUT/known" >"$OUT/sorted"
	cmp "$OUT/shown" "$OUT/sorted"
	# One byte more or less is another id.
	printf '%s\n' 'with space ' 'tab' 'é' >"$OUT/known"
	run ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 5 of 7 tests failed; 1 quarantined failure not counted'
}

@test "a huge list: 200000 ids, the failing one among them" {
	red_build
	seq -f 'tests/test_%g.py' 200000 >"$OUT/known"
	printf 'b\nc\n' >>"$OUT/known"
	run --separate-stderr timeout 20 ciq-report --known-flaky "$OUT/known" --json
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[.verdict, .known_flaky, (.quarantined | map(.id))]' <<<"$output")" \
		'["passed",{"listed":200002,"not_in_build":200000},["b","c"]]'
}

@test "an empty list quarantines nothing; an empty value is no list" {
	red_build
	: >"$OUT/known"
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq -c '[.totals.failed, .known_flaky]' <<<"$output")" '[2,{"listed":0,"not_in_build":0}]'
	printf '\n  \n' >"$OUT/known"
	run ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 2 of 4 tests failed'
	CIQ_KNOWN_FLAKY= run ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq -c '.known_flaky' <<<"$output")" null
}

# --- Doubt stays doubt ---------------------------------------------------------

@test "a quarantined failure and a lost key: LOST, never green" {
	red_build
	list b c
	rcli DEL "$(key flaky)" >/dev/null
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_equal "$stderr" ''
	assert_line '  QUARANTINED b  [worker 0, 0.020 s, 1 attempt]'
	assert_equal "${lines[-1]}" 'LOST: keys of the build were evicted or deleted (flaky): its records cannot be trusted'
	# With an unlisted failure as well: FAILED, the lost key said.
	list b
	run ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed, and keys of the build were lost (flaky); 1 quarantined failure not counted'
}

@test "a listed test without a result is still no result: LOST, not quarantined" {
	red_build
	list a b c
	# a's result was evicted.
	rcli HDEL "$(key results)" a >/dev/null
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --json
	assert_equal "$status" "$CIQ_EX_VANISHED"
	# a left no trace: the JSON cannot list it, and it is in no count.
	assert_equal "$(jq -c '[.verdict, .totals.processed, .totals.quarantined, (.tests | map(.id)), .known_flaky]' <<<"$output")" \
		'["lost",3,2,["b","c","d"],{"listed":3,"not_in_build":1}]'
	run ciq-report --known-flaky "$OUT/known"
	assert_equal "${lines[-1]}" 'LOST: 1 of 4 tests have no result, yet nothing is left to run: keys were evicted or flushed'
}

@test "a listed test still running or queued keeps the build unfinished" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	ciq-ack --failed -- a
	assert_equal "$(ciq-pop)" b
	list a b c
	run --separate-stderr ciq-report --no-wait --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_line --partial '  QUARANTINED a  [worker 0, '
	assert_line '  UNFINISHED b  [held by worker 0]'
	assert_line '  QUEUED c'
	assert_equal "${lines[-1]}" 'UNFINISHED: 2 tests not run yet'
}

@test "a listed test requeued, then failed, is quarantined with its attempts" {
	populate a b
	assert_equal "$(ciq-pop --worker 0)" a
	ciq-requeue --worker 0 --max-requeues 1 --requeue-tolerance 1 --output - -- a <<<'first try'
	assert_equal "$(ciq-pop --worker 1)" a
	ciq-ack --worker 1 --failed --output - -- a <<<'second try'
	work 1
	list a
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --json
	assert_success
	assert_equal "$(jq -c '[.verdict, (.quarantined[] | [.id, .worker, .requeues, .attempts, .output]), (.requeued | map(.id))]' <<<"$output")" \
		'["passed",["a","1",1,2,"second try\n"],["a"]]'
}

@test "a listed test that failed, then passed, is flaky: neither quarantined nor to be removed" {
	populate a b
	flaky_head a
	work 0
	list a
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_success
	refute_line --partial 'Known flaky'
	refute_line --partial 'QUARANTINED'
	assert_line '  FLAKY a  [passed on worker 2 after 1 requeue]'
	assert_equal "${lines[-1]}" 'PASSED: 2 tests, 2 passed, 0 skipped'
}

@test "the circuit breaker counts every failure: a listed one too stops the build, 83" {
	printf '%s\n' a b c | ciq-populate --order given --max-failures 1
	assert_equal "$(ciq-pop)" a
	ciq-ack --failed -- a
	run ciq-pop
	assert_equal "$status" "$CIQ_EX_NO"
	list a
	run --separate-stderr ciq-report --known-flaky "$OUT/known"
	assert_equal "$status" "$CIQ_EX_STOPPED"
	assert_equal "${lines[-1]}" "STOPPED: 1 tests failed, the build's --max-failures; 2 tests not run"
}

# --- A JUnit report as the list -----------------------------------------------

@test "a JUnit report is told by its content: one id per testcase, its name" {
	red_build
	cat >"$OUT/known.txt" <<'XML'

  <!-- flaky tests, from the tracker -->
<testsuites><testsuite name="x" tests="3">
  <testcase classname="ciq" name="b"/>
  <testcase classname="other" name="zz"><failure/></testcase>
  <testcase classname="nameless"/>
</testsuite></testsuites>
XML
	run --separate-stderr ciq-report --known-flaky "$OUT/known.txt" --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[(.quarantined | map(.id)), (.failures | map(.id)), .known_flaky]' <<<"$output")" \
		'[["b"],["c"],{"listed":2,"not_in_build":1}]'
	# A plain list whose first id merely starts with "<" is a plain list.
	list '<testsuitex' c b
	run ciq-report --known-flaky "$OUT/known" --json
	assert_success
	assert_equal "$(jq -c '.known_flaky' <<<"$output")" '{"listed":3,"not_in_build":1}'
}

@test "a JUnit file that ciq-report wrote lists its tests back, odd ids included" {
	local ids=('with space' "$(printf 'tab\there')" 'q"u<o>t&e' 'back\slash' 'é' ok)
	printf '%s\n' "${ids[@]}" | ciq-populate --order given
	local t
	while t=$(ciq-pop); do
		if [ "$t" = ok ]; then ciq-ack -- "$t"; else ciq-ack --failed -- "$t"; fi
	done
	run ciq-report --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_NO"
	run --separate-stderr ciq-report --known-flaky "$OUT/junit.xml" --json
	assert_success
	assert_equal "$(jq -c '[.verdict, .totals.quarantined, .known_flaky, (.known_flaky_passed | map(.id))]' <<<"$output")" \
		'["passed",5,{"listed":6,"not_in_build":0},["ok"]]'
}

@test "an unreadable list stops the report at once with exit 65: missing, a directory, broken JUnit, a NUL byte" {
	# Not even published: the list is read before the wait.
	run --separate-stderr timeout 10 ciq-report --known-flaky "$OUT/nope" --init-timeout 30
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-report: --known-flaky: cannot open '$OUT/nope': No such file or directory"
	CIQ_KNOWN_FLAKY=$OUT/nope run --separate-stderr timeout 10 ciq-report --init-timeout 30
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-report: CIQ_KNOWN_FLAKY: cannot open '$OUT/nope': No such file or directory"
	red_build
	run --separate-stderr ciq-report --known-flaky "$OUT"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_output ''
	assert_equal "$stderr" "ciq-report: --known-flaky: cannot read '$OUT': Is a directory"
	printf '<testsuite>\n<testcase name="b">\n' >"$OUT/broken.xml"
	run --separate-stderr ciq-report --known-flaky "$OUT/broken.xml"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-report: --known-flaky: '$OUT/broken.xml' line 3: the document ends inside <testcase> (cut short?)"
	printf 'b\nc\0d\n' >"$OUT/nul"
	run --separate-stderr ciq-report --known-flaky "$OUT/nul"
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-report: --known-flaky: $OUT/nul:2: id contains a NUL byte"
	# Unreadable by its owner (root reads anything: then it is read).
	if [ "$(id -u)" -ne 0 ]; then
		list b
		chmod 000 "$OUT/known"
		run --separate-stderr ciq-report --known-flaky "$OUT/known"
		assert_equal "$status" "$CIQ_EX_DATAERR"
		assert_equal "$stderr" "ciq-report: --known-flaky: cannot open '$OUT/known': Permission denied"
	fi
}

# --- JUnit and Markdown outputs ------------------------------------------------

@test "--junit: a quarantined failure is skipped with the reason, its output kept; schema valid" {
	need_xmllint
	populate a b c
	assert_equal "$(ciq-pop --worker 0)" a
	ciq-requeue --worker 0 --max-requeues 1 --requeue-tolerance 1 -- a
	assert_equal "$(ciq-pop --worker 1)" a
	ciq-ack --worker 1 --failed --output - -- a <<<'a broke <again> ]]> here'
	work 1 b
	list a c
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml s=/testsuites/testsuite
	assert_equal "$(xp "$j" "concat($s/@tests, ' ', $s/@failures, ' ', $s/@errors, ' ', $s/@skipped)")" '3 1 0 1'
	assert_equal "$(xp "$j" 'concat(/testsuites/@tests, " ", /testsuites/@failures)')" '3 1'
	assert_equal "$(xp "$j" "count($s/testcase[@name='a']/failure)")" 0
	assert_equal "$(xp "$j" "concat($s/testcase[@name='a']/skipped/@type, '|', $s/testcase[@name='a']/skipped/@message)")" \
		'ciq.quarantined|quarantined: failed, not counted (known flaky; failed on worker 1, attempt 2 of 2)'
	assert_equal "$(xp "$j" "string($s/testcase[@name='a']/system-out)")" 'a broke <again> ]]> here'
	assert_equal "$(xp "$j" "string($s/testcase[@name='b']/failure/@message)")" 'failed on worker 1'
	p() { xp "$j" "string($s/properties/property[@name='$1']/@value)"; }
	assert_equal "$(p ciq.quarantined) $(p ciq.quarantined:a) $(p ciq.known_flaky_passed:c) $(p ciq.requeues:a)" \
		'1 true true 1'
	assert_equal "$(xp "$j" "count($s/properties/property[starts-with(@name, 'ciq.quarantined:')])")" 1
}

@test "--junit: a quarantined unit with the runner's testcases shows its failures as skipped" {
	need_xmllint
	populate tests/test_cart.py
	assert_equal "$(ciq-pop)" tests/test_cart.py
	ciq-ack --failed --junit "$F/pytest.xml" -- tests/test_cart.py
	list tests/test_cart.py
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --junit "$OUT/junit.xml"
	assert_success
	assert_equal "${lines[-1]}" 'PASSED: 1 tests, 0 passed, 0 skipped; 1 quarantined failure not counted'
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml s="/testsuites/testsuite[@name='tests/test_cart.py']"
	# pytest.xml: 5 testcases, one failure, one error, one skip.
	assert_equal "$(xp "$j" "concat($s/@tests, ' ', $s/@failures, ' ', $s/@errors, ' ', $s/@skipped)")" '5 0 0 3'
	assert_equal "$(xp "$j" 'concat(/testsuites/@failures, " ", /testsuites/@errors)')" '0 0'
	assert_equal "$(xp "$j" "count($s/testcase/failure | $s/testcase/error)")" 0
	assert_equal "$(xp "$j" "string($s/testcase[@name='test_total']/skipped/@message)")" \
		'quarantined: failed, not counted (known flaky): assert 3 == 4'$'\n'' +  where 3 = total()'
	[[ $(xp "$j" "string($s/testcase[@name='test_total']/system-out)") == 'def test_total():'* ]]
	assert_equal "$(xp "$j" "string($s/properties/property[@name='ciq.quarantined']/@value)")" true
}

@test "--markdown: the quarantined failures and the listed passes" {
	red_build
	list b a
	run --separate-stderr ciq-report --known-flaky "$OUT/known" --markdown "$OUT/summary.md"
	assert_equal "$status" "$CIQ_EX_NO"
	local md
	md=$(cat "$OUT/summary.md")
	[[ $md == *"### "*" FAILED: 1 of 4 tests failed; 1 quarantined failure not counted"* ]] || fail "$md"
	grep -Fxq '### Quarantined: failed, not counted (1)' "$OUT/summary.md"
	grep -Fxq '<details><summary><code>b</code>: worker <code>0</code>, 20 ms, 1 attempt</summary>' "$OUT/summary.md"
	grep -Fxq '### Known flaky, passed here (1)' "$OUT/summary.md"
	grep -Fxq -- '- <code>a</code>: passed on worker <code>0</code>' "$OUT/summary.md"
}

@test "--flaky-file is unchanged by the list" {
	populate a b
	flaky_head a
	work 0
	list a b
	run ciq-report --known-flaky "$OUT/known" --flaky-file "$OUT/flaky.txt"
	assert_success
	assert_equal "$(cat "$OUT/flaky.txt")" a
}
