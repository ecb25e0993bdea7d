#!/usr/bin/env bats
#
# ciq-report's outputs beyond the text: JUnit XML (checked against the
# xUnit plugin's schema), the JSON document's per-test records and time,
# Markdown, the flaky list, webhooks (against tests/http/server.py),
# progress while waiting, and the files' all-or-nothing writes.
#
# Each test runs in its own subshell, so a test may change CIQ_BUILD for
# a second build; bats' run sets $stderr.
# shellcheck disable=SC2030,SC2031,SC2154

load test_helper

XSD=$BATS_TEST_DIRNAME/junit/junit-10.xsd
SERVER=$BATS_TEST_DIRNAME/http/server.py

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	# The webhook servers are on 127.0.0.1: no proxy in between.
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY NO_COLOR
	export no_proxy=127.0.0.1 NO_PROXY=127.0.0.1
	HOOK_PIDS=()
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

teardown() {
	local p
	for p in "${HOOK_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
}

# drain W...: each worker finds the queue exhausted.
drain() {
	local w
	for w in "$@"; do
		run ciq-pop --worker "$w"
		assert_equal "$status" "$CIQ_EX_NO"
	done
}

# a is requeued by worker 1 and passes on worker 2 (flaky), b fails on
# worker 0, c is skipped, d passes: a red build of three workers.
mixed_build() {
	populate a b c d
	flaky_head a
	assert_equal "$(ciq-pop --worker 0)" b
	ciq-ack --worker 0 --failed --output - -- b <<<'b broke'
	assert_equal "$(ciq-pop --worker 0)" c
	ciq-ack --worker 0 --skipped -- c
	assert_equal "$(ciq-pop --worker 0)" d
	ciq-ack --worker 0 -- d
	drain 0 1 2
}

# A green build of two workers whose times are set by hand: published at
# 1000 s, worker 0 ran a (6 s) and finished at 1010 s, worker 1 ran b
# (2 s) and finished at 1008 s. Wall time 10 s, test time 8 s.
timed_build() {
	populate a b
	assert_equal "$(ciq-pop --worker 0)" a
	ciq-ack --worker 0 -- a
	assert_equal "$(ciq-pop --worker 1)" b
	ciq-ack --worker 1 -- b
	drain 0 1
	rcli HSET "$(key meta)" created_ms 1000000 >/dev/null
	rcli ZADD "$(key workers)" -1010000 0 -1008000 1 >/dev/null
	rcli HSET "$(key wstats)" 0:busy_ms 6000 1:busy_ms 2000 >/dev/null
	rcli HSET "$(key results)" a 'p 6000 0' b 'p 2000 1' >/dev/null
}

# need_xmllint: xmllint (Debian's libxml2-utils) checks the JUnit files.
need_xmllint() {
	command -v xmllint >/dev/null || skip "no xmllint (libxml2-utils)"
}

# files DIR: the names in DIR, hidden ones too, sorted, on one line.
files() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' '
}

# xp FILE XPATH: the XPath expression's value in FILE.
xp() {
	xmllint --xpath "$2" "$1"
}

# serve MODE: a local HTTP server (see tests/http/server.py); its URL in
# $HOOK_URL, its folder of requests in $HOOK_DIR.
serve() {
	HOOK_DIR=$BATS_TEST_TMPDIR/hook.$1
	mkdir -p "$HOOK_DIR"
	/usr/bin/python3 "$SERVER" "$1" "$HOOK_DIR" 30 3>&- &
	HOOK_PIDS+=($!)
	wait_for 100 test -s "$HOOK_DIR/port"
	HOOK_URL=http://127.0.0.1:$(cat "$HOOK_DIR/port")
}

# --- JUnit -------------------------------------------------------------------

@test "--junit validates against the JUnit schema, with a testcase per test across workers" {
	need_xmllint
	mixed_build
	run --separate-stderr ciq-report --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml s=/testsuites/testsuite
	assert_equal "$(xp "$j" "concat($s/@name, ' ', $s/@tests, ' ', $s/@failures, ' ', $s/@errors, ' ', $s/@skipped)")" \
		'ciq 4 1 0 1'
	assert_equal "$(xp "$j" 'concat(/testsuites/@tests, " ", /testsuites/@failures, " ", /testsuites/@errors)')" '4 1 0'
	assert_equal "$(xp "$j" "count($s/testcase)")" 4
	assert_equal "$(xp "$j" "concat($s/testcase[1]/@name, $s/testcase[2]/@name, $s/testcase[3]/@name, $s/testcase[4]/@name)")" abcd
	assert_equal "$(xp "$j" "count($s/testcase[@classname='ciq'])")" 4
	[[ $(xp "$j" "string($s/testcase[@name='b']/@time)") =~ ^[0-9]+\.[0-9]{3}$ ]]
	# a: requeued by worker 1, passed on worker 2: flaky, 2 attempts.
	assert_equal "$(xp "$j" "count($s/testcase[@name='a']/*)")" 1
	assert_equal "$(xp "$j" "concat($s/testcase[@name='a']/flakyFailure/@type, '|', $s/testcase[@name='a']/flakyFailure/@message)")" \
		'ciq.requeued|attempt 1 of 2 failed and was requeued'
	assert_equal "$(xp "$j" "string($s/testcase[@name='a']/flakyFailure/system-out)")" 'a failed once'
	# b failed on worker 0, with its output.
	assert_equal "$(xp "$j" "concat($s/testcase[@name='b']/failure/@type, '|', $s/testcase[@name='b']/failure/@message)")" \
		'ciq.failed|failed on worker 0'
	assert_equal "$(xp "$j" "string($s/testcase[@name='b']/failure)")" 'b broke'
	assert_equal "$(xp "$j" "string($s/testcase[@name='c']/skipped/@message)")" 'skipped on worker 0'
	assert_equal "$(xp "$j" "count($s/testcase[@name='d']/*)")" 0
	# Worker, attempts and flakiness, by test, in the suite's properties.
	p() { xp "$j" "string($s/properties/property[@name='$1']/@value)"; }
	assert_equal "$(p ciq.worker:a) $(p ciq.attempts:a) $(p ciq.requeues:a) $(p ciq.flaky:a)" '2 2 1 true'
	assert_equal "$(p ciq.worker:b) $(p ciq.attempts:b) $(p ciq.worker:d)" '0 1 0'
	assert_equal "$(xp "$j" "count($s/properties/property[starts-with(@name, 'ciq.flaky:')])")" 1
	assert_equal "$(p ciq.build) $(p ciq.verdict) $(p ciq.exit_status) $(p ciq.workers) $(p ciq.order)" \
		"$CIQ_BUILD failed 1 3 given"
}

@test "--junit keeps an output with ]]>, control bytes and invalid UTF-8 well-formed" {
	need_xmllint
	populate 'x]]>y' 'q&"<v>'
	assert_equal "$(ciq-pop)" 'x]]>y'
	printf 'one ]]> two\001\010\033[0m\177\377\376 \303( end\n' | ciq-ack --failed --output - -- 'x]]>y'
	assert_equal "$(ciq-pop)" 'q&"<v>'
	printf 'a]]\001>b\n' | ciq-ack --failed --output - -- 'q&"<v>'
	run ciq-report --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_NO"
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml
	# Control characters dropped, each stray byte a U+FFFD, "]]>" intact.
	assert_equal "$(xp "$j" "string(//testcase[@name='x]]>y']/failure)")" \
		$'one ]]> two[0m\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd( end'
	# A "]]>" that only appears once a control byte is dropped is split too.
	assert_equal "$(xp "$j" "string(//testcase[@name='q&\"<v>']/failure)")" 'a]]>b'
	run grep -c -F ']]]]><![CDATA[>' "$j"
	assert_output 2
}

@test "--junit of an unfinished build has an error for each test without a result" {
	need_xmllint
	populate a b c
	assert_equal "$(ciq-pop)" a
	ciq-ack -- a
	assert_equal "$(ciq-pop --worker 1)" b
	run ciq-report --no-wait --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml
	assert_equal "$(xp "$j" 'concat(//testsuite/@tests, " ", //testsuite/@failures, " ", //testsuite/@errors)')" '3 0 2'
	assert_equal "$(xp "$j" "concat(//testcase[@name='b']/error/@type, '|', //testcase[@name='b']/error/@message)")" \
		'ciq.unfinished|still running on worker 1 when the report ended'
	assert_equal "$(xp "$j" "concat(//testcase[@name='c']/error/@type, '|', //testcase[@name='c']/error/@message)")" \
		'ciq.unrun|never run: still queued when the report ended'
	assert_equal "$(xp "$j" "string(//property[@name='ciq.worker:b']/@value)")" 1
	assert_equal "$(xp "$j" "string(//property[@name='ciq.verdict']/@value)")" unfinished
}

@test "--junit of a LOST build is not green: one case counts the tests without a trace" {
	need_xmllint
	populate a b
	work 0
	rcli HDEL "$(key results)" b >/dev/null
	run ciq-report --junit "$OUT/junit.xml"
	assert_equal "$status" "$CIQ_EX_VANISHED"
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	local j=$OUT/junit.xml
	assert_equal "$(xp "$j" 'concat(//testsuite/@tests, " ", //testsuite/@errors)')" '2 1'
	assert_equal "$(xp "$j" 'concat(//testcase[2]/@name, "|", //testcase[2]/error/@type)')" \
		'1 test without a result|ciq.lost'
}

# --- JSON --------------------------------------------------------------------

@test "--json has a record per test, the build's time and utilisation between 0 and 1" {
	mixed_build
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	local j=$output
	assert_equal "$(jq -c '.version' <<<"$j")" 1
	assert_equal "$(jq -c '.tests | map([.id, .outcome, .worker, .requeues, .attempts, .flaky])' <<<"$j")" \
		'[["a","passed","2",1,2,true],["b","failed","0",0,1,false],["c","skipped","0",0,1,false],["d","passed","0",0,1,false]]'
	assert_equal "$(jq '.tests | all(.duration_ms | type == "number" and . >= 0)' <<<"$j")" true
	assert_equal "$(jq '.time.utilisation | type == "number" and . >= 0 and . <= 1' <<<"$j")" true
	assert_equal "$(jq '.time | .wall_ms == .end_ms - .created_ms and .wall_ms >= 0' <<<"$j")" true
	assert_equal "$(jq '.time.busy_ms == ([.workers[].busy_ms] | add)' <<<"$j")" true
	assert_equal "$(jq '. as $r | .workers | all(.idle_ms == ([$r.time.wall_ms - .busy_ms, 0] | max))' <<<"$j")" true
	# The failures keep their output; the fields of version 1 are all there.
	assert_equal "$(jq -c '.failures | map([.id, .worker, .attempts, .output])' <<<"$j")" '[["b","0",1,"b broke\n"]]'
	assert_equal "$(jq -c 'keys' <<<"$j")" \
		'["build","exit_status","failures","flaky","grind","known_flaky","known_flaky_passed","lost_keys","mismatches","namespace","order","quarantined","reclaimed","requeued","running","seed","split","tests","time","totals","unrun","verdict","version","workers"]'
}

@test "--json of an unfinished build: outcome running or queued, time up to now" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	ciq-ack -- a
	assert_equal "$(ciq-pop --worker 1)" b
	run ciq-report --json --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	assert_equal "$(jq -c '.tests | map([.id, .outcome, .worker, .duration_ms])' <<<"$output")" \
		'[["a","passed","0",'"$(jq '.tests[0].duration_ms' <<<"$output")"'],["b","running","1",null],["c","queued",null,null]]'
	assert_equal "$(jq '.time | .end_ms >= .created_ms and .wall_ms == .end_ms - .created_ms' <<<"$output")" true
}

@test "wall time, test time, idle time and the slowest tests, from the recorded times" {
	need_xmllint
	timed_build
	run --separate-stderr ciq-report
	assert_success
	assert_equal "$stderr" ''
	assert_line --index 2 '  wall time 10.000 s, test time 8.000 s, utilisation 40%'
	assert_line 'Slowest tests (2):'
	assert_line '       6.000 s  a  [worker 0]'
	assert_line '       2.000 s  b  [worker 1]'
	assert_line '  worker       reserved   passed   failed  skipped requeued reclaimed         busy'
	assert_line '  0                   1        1        0        0        0         0        6.0 s'
	assert_line '  1                   1        1        0        0        0         0        2.0 s'
	run ciq-report --slowest 1
	assert_line 'Slowest tests (1):'
	refute_line --partial '  b  [worker 1]'
	run ciq-report --slowest 0
	refute_line --partial 'Slowest'
	run ciq-report --json
	assert_equal "$(jq -c .time <<<"$output")" \
		'{"created_ms":1000000,"end_ms":1010000,"wall_ms":10000,"busy_ms":8000,"utilisation":0.4}'
	assert_equal "$(jq -c '.workers | map([.id, .busy_ms, .idle_ms])' <<<"$output")" '[["0",6000,4000],["1",2000,8000]]'
	run ciq-report --junit "$OUT/junit.xml"
	assert_equal "$(xp "$OUT/junit.xml" 'concat(//testsuite/@time, " ", //testsuite/@timestamp, " ", //testcase[1]/@time)')" \
		'10.000 1970-01-01T00:16:40 6.000'
	assert_equal "$(xp "$OUT/junit.xml" "string(//property[@name='ciq.utilisation']/@value)")" 0.4000
}

# --- Markdown ----------------------------------------------------------------

@test "--markdown of a green build: the verdict, the counts, the slowest tests and the workers" {
	timed_build
	run --separate-stderr ciq-report --markdown "$OUT/summary.md"
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(cat "$OUT/summary.md")" "### ✅ PASSED: 2 tests, 2 passed, 0 skipped

ciq build <code>$CIQ_BUILD</code>: 2 tests, 2 workers, wall time 10.0 s, test time 8.0 s, utilisation 40%.

| passed | failed | skipped | flaky | requeued | reclaimed | never run |
|---:|---:|---:|---:|---:|---:|---:|
| 2 | 0 | 0 | 0 | 0 | 0 | 0 |

### Slowest tests

| test | duration | worker |
|---|---:|---|
| <code>a</code> | 6.0 s | <code>0</code> |
| <code>b</code> | 2.0 s | <code>1</code> |

### Workers

| worker | tests | passed | failed | skipped | requeued | reclaimed | busy | idle |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
| <code>0</code> | 1 | 1 | 0 | 0 | 0 | 0 | 6.0 s | 4.0 s |
| <code>1</code> | 1 | 1 | 0 | 0 | 0 | 0 | 2.0 s | 8.0 s |"
}

@test "--markdown of a red build: failures with their output, flaky and requeued tests, ids escaped" {
	mixed_build
	# Ids with Markdown in them, in a second build.
	CIQ_BUILD=$CIQ_BUILD.2
	populate 'x|*y' z
	assert_equal "$(ciq-pop)" 'x|*y'
	printf 'has ``` inside\n' | ciq-ack --failed --output - -- 'x|*y'
	assert_equal "$(ciq-pop)" z
	ciq-ack --failed -- z
	run ciq-report --markdown "$OUT/summary.md" --slowest 0
	assert_equal "$status" "$CIQ_EX_NO"
	run cat "$OUT/summary.md"
	assert_line --index 0 '### ❌ FAILED: 2 of 2 tests failed'
	assert_line '### Failed tests (2)'
	assert_line --regexp '^<details><summary><code>x&#124;&#42;y</code>: worker <code>0</code>, [0-9]+ ms, 1 attempt</summary>$'
	# A fence longer than any run of backticks in the output.
	assert_line '````text'
	assert_line 'has ``` inside'
	assert_line '````'
	assert_line --regexp '^- <code>z</code>: worker <code>0</code>, [0-9]+ ms, 1 attempt, no output$'

	CIQ_BUILD=${CIQ_BUILD%.2}
	run ciq-report --markdown "$OUT/summary.md"
	assert_equal "$status" "$CIQ_EX_NO"
	run cat "$OUT/summary.md"
	assert_line --index 0 '### ❌ FAILED: 1 of 4 tests failed'
	assert_line '| 2 | 1 | 1 | 1 | 1 | 0 | 0 |'
	assert_line --regexp '^<details><summary><code>b</code>: worker <code>0</code>, [0-9]+ ms, 1 attempt</summary>$'
	assert_line '```text'
	assert_line 'b broke'
	assert_line '### Flaky tests (1)'
	assert_line '- <code>a</code>: passed on worker <code>2</code> after 1 requeue'
	assert_line '### Requeued tests (1)'
	assert_line '- <code>a</code>: requeued 1 time'
}

@test "--markdown shows the last 50 lines of a long output" {
	populate t
	ciq-pop >/dev/null
	seq 1 80 | sed 's/^/line /' | ciq-ack --failed --output - -- t
	run ciq-report --markdown "$OUT/summary.md"
	assert_equal "$status" "$CIQ_EX_NO"
	# (lines leaves the empty lines out)
	run sed -n '/^<details>/,/^<\/details>/p' "$OUT/summary.md"
	assert_line --index 1 'The last 50 of 80 lines:'
	assert_line --index 2 '```text'
	assert_line --index 3 'line 31'
	assert_line --index 52 'line 80'
	assert_line --index 53 '```'
}

# --- the flaky list, and the files together ------------------------------------

@test "--flaky-file writes the flaky ids, one a line; an empty file replaces an old one" {
	mixed_build
	run ciq-report --flaky-file "$OUT/flaky.txt"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(od -An -c "$OUT/flaky.txt" | tr -s ' ')" ' a \n'
	CIQ_BUILD=$CIQ_BUILD.green
	populate p q
	work 0
	run ciq-report --flaky-file "$OUT/flaky.txt"
	assert_success
	[ -f "$OUT/flaky.txt" ] && [ ! -s "$OUT/flaky.txt" ]
}

@test "the outputs combine in one run: JSON on stdout, JUnit, Markdown and the flaky list in files" {
	need_xmllint
	mixed_build
	run --separate-stderr ciq-report --json --junit "$OUT/junit.xml" --markdown "$OUT/summary.md" \
		--flaky-file "$OUT/flaky.txt"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[.verdict, .totals.tests, (.tests | length)]' <<<"$output")" '["failed",4,4]'
	run xmllint --noout --schema "$XSD" "$OUT/junit.xml"
	assert_success
	assert_equal "$(head -n 1 "$OUT/summary.md")" '### ❌ FAILED: 1 of 4 tests failed'
	assert_equal "$(cat "$OUT/flaky.txt")" a
	# Nothing else: no temporary file left behind.
	assert_equal "$(files "$OUT")" 'flaky.txt junit.xml summary.md '
}

@test "a file that cannot be written is exit 70 after the report and the other files" {
	populate a b
	work 0
	run --separate-stderr ciq-report --junit "$OUT/missing/junit.xml" --markdown "$OUT/summary.md"
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" "ciq-report: cannot write '$OUT/missing/junit.xml': No such file or directory"
	assert_equal "${lines[-1]}" 'PASSED: 2 tests, 2 passed, 0 skipped'
	assert_equal "$(head -n 1 "$OUT/summary.md")" '### ✅ PASSED: 2 tests, 2 passed, 0 skipped'
	# A write that fails at the end (a full disk) is caught too.
	run --separate-stderr ciq-report --junit /dev/full
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" "ciq-report: cannot write '/dev/full': No space left on device"
}

@test "files are replaced whole: an old file, a file behind a symbolic link" {
	need_xmllint
	populate a
	work 0
	printf 'old\n' >"$OUT/real.xml"
	ln -s real.xml "$OUT/link.xml"
	printf 'old\n' >"$OUT/summary.md"
	chmod 640 "$OUT/summary.md"
	run ciq-report --junit "$OUT/link.xml" --markdown "$OUT/summary.md"
	assert_success
	[ -L "$OUT/link.xml" ]
	run xmllint --noout --schema "$XSD" "$OUT/real.xml"
	assert_success
	assert_equal "$(head -n 1 "$OUT/summary.md")" '### ✅ PASSED: 1 tests, 1 passed, 0 skipped'
	assert_equal "$(stat -c %a "$OUT/summary.md")" 640
	assert_equal "$(files "$OUT")" 'link.xml real.xml summary.md '
}

# --- webhooks ------------------------------------------------------------------

@test "--webhook posts the JSON document, the same as --json prints, to every URL" {
	serve record
	mixed_build
	run --separate-stderr ciq-report --json --webhook "$HOOK_URL/hooks/one" --webhook "$HOOK_URL/hooks/two"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	printf '%s\n' "$output" >"$OUT/stdout.json"
	cmp "$OUT/stdout.json" "$HOOK_DIR/1.body"
	cmp "$OUT/stdout.json" "$HOOK_DIR/2.body"
	jq -e '.verdict == "failed"' "$HOOK_DIR/1.body" >/dev/null
	run cat "$HOOK_DIR/1.head"
	assert_line --index 0 'POST /hooks/one HTTP/1.1'
	assert_line 'Content-Type: application/json'
	assert_line 'User-Agent: ciq-report/0.1.0'
	assert_equal "$(head -n 1 "$HOOK_DIR/2.head")" 'POST /hooks/two HTTP/1.1'
	# Without --json the text is printed, and the same document posted.
	run --separate-stderr ciq-report --webhook "$HOOK_URL/hooks/three"
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 4 tests failed'
	cmp "$OUT/stdout.json" "$HOOK_DIR/3.body"
}

@test "a webhook answering 500 is retried, then a warning; the verdict stands" {
	serve fail
	populate a
	work 0
	run --separate-stderr ciq-report --webhook "$HOOK_URL/secret/path" --webhook-retries 2
	assert_success
	assert_equal "$stderr" "ciq-report: cannot post the report to webhook '$HOOK_URL': HTTP 500 after 3 attempts"
	assert_equal "${lines[-1]}" 'PASSED: 1 tests, 1 passed, 0 skipped'
	[ -f "$HOOK_DIR/3.body" ] && [ ! -e "$HOOK_DIR/4.body" ]
	# A red build stays red.
	CIQ_BUILD=$CIQ_BUILD.red
	populate a
	work 0 a
	run --separate-stderr ciq-report --json --webhook "$HOOK_URL" --webhook-retries 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-report: cannot post the report to webhook '$HOOK_URL': HTTP 500"
	assert_equal "$(jq -r .verdict <<<"$output")" failed
}

@test "a webhook that never answers costs the timeout per attempt, then a warning; the verdict stands" {
	serve hang
	populate a
	work 0 a
	local t0=$SECONDS
	run --separate-stderr ciq-report --webhook "$HOOK_URL/" --webhook-timeout 0.5 --webhook-retries 1
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" "ciq-report: cannot post the report to webhook '$HOOK_URL': Timeout was reached after 2 attempts"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 1 tests failed'
	# 2 attempts of 0.5 s and a delay of at most 0.5 s between them.
	[ $((SECONDS - t0)) -le 3 ]
	[ -f "$HOOK_DIR/2.body" ] && [ ! -e "$HOOK_DIR/3.body" ]
}

@test "--webhook takes only http and https URLs, checked before the wait" {
	run --separate-stderr ciq-report --webhook ftp://example.com/x
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --webhook 'ftp://example.com': not an http:// or https:// URL"
	run --separate-stderr ciq-report --webhook 'not a url'
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --webhook: not a URL"
	run --separate-stderr ciq-report --webhook-timeout 0
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --webhook-timeout '0': expected seconds above 0"
	run --separate-stderr ciq-report --progress loud
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --progress 'loud': expected auto, line, plain or none"
}

# --- progress --------------------------------------------------------------------

@test "while it waits, plain progress lines go to stderr, none to stdout" {
	populate a b c
	assert_equal "$(ciq-pop)" a
	ciq-ack -- a
	assert_equal "$(ciq-pop)" b
	# Worker 0 holds b and falls silent: the wait ends after 1.5 s.
	run --separate-stderr ciq-report --progress-interval 0.2 --inactive-timeout 1.5 --timeout 100
	assert_equal "$status" "$CIQ_EX_ABANDONED"
	refute_line --partial 'ciq-report:'
	assert_equal "${lines[-1]}" 'ABANDONED: 2 tests left unrun and no worker showed life for 1.5 s'
	local n=0 l
	while IFS= read -r l; do
		[[ $l =~ ^"ciq-report: build $CIQ_BUILD: 1 of 3 done, 1 running, 1 of 1 workers alive, 0 failed, about "[0-9]+s" left"$ ]] ||
			fail "unexpected progress line: $l"
		n=$((n + 1))
	done <<<"$stderr"
	[ "$n" -ge 2 ]
}

@test "progress says when the build is not published yet" {
	run --separate-stderr ciq-report --init-timeout 0.7 --progress plain --progress-interval 0.2
	assert_equal "$status" "$CIQ_EX_NOTPOPULATED"
	assert_output ''
	local -a err
	mapfile -t err <<<"$stderr"
	[ "${#err[@]}" -ge 2 ]
	assert_equal "${err[0]}" "ciq-report: build $CIQ_BUILD: waiting to be published (1s)"
	assert_equal "${err[-1]}" "ciq-report: build '$CIQ_BUILD' was never populated (no worker ran ciq-populate within 0.7 s)"
}

# tty_report [VAR=value...]: ciq-report on a terminal (script(1)), in
# a new build where worker 0 holds a and falls silent; what the terminal
# got in $OUT/tty, the report in $OUT/report.txt.
tty_report() {
	CIQ_BUILD=$CIQ_BUILD.$((++TTY_RUNS))
	populate a b
	assert_equal "$(ciq-pop)" a
	env "$@" TERM=xterm script -qec "ciq-report --inactive-timeout 1 --timeout 100 >'$OUT/report.txt'" \
		/dev/null </dev/null >"$OUT/tty" || true
	assert_equal "$(tail -n 1 "$OUT/report.txt")" 'ABANDONED: 2 tests left unrun and no worker showed life for 1 s'
	run grep -c $'\e' "$OUT/report.txt"
	assert_output 0
}

@test "on a terminal, one progress line is redrawn and erased, in colour unless NO_COLOR" {
	TTY_RUNS=0
	tty_report
	run cat "$OUT/tty"
	assert_output --partial $'\r\e[K'"ciq-report: build $CIQ_BUILD: "$'\e[1m'"0 of 2 done"$'\e[0m'", 1 running, 1 of 1 workers alive, "$'\e[32m'"0 failed"$'\e[0m'
	# Erased at the end: the terminal is left clean for the report.
	[[ $output == *$'\r\e[K' ]]
	refute_output --partial $'\n'

	tty_report NO_COLOR=1
	run cat "$OUT/tty"
	assert_output --partial $'\r\e[K'"ciq-report: build $CIQ_BUILD: 0 of 2 done, 1 running, 1 of 1 workers alive, 0 failed"
	refute_output --partial $'\e[1m'
	refute_output --partial $'\e[3'
	[[ $output == *$'\r\e[K' ]]
}

# --- the templates' summary step ---------------------------------------------------

# template_report PROVIDER FILE: run the report commands of the template
# as the provider would, in $OUT, with the queue as its secret.
template_report() {
	"$PY" "$BATS_TEST_DIRNAME/templates/pipeline.py" script "$1" "$CIQ_ROOT/ci-templates/$2" report \
		--secret "CIQ_QUEUE=$CIQ_QUEUE" >"$OUT/report.sh"
	(cd "$OUT" && sh report.sh) >"$OUT/report.out" 2>&1
}

@test "the GitHub and Buildkite templates put the summary on the build's page, the verdict unchanged" {
	PY=/usr/bin/python3
	"$PY" -c 'import yaml' 2>/dev/null || skip "no python3-yaml"
	populate a b
	work 0 b
	export GITHUB_STEP_SUMMARY=$OUT/step_summary
	: >"$GITHUB_STEP_SUMMARY"
	run template_report github github/ciq.yml
	assert_equal "$status" 1
	assert_equal "$(tail -n 1 "$OUT/report.out")" 'FAILED: 1 of 2 tests failed'
	assert_equal "$(head -n 1 "$GITHUB_STEP_SUMMARY")" '### ❌ FAILED: 1 of 2 tests failed'
	unset GITHUB_STEP_SUMMARY

	# A stand-in buildkite-agent that keeps what it is given.
	mkdir -p "$OUT/bin"
	cat >"$OUT/bin/buildkite-agent" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$*" >"$OUT/agent.args"
		cat >"$OUT/agent.stdin"
	EOF
	chmod +x "$OUT/bin/buildkite-agent"
	PATH=$OUT/bin:$PATH run template_report buildkite buildkite/pipeline.yml
	assert_equal "$status" 1
	assert_equal "$(tail -n 1 "$OUT/report.out")" 'FAILED: 1 of 2 tests failed'
	assert_equal "$(cat "$OUT/agent.args")" 'annotate --context ciq'
	assert_equal "$(head -n 1 "$OUT/agent.stdin")" '### ❌ FAILED: 1 of 2 tests failed'
}
