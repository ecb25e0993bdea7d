#!/usr/bin/env bats
#
# ciq-populate --split-command CMD --split-threshold SECONDS|auto: the
# leader replaces each unit longer than the threshold (by the namespace's
# history) with the parts CMD prints for it; a broken CMD leaves the unit
# whole, with a warning, never a lost test.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

setup() {
	ciq_setup
	export CIQ_NAMESPACE=split
	printf '%s\n' big.rb small.rb other.rb >"$BATS_TEST_TMPDIR/list"
	# History: big.rb 60 s, small.rb 1 s, other.rb 2 s.
	rcli HSET 'ciq:timing:{split}' big.rb 60000 small.rb 1000 other.rb 2000 >/dev/null
	# A real splitter: a unit's examples, as RSpec names them.
	cat >"$BATS_TEST_TMPDIR/split" <<'SH'
#!/bin/sh
for i in 1 2 3; do printf '%s[1:%s]\n' "$1" "$i"; done
SH
	chmod +x "$BATS_TEST_TMPDIR/split"
}

queued() {
	rcli LRANGE "$(key queue)" 0 -1
}

@test "a unit over the threshold is replaced by its parts; the report says so" {
	run --separate-stderr ciq-populate --order given --split-command "$BATS_TEST_TMPDIR/split" \
		--split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(queued)" "big.rb[1:1]
big.rb[1:2]
big.rb[1:3]
small.rb
other.rb"
	assert_equal "$(rcli HGET "$(key meta)" total)" 5
	work 0
	run ciq-report
	assert_success
	assert_line "Split units (1): each ran as its parts"
	assert_line "  SPLIT big.rb  [3 parts]"
	assert_equal "${lines[-1]}" "PASSED: 5 tests, 5 passed, 0 skipped"
	run ciq-report --json
	assert_equal "$(jq -c .split <<<"$output")" '[{"id":"big.rb","parts":3}]'
}

@test "auto: the threshold is a worker's fair share of the suite" {
	# 63 s over 3 workers: 21 s; only big.rb is longer.
	run --separate-stderr ciq-populate --order given --workers 3 \
		--split-command "$BATS_TEST_TMPDIR/split" --split-threshold auto "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(queued | wc -l)" 5
	assert_equal "$(rcli HGET "$(key meta)" split:big.rb)" 3
	# CIQ_ variables set it as well; with 100 workers, the share is 0.63 s.
	export CIQ_SPLIT_COMMAND="$BATS_TEST_TMPDIR/split" CIQ_SPLIT_THRESHOLD=auto CIQ_WORKERS=100
	CIQ_BUILD=second run ciq-populate --order given "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$(CIQ_BUILD=second queued | wc -l)" 9
}

@test "a broken splitter leaves the unit whole, with a warning: never a lost test" {
	local bad=$BATS_TEST_TMPDIR/bad
	for script in 'exit 3' 'true' 'printf "a\0b\n"' 'kill -9 $$'; do
		printf '#!/bin/sh\n%s\n' "$script" >"$bad"
		chmod +x "$bad"
		export CIQ_BUILD="b$RANDOM"
		run --separate-stderr ciq-populate --order given --split-command "$bad" \
			--split-threshold 10 "$BATS_TEST_TMPDIR/list"
		assert_success
		[[ $stderr == "ciq-populate: warning: 'big.rb' runs whole: --split-command "* ]]
		assert_equal "$(queued)" "big.rb
small.rb
other.rb"
		assert_equal "$(rcli HGET "$(key meta)" split:big.rb)" ""
	done
	printf '#!/bin/sh\nexit 3\n' >"$bad"
	run --separate-stderr ciq-populate --build c1 --order given --split-command "$bad" \
		--split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_equal "$stderr" "ciq-populate: warning: 'big.rb' runs whole: --split-command exited 3"
}

@test "a splitter that hangs is killed within half the init timeout" {
	printf '#!/bin/sh\nsleep 60\n' >"$BATS_TEST_TMPDIR/hang"
	chmod +x "$BATS_TEST_TMPDIR/hang"
	local t0=$SECONDS
	run --separate-stderr ciq-populate --order given --init-timeout 2 \
		--split-command "$BATS_TEST_TMPDIR/hang" --split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_success
	[ $((SECONDS - t0)) -lt 10 ]
	# The time left is half the init timeout less the time the leader spent
	# before the splitter ran: 1000 ms, or a few less on a slow run (the
	# sanitized build once took 1 ms).
	assert_regex "$stderr" "^ciq-populate: warning: 'big.rb' runs whole: --split-command ran past the time left \(([0-9]+) ms\)\$"
	local left=${stderr##*left (}
	left=${left% ms)}
	[ "$left" -le 1000 ]
	[ "$left" -ge 900 ]
	assert_equal "$(queued | wc -l)" 3
}

@test "followers do not split; one whose list differs before splitting is still caught" {
	ciq-populate --order given --split-command "$BATS_TEST_TMPDIR/split" --split-threshold 10 \
		"$BATS_TEST_TMPDIR/list"
	# A follower with a splitter that would fail: it never runs.
	run --separate-stderr ciq-populate --worker 1 --split-command false --split-threshold 10 \
		"$BATS_TEST_TMPDIR/list"
	assert_success
	assert_equal "$stderr" ""
	printf 'big.rb\nsmall.rb\n' >"$BATS_TEST_TMPDIR/short"
	run --separate-stderr ciq-populate --worker 2 "$BATS_TEST_TMPDIR/short"
	assert_equal "$status" "$CIQ_EX_DATAERR"
}

@test "--split-threshold takes auto or seconds above 0" {
	for bad in 0 -1 x 1e3; do
		run --separate-stderr ciq-populate --split-threshold "$bad" "$BATS_TEST_TMPDIR/list"
		assert_equal "$status" "$CIQ_EX_CONFIG"
		assert_equal "$stderr" "ciq-populate: invalid --split-threshold '$bad': expected auto or seconds above 0"
	done
}

@test "a split unit's own duration follows the sum of its parts" {
	# Its parts ran in an earlier build: 5 s each, 15 s in all.
	rcli HSET 'ciq:timing:{split}' 'big.rb[1:1]' 5000 'big.rb[1:2]' 5000 'big.rb[1:3]' 5000 >/dev/null
	run --separate-stderr ciq-populate --order given --split-command "$BATS_TEST_TMPDIR/split" \
		--split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_success
	# Each build counts for half: (60 s + 15 s) / 2.
	assert_equal "$(rcli HGET 'ciq:timing:{split}' big.rb)" 37500
	# The list is noted for pruning, the unit and its parts alike.
	assert_equal "$(rcli HMGET 'ciq:timing:{split}:seen' big.rb 'big.rb[1:2]' small.rb '' | tr '\n' ' ')" "1 1 1 1 "
	# Not all parts known: left as it is.
	rcli HSET 'ciq:timing:{split}' big.rb 60000 >/dev/null
	rcli HDEL 'ciq:timing:{split}' 'big.rb[1:3]' >/dev/null
	CIQ_BUILD=again ciq-populate --order given --split-command "$BATS_TEST_TMPDIR/split" \
		--split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_equal "$(rcli HGET 'ciq:timing:{split}' big.rb)" 60000
}

@test "parts that are all in the list already leave the unit whole: never a lost test" {
	printf '#!/bin/sh\necho small.rb\necho other.rb\n' >"$BATS_TEST_TMPDIR/dup"
	chmod +x "$BATS_TEST_TMPDIR/dup"
	printf '%s\n' small.rb other.rb big.rb >"$BATS_TEST_TMPDIR/last"
	run --separate-stderr ciq-populate --order given --split-command "$BATS_TEST_TMPDIR/dup" \
		--split-threshold 10 "$BATS_TEST_TMPDIR/last"
	assert_success
	assert_equal "$stderr" "ciq-populate: warning: 'big.rb' runs whole: --split-command printed only ids already in the list"
	assert_equal "$(queued)" "small.rb
other.rb
big.rb"
}

@test "--dry-run plans what the leader would publish: split, and writes nothing" {
	run --separate-stderr ciq-populate --dry-run --order given --workers 3 \
		--split-command "$BATS_TEST_TMPDIR/split" --split-threshold 10 "$BATS_TEST_TMPDIR/list"
	assert_success
	assert_line --regexp '^ +1\.000 s\?  big\.rb\[1:1\]$'
	assert_line --regexp '^ +1\.000 s   small\.rb$'
	assert_line --regexp '^build b[0-9]+: 5 tests, 2 with history;'
	assert_equal "$(rcli KEYS "$(key '*')")" ""
	# Nothing refreshed either.
	assert_equal "$(rcli HGET 'ciq:timing:{split}' big.rb)" 60000
}

@test "auto counts a unit without history for the median of the known ones" {
	# 60 + 1 + 2 s known, median 2 s; two new units: 67 s over 3 workers,
	# 22.3 s: big.rb is split, and nothing else.
	printf '%s\n' big.rb small.rb other.rb new1.rb new2.rb >"$BATS_TEST_TMPDIR/more"
	run --separate-stderr ciq-populate --order given --workers 3 \
		--split-command "$BATS_TEST_TMPDIR/split" "$BATS_TEST_TMPDIR/more"
	assert_success
	assert_equal "$(queued | tr '\n' ' ')" "big.rb[1:1] big.rb[1:2] big.rb[1:3] small.rb other.rb new1.rb new2.rb "
	# With 30 workers the share is 2.2 s: still only big.rb (other.rb is 2 s).
	CIQ_BUILD=many run ciq-populate --order given --workers 30 \
		--split-command "$BATS_TEST_TMPDIR/split" "$BATS_TEST_TMPDIR/more"
	assert_equal "$(CIQ_BUILD=many queued | wc -l)" 7
}
