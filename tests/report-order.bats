#!/usr/bin/env bats
#
# ciq-report --order WORKER: the ids a worker was handed, in the order it
# was handed them (reclaims and requeues included), byte for byte, or as
# JSON; no wait, no verdict. The input of bisect.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	unset CIQ_ORDER
	OUT=$BATS_TEST_TMPDIR/out
	mkdir -p "$OUT"
}

# ids FILE: a list of ids with every kind of byte ciq takes.
odd_ids() {
	{
		printf '%s\n' 'plain' 'with space' '  leading and trailing  ' '-dash' '#hash' 'q"uo'"'"'te' 'back\slash\n'
		printf 'tab\there\n'
		printf 'mid\rreturn\n'
		printf '\xc3\xa9t\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x9b\n'
		printf 'bad\xff\xfe byte\n'
		printf '\xc3 cut\n'
		printf '{braces} $dollar `tick` *star*\n'
	} >"$1"
}

@test "the order of a worker, byte for byte: spaces, tabs, quotes, backslashes, UTF-8, invalid UTF-8" {
	odd_ids "$OUT/ids"
	ciq-populate --order given "$OUT/ids"
	local t
	while t=$(ciq-pop --worker w1); do
		ciq-ack --worker w1 -- "$t"
	done
	ciq-report --order w1 >"$OUT/order" 2>"$OUT/err"
	cmp "$OUT/order" "$OUT/ids"
	cmp "$OUT/err" /dev/null
	# Nothing but the ids: a line per test.
	assert_equal "$(wc -l <"$OUT/order")" 13
}

@test "requeues and reclaims are in the order of the worker that was handed the test" {
	populate a b c
	# w1 runs a and requeues it; w2 takes it again and passes it.
	flaky_head a
	# (flaky_head used workers 1 and 2.)
	assert_equal "$(ciq-pop --worker 1)" b
	# Worker 1 falls silent with b; worker 2 runs c, then reclaims b.
	assert_equal "$(ciq-pop --worker 2)" c
	ciq-ack --worker 2 -- c
	assert_equal "$(ciq-pop --worker 2 --timeout 0.5 2>/dev/null)" b
	ciq-ack --worker 2 -- b
	run --separate-stderr ciq-report --order 1
	assert_success
	assert_equal "$stderr" ''
	assert_output "$(printf 'a\nb')"
	run --separate-stderr ciq-report --order 2
	assert_success
	assert_output "$(printf 'a\nc\nb')"
}

@test "--json: the worker and its ids, each a valid JSON string; bytes not UTF-8 become U+FFFD" {
	odd_ids "$OUT/ids"
	ciq-populate --order given "$OUT/ids"
	assert_equal "$(ciq-pop -n 20 --worker w1 | wc -l)" 13
	run --separate-stderr ciq-report --order w1 --json
	assert_success
	assert_equal "$stderr" ''
	assert_equal "$(jq -c '[.version, .build, .namespace, .worker, (.ids | length)]' <<<"$output")" \
		"[1,\"$CIQ_BUILD\",\"\",\"w1\",13]"
	assert_equal "$(jq -c '.ids[0:8]' <<<"$output")" \
		'["plain","with space","  leading and trailing  ","-dash","#hash","q\"uo'"'"'te","back\\slash\\n","tab\there"]'
	assert_equal "$(jq -c '.ids[8:]' <<<"$output")" \
		'["mid\rreturn","été ✓ 🐛","bad�� byte","� cut","{braces} $dollar `tick` *star*"]'
	# As written: an escape for each byte that is not UTF-8 (json.h).
	assert_line '    "bad\ufffd\ufffd byte",'
	# The ids that are valid UTF-8 come back exactly.
	jq -j '.ids[] | ., "\n"' <<<"$output" | sed -n '1,10p' >"$OUT/back"
	sed -n '1,10p' "$OUT/ids" | cmp - "$OUT/back"
}

@test "CIQ_ORDER in the environment does not disturb --order WORKER, nor does a namespace" {
	printf '%s\n' x y | CIQ_NAMESPACE=unit ciq-populate --order given
	assert_equal "$(CIQ_NAMESPACE=unit ciq-pop --worker w)" x
	CIQ_ORDER=timing run --separate-stderr ciq-report --namespace unit --order w
	assert_success
	assert_output x
	CIQ_ORDER=random run --separate-stderr ciq-report --order w --namespace unit --json
	assert_success
	assert_equal "$(jq -c '[.namespace, .worker, .ids]' <<<"$output")" '["unit","w",["x"]]'
	# Another namespace of the same build is another queue.
	run --separate-stderr ciq-report --order w
	assert_equal "$status" "$CIQ_EX_VANISHED"
}

@test "--order does not wait for the build and gives no verdict" {
	populate a b c
	assert_equal "$(ciq-pop --worker w)" a
	run --separate-stderr timeout 5 ciq-report --order w --report-timeout 60
	assert_success
	assert_output a
	assert_equal "$stderr" ''
}

@test "a worker that took nothing exits 1; a build that is gone or a lost list exits 82; nothing on stdout" {
	populate a b
	assert_equal "$(ciq-pop --worker w)" a
	run --separate-stderr ciq-report --order nobody
	assert_equal "$status" "$CIQ_EX_NO"
	assert_output ''
	assert_equal "$stderr" "ciq-report: worker 'nobody' took no test in build '$CIQ_BUILD'"
	run --separate-stderr ciq-report --order w --build never-published
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-report: build 'never-published' is gone: its keys expired, were evicted or were never published"
	rcli DEL "$(key order:w)" >/dev/null
	run --separate-stderr ciq-report --order w
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-report: the order of worker 'w' in build '$CIQ_BUILD' was lost (its key was evicted or deleted)"
	rcli FLUSHALL >/dev/null
	run --separate-stderr ciq-report --order w --json
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
}

@test "--order usage errors: empty, missing, with a report file; configuration still checked" {
	run --separate-stderr ciq-report --order ''
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_output ''
	assert_equal "${stderr%%$'\n'*}" "ciq-report: invalid --order '': expected a worker id"
	run --separate-stderr ciq-report --order
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: option '--order' requires an argument"
	run --separate-stderr ciq-report --order w --junit "$OUT/j.xml"
	assert_equal "$status" "$CIQ_EX_USAGE"
	assert_equal "${stderr%%$'\n'*}" "ciq-report: --order prints a worker's order, not a report: it takes no --junit, --markdown, --flaky-file or --webhook"
	[ ! -e "$OUT/j.xml" ]
	unset CIQ_BUILD
	run --separate-stderr ciq-report --order w
	assert_equal "$status" "$CIQ_EX_CONFIG"
	[[ $stderr == "ciq-report: no build: "* ]]
	# A known-flaky list is not read for --order.
	export CIQ_BUILD=b1
	populate a
	assert_equal "$(ciq-pop --worker w)" a
	CIQ_KNOWN_FLAKY=$OUT/nope run --separate-stderr ciq-report --order w
	assert_success
	assert_output a
}
