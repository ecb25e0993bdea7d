#!/usr/bin/env bats
#
# What every tool shares: --help, --version, usage errors, configuration
# and connection errors, checked stdout, the exit codes in the man page.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }
setup() { ciq_setup; }

TOOLS=(populate pop ack requeue release report env bisect loop)

# The arguments each tool needs to get past its command line.
args_for() {
	case $1 in
	ack | requeue) echo t ;;
	*) ;;
	esac
}

@test "every tool answers --help with usage on stdout and exit 0" {
	local t
	for t in "${TOOLS[@]}"; do
		run --separate-stderr "ciq-$t" --help
		assert_success
		assert_equal "$stderr" ''
		[[ ${lines[0]} == "usage: ciq-$t "* ]] || fail "ciq-$t --help: ${lines[0]}"
		run --separate-stderr "ciq-$t" -h
		assert_success
		[[ ${lines[0]} == "usage: ciq-$t "* ]] || fail "ciq-$t -h: ${lines[0]}"
	done
}

@test "every tool answers --version with its name and 0.1.0" {
	local t
	for t in "${TOOLS[@]}"; do
		run --separate-stderr "ciq-$t" --version
		assert_success
		assert_output "ciq-$t 0.1.0"
		assert_equal "$stderr" ''
	done
}

@test "every tool rejects an unknown option with exit 64 and nothing on stdout" {
	local t
	for t in "${TOOLS[@]}"; do
		run --separate-stderr "ciq-$t" --no-such-option
		assert_equal "$status" "$CIQ_EX_USAGE"
		assert_output ''
		assert_equal "${stderr%%$'\n'*}" "ciq-$t: unrecognized option '--no-such-option'"
		[[ $stderr == *"usage: ciq-$t "* ]] || fail "ciq-$t: no usage on stderr"
	done
}

@test "every tool that talks to the queue exits 78 without a queue URL" {
	unset CIQ_QUEUE
	local t
	for t in populate pop ack requeue release report loop; do
		# shellcheck disable=SC2046
		run --separate-stderr "ciq-$t" $(args_for "$t") <<<'t'
		assert_equal "$status" "$CIQ_EX_CONFIG"
		assert_output ''
		assert_equal "$stderr" "ciq-$t: no queue: set CIQ_QUEUE, --queue or REDIS_URL"
	done
}

@test "every worker tool exits 78 without a worker id" {
	unset CIQ_WORKER
	local t
	for t in populate pop ack requeue release loop; do
		# shellcheck disable=SC2046
		run --separate-stderr "ciq-$t" $(args_for "$t") <<<'t'
		assert_equal "$status" "$CIQ_EX_CONFIG"
		assert_output ''
		[[ $stderr == "ciq-$t: no worker: "* ]] || fail "ciq-$t: $stderr"
	done
}

@test "an invalid setting is a configuration error naming the flag" {
	run --separate-stderr ciq-pop --timeout soon
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid --timeout 'soon': expected seconds"
	CIQ_TIMEOUT=-1 run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid CIQ_TIMEOUT '-1': expected seconds"
}

@test "every tool exits 69 when the queue server is unreachable" {
	export CIQ_QUEUE="unix://$BATS_TEST_TMPDIR/no-such.sock"
	local t
	for t in populate pop ack requeue release report loop; do
		# shellcheck disable=SC2046
		run --separate-stderr timeout 10 "ciq-$t" --reconnect-timeout 0.2 $(args_for "$t") <<<'t'
		assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
		assert_output ''
		assert_equal "$stderr" "ciq-$t: cannot connect to '$CIQ_QUEUE': No such file or directory"
	done
}

@test "ciq-pop exits 70 when it cannot write the id it reserved" {
	printf 'a\n' | ciq-populate
	run --separate-stderr bash -c 'ciq-pop >/dev/full'
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" 'ciq-pop: cannot write the test ids: No space left on device'
}

@test "ciq-pop -n exits 70 when it cannot write the ids" {
	printf '%s\n' a b c | ciq-populate
	run --separate-stderr bash -c 'ciq-pop -n 3 >/dev/full'
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
}

@test "ciq-pop with the queue exhausted prints nothing and exits 1 even to /dev/full" {
	printf 'a\n' | ciq-populate
	ciq-pop >/dev/null
	ciq-ack -- a
	run --separate-stderr bash -c 'ciq-pop >/dev/full'
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
}

@test "ciq-report exits 70 when it cannot write the report" {
	printf 'a\n' | ciq-populate
	ciq-pop >/dev/null
	ciq-ack -- a
	run --separate-stderr bash -c 'ciq-report >/dev/full'
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_equal "$stderr" 'ciq-report: cannot write the report: No space left on device'
	run --separate-stderr bash -c 'ciq-report --json >/dev/full'
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
}

@test "every tool fails when its --help or --version cannot be written" {
	local t
	for t in "${TOOLS[@]}"; do
		run --separate-stderr bash -c "ciq-$t --help >/dev/full"
		assert_equal "ciq-$t --help: $status" "ciq-$t --help: $CIQ_EX_SOFTWARE"
		run --separate-stderr bash -c "ciq-$t --version >/dev/full"
		assert_equal "ciq-$t --version: $status" "ciq-$t --version: $CIQ_EX_SOFTWARE"
	done
}

@test "every exit code of lib/exit.h is in man/ciq.7.scd" {
	local man=$CIQ_ROOT/man/ciq.7.scd
	[ -f "$man" ] || skip "man/ciq.7.scd does not exist yet"
	local name code
	while IFS='=' read -r name code; do
		# Each status is an entry of the EXIT STATUS list: a line "*CODE*".
		grep -Fxq "*$code*" "$man" || fail "$name ($code) is not in $man"
	done < <(sed -n 's/^#define \(CIQ_EX_[A-Z]*\) *\([0-9]*\).*/\1=\2/p' "$CIQ_ROOT/lib/exit.h")
}

@test "tests/exit_codes.bash names every code of lib/exit.h" {
	local name code n=0
	while IFS='=' read -r name code; do
		assert_equal "${!name}" "$code"
		n=$((n + 1))
	done < <(sed -n 's/^#define \(CIQ_EX_[A-Z]*\) *\([0-9]*\).*/\1=\2/p' "$CIQ_ROOT/lib/exit.h")
	assert_equal "$n" 17
}

@test "a namespace separates two queued suites of one build" {
	printf '%s\n' a | ciq-populate --namespace unit
	printf '%s\n' b | ciq-populate --namespace lint
	assert_equal "$(ciq-pop --namespace unit)" a
	assert_equal "$(ciq-pop --namespace lint)" b
	ciq-ack --namespace unit -- a
	run ciq-report --namespace unit
	assert_success
	run ciq-report --namespace lint --no-wait
	assert_equal "$status" "$CIQ_EX_TEMPFAIL"
	export CIQ_NAMESPACE=lint
	assert_equal "$(holder b)" 0
}
