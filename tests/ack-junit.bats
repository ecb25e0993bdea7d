#!/usr/bin/env bats
#
# ciq-ack --junit and ciq-requeue --junit: a unit of work that is a file
# of many tests carries its runner's JUnit report, and ciq-report lists
# the individual testcases in its merged JUnit (checked against the xUnit
# plugin's schema) and its JSON. Fixtures in tests/fixtures/junit/ have
# the shapes of pytest, jest-junit, Maven Surefire and
# rspec_junit_formatter reports, plus one of everything a reader must get
# through (entities.xml) and broken ones.
# shellcheck disable=SC2030,SC2031,SC2154

load test_helper

XSD=$BATS_TEST_DIRNAME/junit/junit-10.xsd
F=$BATS_TEST_DIRNAME/fixtures/junit

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

# pop_is W ID: worker W pops ID.
pop_is() {
	assert_equal "$(ciq-pop --worker "$1")" "$2"
}

# need_xmllint: xmllint (Debian's libxml2-utils) checks the JUnit files.
need_xmllint() {
	command -v xmllint >/dev/null || skip "no xmllint (libxml2-utils)"
}

# xp XPATH: the XPath expression's value in the merged JUnit file.
xp() {
	xmllint --xpath "$1" "$OUT/junit.xml"
}

# junit [ARGS...]: ciq-report --json --junit into $OUT/junit.xml, checked
# against the schema; the report's exit status in $RS, its JSON in $J.
junit() {
	run --separate-stderr ciq-report --json --junit "$OUT/junit.xml" "$@"
	RS=$status
	J=$output
	assert_equal "$stderr" ''
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
}

# counts SUITE: tests failures errors skipped of the testsuite named SUITE.
counts() {
	local s="/testsuites/testsuite[@name='$1']"
	xp "concat($s/@tests, ' ', $s/@failures, ' ', $s/@errors, ' ', $s/@skipped)"
}

# prop SUITE NAME: the value of property NAME of the testsuite SUITE.
prop() {
	xp "string(/testsuites/testsuite[@name='$1']/properties/property[@name='$2']/@value)"
}

# cases ID: the JSON cases of test ID, one compact array per case:
# [outcome, classname, name, duration_ms].
cases() {
	jq -c --arg id "$1" '.tests[] | select(.id == $id) | .cases | map([.outcome, .classname, .name, .duration_ms])' <<<"$J"
}

# nothing_recorded ID: ID has no result and no cases, and worker 0 still
# holds it.
nothing_recorded() {
	assert_equal "$(result "$1")" ''
	assert_equal "$(records cases)" 0
	assert_equal "$(holder "$1")" 0
	assert_equal "$(counter passed)$(counter failed)$(counter requeued)" ''
}

# --- Reading the runner's report ----------------------------------------------

@test "the testcases of pytest, jest-junit, Surefire and RSpec reports are in the JSON, in their order" {
	populate tests/test_cart.py src/cart.test.js CartTest spec/cart_spec.rb
	pop_is 0 tests/test_cart.py
	run --separate-stderr ciq-ack --failed --junit "$F/pytest.xml" -- tests/test_cart.py
	assert_success
	assert_equal "$stderr" ''
	pop_is 0 src/cart.test.js
	ciq-ack --failed --junit "$F/jest.xml" -- src/cart.test.js
	pop_is 0 CartTest
	ciq-ack --failed --junit "$F/surefire.xml" -- CartTest
	pop_is 0 spec/cart_spec.rb
	ciq-ack --failed --junit "$F/rspec.xml" -- spec/cart_spec.rb
	junit
	assert_equal "$RS" "$CIQ_EX_NO"
	# The units' results are what the acks said.
	assert_equal "$(jq -c '[.totals.tests, .totals.failed, (.tests | map(.outcome) | unique)]' <<<"$J")" \
		'[4,4,["failed"]]'
	assert_equal "$(cases tests/test_cart.py)" \
		'[["passed","tests.test_cart","test_add",2],["failed","tests.test_cart","test_total",10],["skipped","tests.test_cart","test_discount[10%]",1],["error","tests.test_cart","test_db",0],["passed","tests.test_cart.TestCheckout","test_pay",310]]'
	assert_equal "$(cases src/cart.test.js)" \
		'[["passed","Cart adds an item","Cart adds an item",4],["failed","Cart computes the total","Cart computes the total",12],["skipped","Cart applies a coupon","Cart applies a coupon",0],["passed","Cart empties","Cart empties",1]]'
	# Surefire writes thousands with a comma; its flakyFailure is a pass.
	assert_equal "$(cases CartTest)" \
		'[["passed","com.example.CartTest","addsItem",15],["failed","com.example.CartTest","computesTotal",1200250],["passed","com.example.CartTest","flakyNetwork",1000],["skipped","com.example.CartTest","ignored",0]]'
	assert_equal "$(cases spec/cart_spec.rb)" \
		'[["passed","spec.models.cart_spec","Cart adds an item",1],["failed","spec.models.cart_spec","Cart computes the total",3],["skipped","spec.models.cart_spec","Cart applies a coupon",0]]'
	assert_equal "$(jq '[.tests[].cases_omitted] | add' <<<"$J")" 0

	# Each failure, error and skip with its type, message and text.
	c() { jq -c --arg id "$1" --argjson n "$2" '.tests[] | select(.id == $id) | .cases[$n] | [.file, .type, .message, .output]' <<<"$J"; }
	assert_equal "$(c tests/test_cart.py 1)" \
		'[null,null,"assert 3 == 4\n +  where 3 = total()","def test_total():\n>       assert total() == 4\nE       assert 3 == 4\nE        +  where 3 = total()\n\ntests/test_cart.py:12: AssertionError"]'
	assert_equal "$(c tests/test_cart.py 2)" \
		'[null,"pytest.skip","no discounts on Sundays","tests/test_cart.py:20: no discounts on Sundays"]'
	assert_equal "$(c tests/test_cart.py 3)" \
		'[null,null,"failed on setup with \"ValueError: no db\"","@pytest.fixture\n    def db():\n>       raise ValueError(\"no db\")\nE       ValueError: no db\n\ntests/conftest.py:7: ValueError"]'
	assert_equal "$(c tests/test_cart.py 4)" '[null,null,null,null]'
	assert_equal "$(c src/cart.test.js 1)" \
		'["src/cart.test.js",null,null,"Error: expect(received).toBe(expected) // Object.is equality\n\nExpected: 4\nReceived: 3\n    at Object.<anonymous> (/app/src/cart.test.js:12:21)"]'
	assert_equal "$(c src/cart.test.js 2)" '["src/cart.test.js",null,null,null]'
	assert_equal "$(c CartTest 1)" \
		'[null,"org.opentest4j.AssertionFailedError","expected: <4> but was: <3>","org.opentest4j.AssertionFailedError: expected: <4> but was: <3>\n\tat com.example.CartTest.computesTotal(CartTest.java:21)\n"]'
	assert_equal "$(c CartTest 3)" '[null,null,"@Disabled",null]'
	assert_equal "$(c spec/cart_spec.rb 1)" \
		'["./spec/models/cart_spec.rb","RSpec::Expectations::ExpectationNotMetError","expected: 4\n     got: 3\n\n(compared using ==)\n","Failure/Error: expect(cart.total).to eq(4)\n\n  expected: 4\n       got: 3\n\n  (compared using ==)\n./spec/models/cart_spec.rb:9:in `block (2 levels) in <top (required)>'"'"'"]'
}

@test "the merged JUnit gives each unit with testcases a suite of its own, with the right counts" {
	need_xmllint
	populate tests/test_cart.py CartTest spec/cart_spec.rb plain
	pop_is 0 tests/test_cart.py
	ciq-ack --failed --junit "$F/pytest.xml" -- tests/test_cart.py
	pop_is 1 CartTest
	ciq-ack --worker 1 --failed --output - --junit "$F/surefire.xml" -- CartTest <<<'mvn log'
	pop_is 0 spec/cart_spec.rb
	ciq-ack --failed --junit "$F/rspec.xml" -- spec/cart_spec.rb
	pop_is 0 plain
	ciq-ack -- plain
	junit
	assert_equal "$RS" "$CIQ_EX_NO"
	assert_equal "$(jq -r .verdict <<<"$J")" failed
	# The build's suite keeps the units without testcases; one suite per unit follows, in id order.
	assert_equal "$(xp 'count(/testsuites/testsuite)')" 4
	assert_equal "$(xp 'concat(/testsuites/testsuite[1]/@name, "|", /testsuites/testsuite[2]/@name, "|", /testsuites/testsuite[3]/@name, "|", /testsuites/testsuite[4]/@name)')" \
		'ciq|CartTest|spec/cart_spec.rb|tests/test_cart.py'
	assert_equal "$(counts ciq)" '1 0 0 0'
	assert_equal "$(xp 'string(/testsuites/testsuite[@name="ciq"]/testcase/@name)')" plain
	assert_equal "$(counts tests/test_cart.py)" '5 1 1 1'
	assert_equal "$(counts CartTest)" '4 1 0 1'
	assert_equal "$(counts spec/cart_spec.rb)" '3 1 0 1'
	# 1 + 5 + 4 + 3 testcases in all.
	assert_equal "$(xp 'concat(/testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)')" '13 3 1'
	assert_equal "$(xp 'count(//testcase)')" 13
	# The testcases, as the runner wrote them.
	local s='/testsuites/testsuite[@name="tests/test_cart.py"]'
	assert_equal "$(xp "concat($s/testcase[2]/@classname, '|', $s/testcase[2]/@name, '|', $s/testcase[2]/@time)")" \
		'tests.test_cart|test_total|0.010'
	assert_equal "$(xp "string($s/testcase[2]/failure/@message)")" $'assert 3 == 4\n +  where 3 = total()'
	assert_equal "$(xp "concat($s/testcase[3]/skipped/@type, '|', $s/testcase[3]/skipped)")" \
		'pytest.skip|tests/test_cart.py:20: no discounts on Sundays'
	assert_equal "$(xp "string($s/testcase[4]/error/@message)")" 'failed on setup with "ValueError: no db"'
	assert_equal "$(xp "count($s/testcase[1]/*)")" 0
	s='/testsuites/testsuite[@name="CartTest"]'
	assert_equal "$(xp "concat($s/testcase[2]/@time, '|', $s/testcase[2]/failure/@type)")" \
		'1200.250|org.opentest4j.AssertionFailedError'
	assert_equal "$(xp "string($s/testcase[2]/failure)")" \
		$'org.opentest4j.AssertionFailedError: expected: <4> but was: <3>\n\tat com.example.CartTest.computesTotal(CartTest.java:21)'
	# The unit's own output is the suite's.
	assert_equal "$(xp "string($s/system-out)")" 'mvn log'
	# The unit's result and history are its suite's properties.
	assert_equal "$(prop CartTest ciq.outcome) $(prop CartTest ciq.worker) $(prop CartTest ciq.attempts)" 'failed 1 1'
	assert_equal "$(prop CartTest ciq.cases.worker) $(prop CartTest ciq.cases.result)" '1 failed'
	assert_equal "$(xp 'count(//property[@name="ciq.cases.omitted"])')" 0
	# The build's suite still names every unit's worker.
	assert_equal "$(xp 'string(/testsuites/testsuite[@name="ciq"]/properties/property[@name="ciq.worker:CartTest"]/@value)')" 1
}

@test "entities, CDATA, comments, a DOCTYPE, a BOM and control bytes are read, and written back well-formed" {
	need_xmllint
	populate u
	pop_is 0 u
	run --separate-stderr ciq-ack --failed --junit "$F/entities.xml" -- u
	assert_success
	assert_equal "$stderr" ''
	junit
	c() { jq -c --argjson n "$1" ".tests[0].cases[\$n] | $2" <<<"$J"; }
	assert_equal "$(jq '.tests[0].cases | length' <<<"$J")" 3
	assert_equal "$(c 0 '[.outcome, .classname, .name, .duration_ms, .type, .file]')" \
		'["failed","Quotes & <tags>","\"a\" '"'"'b'"'"' AB😀 � &nbsp; &bogus;",500,"E&T","suite/outer.txt"]'
	# &#9; and &#10; stay; literal white space in an attribute is a space.
	assert_equal "$(c 0 .message)" '"tab\tnl\nraw space end"'
	assert_equal "$(c 0 .output)" '"<xml> & stays ]]> raw then <decoded> nested text"'
	assert_equal "$(c 1 '[.outcome, .classname, .name, .duration_ms, .file]')" '["passed","single","b",1,"own.txt"]'
	# CRLF read as LF; control bytes and a stray byte kept, escaped in JSON.
	assert_equal "$(c 2 '[.outcome, .duration_ms, .message, .output]')" \
		'["error",null,"ctl","line1\nline2\u0001\u001b[31mred\u001b[0m � end"]'
	# In XML, control characters go and the stray byte is U+FFFD.
	local s='/testsuites/testsuite[@name="u"]'
	assert_equal "$(xp "string($s/testcase[3]/error)")" $'line1\nline2[31mred[0m \xef\xbf\xbd end'
	assert_equal "$(xp "string($s/testcase[1]/failure)")" '<xml> & stays ]]> raw then <decoded> nested text'
	assert_equal "$(xp "concat($s/testcase[1]/@classname, '|', $s/testcase[1]/failure/@type)")" 'Quotes & <tags>|E&T'
	assert_equal "$(counts u)" '3 1 1 0'
}

# --- Refusing what is not a JUnit report ------------------------------------

@test "a report that is missing, cut short, not XML or not JUnit records nothing and exits 65" {
	populate a
	pop_is 0 a
	run --separate-stderr ciq-ack --junit "$F/nope.xml" -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: cannot open '$F/nope.xml': No such file or directory: nothing was recorded"
	nothing_recorded a
	run --separate-stderr ciq-ack --failed --output - --junit "$F/truncated.xml" -- a <<<'log'
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: '$F/truncated.xml' line 6: the document ends inside <skipped> (cut short?): nothing was recorded"
	nothing_recorded a
	assert_equal "$(records output)" 0
	run --separate-stderr ciq-ack --junit "$F/checkstyle.xml" -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-ack: '$F/checkstyle.xml' line 2: not a JUnit report: the root element is <checkstyle>, not <testsuites> or <testsuite>: nothing was recorded"
	nothing_recorded a
	bad() {
		printf '%b' "$1" >"$OUT/bad.xml"
		run --separate-stderr ciq-ack --junit "$OUT/bad.xml" -- a
		assert_equal "$status" "$CIQ_EX_DATAERR"
		assert_equal "$stderr" "ciq-ack: '$OUT/bad.xml' $2: nothing was recorded"
		nothing_recorded a
	}
	bad '' 'line 1: not a JUnit report: no element at all'
	bad 'FAILED tests/test_cart.py::test_total\n' 'line 1: not XML: text before the first element'
	bad '<testsuite>\n<testcase name="x">\n</failure>\n</testsuite>' 'line 3: the end tag </failure> does not match <testcase>'
	bad '<testsuite><testcase name="x/></testsuite>' "line 1: the value of 'name' in <testcase> is not closed"
	bad '<testsuite><testcase name=x/></testsuite>' "line 1: the value of 'name' in <testcase> is not quoted"
	bad '<testsuite/>\n<testsuite/>' 'line 2: a second root element <testsuite>'
	bad '<testsuite></testsuite>\nmore' 'line 2: text after the root element'
	bad '<testsuite><!-- never closed' 'line 1: a comment is not closed'
	bad '<testsuite><testcase name="x"><failure><![CDATA[oops' 'line 1: a CDATA section is not closed'
	# The same file without --junit records the result.
	run ciq-ack --failed -- a
	assert_success
	assert_equal "$(result a | cut -c1)" f
}

@test "ciq-requeue with a broken report requeues nothing and exits 65" {
	populate a
	pop_is 0 a
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 --junit "$F/truncated.xml" -- a
	assert_equal "$status" "$CIQ_EX_DATAERR"
	assert_equal "$stderr" "ciq-requeue: '$F/truncated.xml' line 6: the document ends inside <skipped> (cut short?): nothing was requeued"
	nothing_recorded a
	assert_equal "$(rcli LLEN "$(key queue)")" 0
	assert_equal "$(records requeues)" 0
}

@test "--junit takes one test, and shares standard input with no --output" {
	populate a b
	pop_is 0 a
	pop_is 0 b
	for cmd in ciq-ack ciq-requeue; do
		run --separate-stderr "$cmd" --junit "$F/pytest.xml" -- a b
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr_lines[0]}" "$cmd: --junit takes one test, not 2"
		run --separate-stderr "$cmd" --output - --junit - -- a </dev/null
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_equal "${stderr_lines[0]}" "$cmd: --output and --junit cannot both read standard input"
	done
	assert_equal "$(records results)" 0
	assert_equal "$(records cases)" 0
}

@test "--junit - reads the report from standard input; the cases expire with the build" {
	populate a
	pop_is 0 a
	ciq-ack --failed --junit - -- a <"$F/rspec.xml"
	assert_equal "$(records cases)" 1
	local ttl
	ttl=$(rcli TTL "$(key cases)")
	((ttl > 0 && ttl <= 28800))
	assert_equal "$(rcli EXPIRETIME "$(key cases)")" "$(rcli EXPIRETIME "$(key results)")"
	run ciq-report --json
	assert_equal "$(jq -c '.tests[0].cases | map(.outcome)' <<<"$output")" '["passed","failed","skipped"]'
}

# --- Which attempt's testcases stand ----------------------------------------

@test "a requeue's testcases are replaced by the next attempt's on another worker: the latest wins" {
	need_xmllint
	populate tests/test_cart.py
	pop_is 0 tests/test_cart.py
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 --output - --junit "$F/pytest.xml" -- tests/test_cart.py <<<'first try'
	assert_success
	run ciq-report --no-wait --json
	assert_equal "$(jq -c '.tests[0] | [.outcome, (.cases | length)]' <<<"$output")" '["queued",5]'
	pop_is 1 tests/test_cart.py
	run --separate-stderr ciq-ack --worker 1 --failed --junit "$F/jest.xml" -- tests/test_cart.py
	assert_success
	assert_equal "$stderr" ''
	junit
	assert_equal "$RS" "$CIQ_EX_NO"
	assert_equal "$(cases tests/test_cart.py)" \
		'[["passed","Cart adds an item","Cart adds an item",4],["failed","Cart computes the total","Cart computes the total",12],["skipped","Cart applies a coupon","Cart applies a coupon",0],["passed","Cart empties","Cart empties",1]]'
	assert_equal "$(counts tests/test_cart.py)" '4 1 0 1'
	assert_equal "$(prop tests/test_cart.py ciq.cases.worker) $(prop tests/test_cart.py ciq.cases.result)" '1 failed'
	assert_equal "$(prop tests/test_cart.py ciq.worker) $(prop tests/test_cart.py ciq.attempts) $(prop tests/test_cart.py ciq.requeues)" '1 2 1'
	# The requeue's output is the last stored: it is the unit's.
	assert_equal "$(xp 'string(//testsuite[@name="tests/test_cart.py"]/system-out)')" 'first try'
	# A repeated ack of that run changes nothing.
	run ciq-ack --worker 1 --failed --junit "$F/rspec.xml" -- tests/test_cart.py
	assert_success
	run ciq-report --json
	assert_equal "$(jq -c '.tests[0].cases | length' <<<"$output")" 4
}

@test "a requeue's testcases stay when the next ack has none; on a pass their failures are flaky" {
	need_xmllint
	populate tests/test_cart.py
	pop_is 0 tests/test_cart.py
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 --junit "$F/pytest.xml" -- tests/test_cart.py
	pop_is 1 tests/test_cart.py
	ciq-ack --worker 1 -- tests/test_cart.py
	junit
	assert_equal "$RS" 0
	assert_equal "$(jq -c '[.verdict, .totals.passed, .totals.flaky, (.tests[0].cases | length)]' <<<"$J")" '["passed",1,1,5]'
	# The file is green: the failed try's failure and error are flaky.
	local s='/testsuites/testsuite[@name="tests/test_cart.py"]'
	assert_equal "$(counts tests/test_cart.py)" '5 0 0 1'
	assert_equal "$(xp 'concat(/testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)')" '5 0 0'
	assert_equal "$(xp "concat($s/testcase[2]/flakyFailure/@type, '|', $s/testcase[2]/flakyFailure/@message)")" \
		$'failed|assert 3 == 4\n +  where 3 = total()'
	assert_equal "$(xp "string($s/testcase[2]/flakyFailure/stackTrace)")" \
		$'def test_total():\n>       assert total() == 4\nE       assert 3 == 4\nE        +  where 3 = total()\n\ntests/test_cart.py:12: AssertionError'
	assert_equal "$(xp "string($s/testcase[4]/flakyError/@type)")" error
	assert_equal "$(xp "count($s//failure | $s//error)")" 0
	assert_equal "$(prop tests/test_cart.py ciq.outcome) $(prop tests/test_cart.py ciq.flaky) $(prop tests/test_cart.py ciq.cases.result) $(prop tests/test_cart.py ciq.cases.worker)" \
		'passed true requeued 0'
}

@test "a unit that failed with no failing testcase, or has no result, gets a testcase of its own" {
	need_xmllint
	cat >"$OUT/green.xml" <<-'EOF'
		<testsuite name="green" tests="2"><testcase classname="k" name="one" time="0.1"/><testcase name="two"/></testsuite>
	EOF
	populate crashed requeued
	pop_is 0 crashed
	ciq-ack --failed --output - --junit "$OUT/green.xml" -- crashed <<<'Segmentation fault'
	pop_is 0 requeued
	ciq-requeue --max-requeues 1 --requeue-tolerance 1 --junit "$OUT/green.xml" -- requeued
	junit --no-wait
	assert_equal "$RS" "$CIQ_EX_TEMPFAIL"
	local s='/testsuites/testsuite[@name="crashed"]'
	assert_equal "$(counts crashed)" '3 1 0 0'
	assert_equal "$(xp "concat($s/testcase[3]/@name, '|', $s/testcase[3]/@classname, '|', $s/testcase[3]/failure/@type, '|', $s/testcase[3]/failure/@message)")" \
		'crashed|ciq|ciq.failed|failed on worker 0'
	assert_equal "$(xp "string($s/testcase[3]/failure)")" 'Segmentation fault'
	assert_equal "$(xp "count($s/system-out)")" 0
	# A testcase without a classname is grouped under its unit.
	assert_equal "$(xp "concat($s/testcase[1]/@classname, '|', $s/testcase[2]/@classname, '|', $s/testcase[1]/@time)")" 'k|crashed|0.100'
	s='/testsuites/testsuite[@name="requeued"]'
	assert_equal "$(counts requeued)" '3 0 1 0'
	assert_equal "$(xp "concat($s/testcase[3]/@name, '|', $s/testcase[3]/error/@type)")" 'requeued|ciq.unrun'
	assert_equal "$(prop requeued ciq.outcome) $(prop requeued ciq.cases.result)" 'queued requeued'
	assert_equal "$(xp 'concat(/testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)')" '6 1 1'
	assert_equal "$(counts ciq)" '0 0 0 0'
}

@test "the runner's report is detail, not the verdict: a pass with failing testcases stays a pass" {
	need_xmllint
	populate tests/test_cart.py
	pop_is 0 tests/test_cart.py
	ciq-ack --junit "$F/pytest.xml" -- tests/test_cart.py
	junit
	assert_equal "$RS" 0
	assert_equal "$(jq -c '[.verdict, .totals.passed, .totals.failed, .tests[0].outcome]' <<<"$J")" '["passed",1,0,"passed"]'
	assert_equal "$(counts tests/test_cart.py)" '5 1 1 1'
	assert_equal "$(prop tests/test_cart.py ciq.outcome) $(prop tests/test_cart.py ciq.cases.result)" 'passed passed'
}

@test "a report without testcases is accepted and attaches none" {
	need_xmllint
	populate a
	pop_is 0 a
	printf '<?xml version="1.0"?>\n<testsuites>\n  <testsuite name="empty" tests="0"/>\n</testsuites>\n' >"$OUT/empty.xml"
	ciq-ack --junit "$OUT/empty.xml" -- a
	junit
	assert_equal "$RS" 0
	assert_equal "$(jq -c '.tests[0] | [.outcome, .cases, .cases_omitted]' <<<"$J")" '["passed",[],0]'
	assert_equal "$(counts a)" '0 0 0 0'
	assert_equal "$(prop a ciq.outcome)" passed
}

# --- Limits -------------------------------------------------------------------

@test "long texts keep their start and end; a unit keeps 1 MiB of testcases, failures first" {
	need_xmllint
	local i
	{
		echo '<testsuite name="big">'
		printf '<testcase name="long" classname="c"><failure message="m">HEAD'
		for i in $(seq 1000); do printf 'é'; done
		printf '%.0s0123456789' $(seq 500)
		echo 'TAIL</failure></testcase>'
		for i in $(seq 3000); do
			echo "<testcase name=\"pass $i\" classname=\"c\" time=\"0.001\"/>"
		done
		for i in $(seq 300); do
			printf '<testcase name="fail %d" classname="c"><failure message="boom %d">' "$i" "$i"
			printf '%.0sxxxxxxxxxx' $(seq 300)
			echo '</failure></testcase>'
		done
		echo '</testsuite>'
	} >"$OUT/big.xml"
	populate big
	pop_is 0 big
	ciq-ack --failed --junit "$OUT/big.xml" -- big
	(($(rcli HSTRLEN "$(key cases)" big) <= 1048576))
	junit
	# The 7000-byte text: 4096 bytes, the start, a note, the end.
	local out
	out=$(jq -r '.tests[0].cases[0].output' <<<"$J")
	assert_equal "$(printf '%s' "$out" | wc -c)" 4096
	[[ $out == HEADéé* ]]
	[[ $out == *0123456789TAIL ]]
	[[ $out == *$'\n[ciq: 2943 of 7008 bytes cut]\n'* ]]
	# Every failure is kept, and as many passes as fit.
	assert_equal "$(jq '[.tests[0].cases[] | select(.outcome == "failed")] | length' <<<"$J")" 301
	local kept omitted
	kept=$(jq '.tests[0].cases | length' <<<"$J")
	omitted=$(jq '.tests[0].cases_omitted' <<<"$J")
	assert_equal "$((kept + omitted))" 3301
	((omitted > 0))
	# In the runner's order: the long failure, passes, then the failures.
	assert_equal "$(jq -c '.tests[0].cases | [.[0].name, .[1].name, .[-1].name]' <<<"$J")" '["long","pass 1","fail 300"]'
	assert_equal "$(prop big ciq.cases.omitted)" "$omitted"
	assert_equal "$(counts big)" "$kept 301 0 0"
}
