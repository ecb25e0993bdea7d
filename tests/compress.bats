#!/usr/bin/env bats
#
# Outputs stored compressed (lib/compress.h, ciq(7) STORAGE): whatever
# ciq-ack --output or ciq-requeue --output was given comes back from
# ciq-report byte for byte (text, JSON, JUnit, Markdown), text is stored
# smaller than it is, any bytes (NUL, a start that looks like the tag)
# have one reading, and a stored value that no tool wrote is reported as
# unreadable, never as an empty output, and never turns a build green.
#
# shellcheck disable=SC2154

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	OUT=$BATS_TEST_TMPDIR
}

# log_text LINES: a test log, lines alike but not the same, as a runner
# prints them.
log_text() {
	awk -v n="$1" 'BEGIN {
		for (i = 1; i <= n; i++)
			printf "%06d  spec/models/cart_spec.rb:%d: expected %d items, got %d (seed %d)\n",
				i, i % 131, i * 7 % 1000, i * 3 % 997, i * 7919 % 65521
	}'
}

# fail_with FILE ID: ID is popped and acked failed with FILE as its output.
fail_with() {
	assert_equal "$(ciq-pop)" "$2"
	run ciq-ack --failed --output "$1" -- "$2"
	assert_success
	assert_output ''
}

# stored ID FILE: the stored value of ID's output, byte for byte.
stored() {
	rcli HGET "$(key output)" "$1" >"$2"
	truncate -s -1 "$2" # redis-cli's newline after the value
}

# store ID FILE: FILE's bytes as the stored output of ID (a corruption).
store() {
	rcli -x HSET "$(key output)" "$1" <"$2" >/dev/null
}

# reported ID FILE: ID's output as ciq-report --json gives it, decoded by jq.
reported() {
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	jq -j --arg id "$1" '.failures[] | select(.id == $id) | .output' <<<"$output" >"$2"
}

# kind FILE: how the stored value starts: "z" deflated, "r" marked raw,
# "-" raw as it is.
kind() {
	if [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '\0ciq' ]; then
		tail -c +5 "$1" | head -c 1
	else
		printf -
	fi
}

@test "a text output is stored deflated, smaller, and comes back byte for byte" {
	log_text 200 >"$OUT/log"
	assert_equal "$(wc -c <"$OUT/log")" 15511
	populate a
	fail_with "$OUT/log" a
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" z
	local size
	size=$(rcli HSTRLEN "$(key output)" a)
	# A third of the text at most.
	((size * 3 < 15511)) || fail "stored in $size bytes"
	assert_equal "$(wc -c <"$OUT/stored")" "$size"
	reported a "$OUT/got"
	cmp "$OUT/log" "$OUT/got"
}

@test "the text report, JUnit and Markdown show the decoded output" {
	log_text 3 >"$OUT/log"
	printf 'and a last line without newline' >>"$OUT/log"
	populate a
	fail_with "$OUT/log" a
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" z
	run ciq-report --junit "$OUT/junit.xml" --markdown "$OUT/report.md"
	assert_equal "$status" "$CIQ_EX_NO"
	local i
	for i in "${!lines[@]}"; do
		[[ ${lines[i]} == '  FAIL a '* ]] && break
	done
	assert_equal "${lines[i + 1]}" '    | 000001  spec/models/cart_spec.rb:1: expected 7 items, got 3 (seed 7919)'
	assert_equal "${lines[i + 2]}" '    | 000002  spec/models/cart_spec.rb:2: expected 14 items, got 6 (seed 15838)'
	assert_equal "${lines[i + 3]}" '    | 000003  spec/models/cart_spec.rb:3: expected 21 items, got 9 (seed 23757)'
	assert_equal "${lines[i + 4]}" '    | and a last line without newline'
	# JUnit: the output in the failure's system-out, whole.
	run grep -c 'spec/models/cart_spec.rb' "$OUT/junit.xml"
	assert_output 3
	run grep -c 'and a last line without newline' "$OUT/junit.xml"
	assert_output 1
	run grep -c '^000002  spec/models/cart_spec.rb:2: expected 14 items, got 6 (seed 15838)$' \
		"$OUT/report.md"
	assert_output 1
	refute grep -q 'could not be read' "$OUT/junit.xml" "$OUT/report.md"
}

@test "ciq-requeue stores its output deflated too, and the report shows it" {
	log_text 50 >"$OUT/log"
	populate a
	assert_equal "$(ciq-pop)" a
	run ciq-requeue --max-requeues 1 --requeue-tolerance 1 --output "$OUT/log" -- a
	assert_success
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" z
	# The second try passes: a flaky test, with the first try's output.
	assert_equal "$(ciq-pop --worker 1)" a
	ciq-ack --worker 1 -- a
	run --separate-stderr ciq-report --json
	assert_success
	jq -j '.flaky[] | select(.id == "a") | .output' <<<"$output" >"$OUT/got"
	cmp "$OUT/log" "$OUT/got"
}

@test "an output with NUL bytes that starts like the tag is marked raw and comes back whole" {
	# "\0ciqz" and a size: what a deflated value starts with.
	printf '\0ciqz\0\0\0\5\0x\0' >"$OUT/bin"
	populate a
	fail_with "$OUT/bin" a
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" r
	assert_equal "$(rcli HSTRLEN "$(key output)" a)" 17
	cmp <(tail -c +6 "$OUT/stored") "$OUT/bin"
	reported a "$OUT/got"
	cmp "$OUT/bin" "$OUT/got"
}

@test "a long output with NUL bytes after a tag is deflated and comes back whole" {
	{ printf '\0ciqr'; head -c 3000 /dev/zero; log_text 20; } >"$OUT/bin"
	populate a
	fail_with "$OUT/bin" a
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" z
	reported a "$OUT/got"
	cmp "$OUT/bin" "$OUT/got"
}

@test "random bytes, which deflate cannot shrink, are stored raw" {
	head -c 4096 /dev/urandom >"$OUT/rnd"
	# Not the tag by chance.
	printf 'R' | dd of="$OUT/rnd" conv=notrunc status=none
	populate a
	fail_with "$OUT/rnd" a
	assert_equal "$(rcli HSTRLEN "$(key output)" a)" 4096
	stored a "$OUT/stored"
	cmp "$OUT/rnd" "$OUT/stored"
	run ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	refute_output --partial 'could not be read'
}

@test "a short output is stored as it is" {
	printf 'boom\nat line 3\n' >"$OUT/short"
	populate a
	fail_with "$OUT/short" a
	assert_equal "$(rcli HGET "$(key output)" a)" "$(printf 'boom\nat line 3')"
	assert_equal "$(rcli HSTRLEN "$(key output)" a)" 15
}

@test "an empty output is stored empty and reported as an empty string, not null" {
	populate a
	fail_with /dev/null a
	assert_equal "$(rcli HEXISTS "$(key output)" a)" 1
	assert_equal "$(rcli HSTRLEN "$(key output)" a)" 0
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq -c '[.failures[] | .output]' <<<"$output")" '[""]'
}

@test "an output over the cap is cut to 65536 bytes, stored deflated, and comes back whole" {
	log_text 3000 >"$OUT/log" # 233294 bytes
	populate a
	fail_with "$OUT/log" a
	stored a "$OUT/stored"
	assert_equal "$(kind "$OUT/stored")" z
	local size
	size=$(rcli HSTRLEN "$(key output)" a)
	((size * 3 < 65536)) || fail "stored in $size bytes"
	reported a "$OUT/got"
	assert_equal "$(wc -c <"$OUT/got")" 65536
	local note='[ciq: output cut: the first 167823 of 233294 bytes were dropped]'
	assert_equal "$(head -n 1 "$OUT/got")" "$note"
	cmp <(tail -c $((65536 - ${#note} - 1)) "$OUT/log") <(tail -c +$((${#note} + 2)) "$OUT/got")
}

@test "a deflated output cut short on the server is reported as unreadable, and the build stays red" {
	log_text 100 >"$OUT/log"
	populate a b
	fail_with "$OUT/log" a
	assert_equal "$(ciq-pop)" b
	ciq-ack -- b
	stored a "$OUT/stored"
	local size
	size=$(wc -c <"$OUT/stored")
	head -c $((size / 2)) "$OUT/stored" >"$OUT/cut"
	store a "$OUT/cut"
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_line --regexp '^  FAIL a  \[worker 0, [0-9]+\.[0-9]{3} s, 1 attempt\]$'
	assert_line "    | [ciq: the stored output ($((size / 2)) bytes) could not be read: corrupt deflate stream: bad data, or cut short]"
	assert_equal "${lines[-1]}" 'FAILED: 1 of 2 tests failed'
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq -r '.failures[0].output' <<<"$output")" \
		"[ciq: the stored output ($((size / 2)) bytes) could not be read: corrupt deflate stream: bad data, or cut short]"
}

@test "a stored value with a changed byte, an unknown kind or a size over the cap is unreadable" {
	log_text 100 >"$OUT/log"
	populate a b c
	fail_with "$OUT/log" a
	fail_with "$OUT/log" b
	fail_with "$OUT/log" c
	stored a "$OUT/stored"
	# A byte in the middle of the stream: the checksum or the inflate sees it.
	local size
	size=$(wc -c <"$OUT/stored")
	cp "$OUT/stored" "$OUT/flip"
	printf '\377' | dd of="$OUT/flip" bs=1 seek=$((size / 2)) conv=notrunc status=none
	cmp -s "$OUT/stored" "$OUT/flip" && fail "the byte was already 0xff"
	store a "$OUT/flip"
	printf '\0ciqq whatever' >"$OUT/kind"
	store b "$OUT/kind"
	# 4 GiB - 1 said: refused before any allocation.
	{ printf '\0ciqz\377\377\377\377'; tail -c +10 "$OUT/stored"; } >"$OUT/huge"
	store c "$OUT/huge"
	run --separate-stderr ciq-report
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_line --regexp '^    \| \[ciq: the stored output \([0-9]+ bytes\) could not be read: corrupt deflate stream: [a-z ,]+\]$'
	assert_line '    | [ciq: the stored output (14 bytes) could not be read: unknown encoding '"'q'"']'
	assert_line "    | [ciq: the stored output ($size bytes) could not be read: says 4294967295 bytes, more than 65536]"
	assert_equal "${lines[-1]}" 'FAILED: 3 of 3 tests failed'
}

@test "an output written raw, as before outputs were compressed, reads as it is" {
	populate a
	assert_equal "$(ciq-pop)" a
	ciq-ack --failed -- a
	log_text 10 >"$OUT/old"
	store a "$OUT/old"
	reported a "$OUT/got"
	cmp "$OUT/old" "$OUT/got"
}

@test "a unit's testcases are stored deflated and a corrupt value of them leaves the unit's result" {
	{
		echo '<testsuite name="s">'
		for i in $(seq 40); do
			echo "<testcase classname=\"spec.models.cart\" name=\"adds item $i\" time=\"0.01\"/>"
		done
		echo '<testcase classname="spec.models.cart" name="totals"><failure message="boom">expected 3</failure></testcase>'
		echo '</testsuite>'
	} >"$OUT/junit.xml"
	populate u
	assert_equal "$(ciq-pop)" u
	run ciq-ack --failed --junit "$OUT/junit.xml" -- u
	assert_success
	rcli HGET "$(key cases)" u >"$OUT/cases"
	truncate -s -1 "$OUT/cases"
	assert_equal "$(kind "$OUT/cases")" z
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$(jq '.tests[0].cases | length' <<<"$output")" 41
	assert_equal "$(jq -r '.tests[0].cases[40].output' <<<"$output")" 'expected 3'
	head -c 40 "$OUT/cases" | rcli -x HSET "$(key cases)" u >/dev/null
	run --separate-stderr ciq-report --json
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[.failures[] | .id]' <<<"$output")" '["u"]'
	assert_equal "$(jq -c '.tests[0].cases' <<<"$output")" '[]'
}
