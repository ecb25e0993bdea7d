#!/usr/bin/env bats
#
# The fuzz harnesses of tests/fuzz/, each run once on every input of its
# seed corpus (tests/fuzz/corpus/TARGET/). An input a fuzzer crashed on
# is added to that corpus, so it stays a regression test here. Needs
# clang with libFuzzer: skipped without it. No Redis server.

load test_helper

setup() {
	# Builds build-fuzz/ once; later tests find it up to date.
	run sh "$CIQ_ROOT/tests/fuzz/run.sh" build
	[ "$status" -ne 3 ] || skip "$output"
	assert_success
}

# replay TARGET: every corpus file of TARGET runs, and none fails.
replay() {
	local n
	n=$(find "$CIQ_ROOT/tests/fuzz/corpus/$1" -type f | wc -l)
	[ "$n" -gt 0 ] || fail "no corpus for $1"
	run sh "$CIQ_ROOT/tests/fuzz/run.sh" replay "$1"
	assert_success
	assert_output --partial "Running $n inputs 1 time(s) each"
}

@test "fuzz_idlist passes on its corpus: CRLF, blanks, duplicates, NUL, long ids, two inputs" {
	replay idlist
}

@test "fuzz_url passes on its corpus: every scheme, credentials, IPv6, queries, bad URLs" {
	replay url
}

@test "fuzz_provider passes on its corpus: every provider's fixture, overrides, odd indexes" {
	replay provider
}

@test "fuzz_json passes on its corpus: controls, quotes, valid and invalid UTF-8" {
	replay json
}

@test "fuzz_junitxml passes on its corpus: pytest, Jest, Surefire, RSpec, entities, cut short" {
	replay junitxml
}

@test "fuzz_compress passes on its corpus: stored outputs cut short, changed, of an unknown kind" {
	replay compress
}

@test "an empty id list gets a digest and a shuffle (fuzz_idlist found a crash)" {
	run "$CIQ_ROOT/build-fuzz/fuzz_idlist" "$CIQ_ROOT/tests/fuzz/corpus/idlist/empty-list-crash.txt" \
		"$CIQ_ROOT/tests/fuzz/corpus/idlist/only-blanks.txt"
	assert_success
	assert_output --partial "Executed $CIQ_ROOT/tests/fuzz/corpus/idlist/empty-list-crash.txt"
}
