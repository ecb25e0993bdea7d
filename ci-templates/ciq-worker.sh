#!/bin/sh
# ciq-worker.sh [-q] [-j N] [--] COMMAND [ARG...] - ciq worker loops: run
# "COMMAND ARG... TEST" for every test popped, until the queue is
# exhausted, and log each test on standard output. See ciq-worker.sh(1).
#
# A passing test is acknowledged; a failing one is requeued for another
# worker when the limits allow, else recorded as failed with its output.
# Each loop does this through one ciq-loop, a coprocess kept for the whole
# loop: one connection to the server, no tool started per test.
# Once the queue is exhausted: exit 0, or 1 when a loop recorded a failed
# test, so that a CI "re-run failed jobs" re-runs just the jobs with
# failures (their retry re-runs those tests). The build's verdict is still
# ciq-report's. A ciq tool that fails ends its loop with its own status,
# so a broken queue fails the job loudly. On TERM or INT every loop stops
# its test and gives its tests back at once.
set -u

usage() {
	echo "usage: ciq-worker.sh [-q] [-j N] [--] COMMAND [ARG...]"
	echo "  -q    quiet: nothing for a passing test; failures and the closing line only"
	echo "  -j N  run N worker loops in this job, workers JOB, JOB.2 ... JOB.N (CIQ_JOBS; default 1)"
	echo "  -h    print this and exit"
	echo "See ciq-worker.sh(1)."
}

# die STATUS MESSAGE: a usage or configuration error.
die() {
	echo "ciq-worker.sh: $2" >&2
	[ "$1" -ne 64 ] || usage >&2
	exit "$1"
}

# A number of loops: 1 to 256, digits only, no leading zero.
valid_jobs() {
	case $1 in
	[1-9] | [1-9][0-9] | [1-9][0-9][0-9]) [ "$1" -le 256 ] ;;
	*) false ;;
	esac
}

quiet=0
jobs=${CIQ_JOBS:-1}
valid_jobs "$jobs" || die 78 "invalid CIQ_JOBS '$jobs': expected a number of loops from 1 to 256"
while [ $# -gt 0 ]; do
	case $1 in
	-q) quiet=1 ;;
	-j | -j*)
		if [ "$1" = -j ]; then
			[ $# -ge 2 ] || die 64 "option -j needs a number"
			shift
			jobs=$1
		else
			jobs=${1#-j}
		fi
		valid_jobs "$jobs" || die 64 "invalid -j '$jobs': expected a number of loops from 1 to 256" ;;
	-h | --help)
		usage
		exit 0 ;;
	--)
		shift
		break ;;
	-?*) die 64 "unknown option '$1'" ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || die 64 "no COMMAND"
# A runner that cannot start would fail, and be recorded as failing,
# every test of the build: refuse it here instead.
case $1 in
*/*) [ -f "$1" ] && [ -x "$1" ] ;;
*) command -v "$1" >/dev/null 2>&1 ;;
esac || die 87 "cannot run '$1': not found or not executable"

# The worker id of this job: CIQ_WORKER, else what ciq-env infers from the
# CI provider (only that line of its output: it also holds settings that
# must not be evaluated or shown).
job=${CIQ_WORKER:-}
if [ -z "$job" ]; then
	job=$(ciq-env --export 2>/dev/null |
		sed -n "s/^export CIQ_WORKER='\\(.*\\)'\$/\\1/p" | sed "s/'\\\\''/'/g")
	if [ -z "$job" ]; then
		ciq-env --check # says why on standard error
		exit 78
	fi
fi

# With several loops, worker JOB.N must still be a valid id.
if [ "$jobs" -gt 1 ] && [ $((${#job} + 1 + ${#jobs})) -gt 256 ]; then
	die 78 "worker ids '$job.2' to '$job.$jobs' would be longer than 256 bytes: shorten CIQ_WORKER"
fi

# The log's form follows the CI provider: see ciq-worker.sh(1).
if [ "${GITHUB_ACTIONS:-}" = true ]; then mode=github
elif [ "${GITLAB_CI:-}" = true ]; then mode=gitlab
elif [ "${BUILDKITE:-}" = true ]; then mode=buildkite
elif [ "${TRAVIS:-}" = true ]; then mode=travis
else mode=plain
fi
# A random token, in no test's environment: GitHub's stop-commands token
# and part of GitLab's and Travis CI's names, so that no test output can
# close a group early.
tok=
if [ "$mode" != plain ] && [ "$mode" != buildkite ]; then
	tok=$(od -An -N8 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')
	[ -n "$tok" ] || tok=$$$(date +%s)
fi

# The runner starts in a session of its own where setsid exists, so that
# TERM can stop it and every process it started; and with INT and QUIT at
# their defaults where env can set them, since an asynchronous command
# starts with them ignored and a test's processes would inherit that.
if env --default-signal=INT,QUIT true 2>/dev/null; then
	set -- env --default-signal=INT,QUIT "$@"
fi
if command -v setsid >/dev/null 2>&1; then
	set -- setsid "$@"
fi

# The runner's output file is named in the requests to ciq-loop, a line
# each with tabs between the fields: a tab or a newline would cut it.
tab=$(printf '\t')
case ${TMPDIR:-} in
*"$tab"* | *'
'*) die 78 "TMPDIR holds a tab or a newline: set it to a path without" ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ciq-worker.XXXXXX") || exit 70
trap 'rm -rf "$tmp"' EXIT

# How awk prints one test's block; the shell gives the mode and the
# names, the result line in the environment (ciqw_title: ids are any
# bytes), the output as the input file. A test's output and id must not
# be able to end the group or give the provider a command.
# shellcheck disable=SC2016 # awk's own $0, not the shell's
awkprog='
function clean(s,  bare) {
	if (mode == "gitlab") {
		# A section marker needs CR ESC[0K after its name; a CR alone
		# clears the line there all the same.
		gsub(/\r\033\[0K/, "\r", s)
	} else if (mode == "travis") {
		gsub(/(fold|time):(start|end):/, "& ", s)
	} else if (mode == "buildkite") {
		bare = s
		gsub(/\033\[[0-9;]*[mK]|\033_[^\007]*\007/, "", bare)
		if (bare ~ /^(---|\+\+\+|~~~)[ \t\r\f]/ || bare ~ /^\^\^\^[ \t\r\f]+\+\+\+[ \t\r\f]*$/)
			s = " " s
	}
	return s
}
BEGIN {
	title = ENVIRON["ciqw_title"]
	group = wrap && fold
	if (mode == "github") {
		if (group) {
			t = title
			gsub(/%/, "%25", t)
			gsub(/\r/, "%0D", t)
			gsub(/\n/, "%0A", t)
			print "::group::" t
		}
		print "::stop-commands::" tok
		if (!group)
			print title
	} else if (mode == "gitlab" && wrap) {
		printf "\033[0Ksection_start:%s:%s%s\r\033[0K%s\n", t0, name, (fold ? "[collapsed=true]" : ""), clean(title)
	} else if (mode == "buildkite") {
		print (fold ? "--- " : "+++ ") title
	} else if (mode == "travis" && group) {
		printf "travis_fold:start:%s\r%s\n", name, clean(title)
	} else
		print clean(title)
}
{ print clean($0) }
END {
	if (mode == "github") {
		print "::" tok "::"
		if (group)
			print "::endgroup::"
	} else if (mode == "gitlab" && wrap)
		printf "\033[0Ksection_end:%s:%s\r\033[0K\n", t1, name
	else if (mode == "travis" && group)
		printf "travis_fold:end:%s\r\n", name
}'

# show: print the block of the test just recorded ($res, $t, $attempt,
# $origin, $ms, its output in $out).
show() {
	busy=$((busy + ${ms:-0}))
	[ "$res" = PASS ] && [ "$quiet" = 1 ] && return
	dur=-
	if [ -n "$ms" ]; then
		c=$(((ms + 5) / 10))
		dur=$((c / 100)).$((c % 100 / 10))$((c % 10))s
	fi
	while [ ${#dur} -lt 7 ]; do dur=" $dur"; done
	case $res in
	PASS) title="PASS    $dur  $t" ;;
	FAIL) title="FAIL    $dur  $t" ;;
	*) title="REQUEUE $dur  $t" ;;
	esac
	case $origin in
	reclaim) title="$title  (attempt $attempt, reclaimed)" ;;
	retry) title="$title  (attempt $attempt, retry)" ;;
	*) [ "$attempt" = 1 ] || title="$title  (attempt $attempt)" ;;
	esac
	# A passing test's line alone, in plain mode: no need for awk.
	if [ "$mode" = plain ] && [ "$res" = PASS ]; then
		printf '%s\n' "$title"
		return
	fi
	wrap=0 fold=0 input=/dev/null
	if [ -s "$out" ]; then wrap=1 input=$out; fi
	[ "$res" != PASS ] || fold=1
	# GitLab shows a section's time from its two marks, in seconds.
	t1=0
	[ "$mode" != gitlab ] || t1=$(date +%s)
	# With several loops, each block is written at once (one write of up
	# to 128 KiB), so that the blocks of the loops do not mix. By dd, not
	# cat: GNU cat copies a file into a file with copy_file_range(2),
	# which does not share the file's offset safely with the other loops'
	# writes, so that one block could overwrite another in a log file.
	if [ "$jobs" -eq 1 ]; then
		render
	else
		render >"$blk" && dd if="$blk" bs=131072 2>/dev/null
	fi
}

# render: the block of the test, by awk.
render() {
	ciqw_title=$title LC_ALL=C awk -v mode="$mode" -v tok="$tok" -v wrap="$wrap" -v fold="$fold" \
		-v name="ciq-$tok-$k-$runs" -v t0=$((t1 - ${ms:-0} / 1000)) -v t1="$t1" \
		"$awkprog" "$input"
}

# record: count the test just recorded ($res, $t, $attempt, $origin), its
# held line "MS ID" in $held, and print its block.
record() {
	# The duration is the server's, from the reservation to the result:
	# what the report shows, and no clock to read here. No time when
	# another worker took the test meanwhile: its line says "-", and busy
	# does not count it.
	ms=${held%% *}
	case $ms in
	'' | *[!0-9]*) ms='' ;;
	esac
	runs=$((runs + 1))
	case $res in
	FAIL) failed=$((failed + 1)) ;;
	REQUEUE) requeued=$((requeued + 1)) ;;
	esac
	[ "$origin" != reclaim ] || reclaimed=$((reclaimed + 1))
	show
}

# The loop talks to one ciq-loop, its coprocess, for the whole loop: one
# connection to the server, no tool started per test (see ciq-loop(1) for
# the protocol). It writes requests on fd 3, the fifo ciq-loop reads, and
# reads the answers, a line each, on fd 4. A read on fd 4 is a blocking
# builtin that a trapped signal interrupts (in dash and bash alike), so
# TERM and INT are handled at once even while ciq-loop waits for a test
# held elsewhere.

# ask VERB OUTPUT ID: one request to ciq-loop (VERB next: the other two
# empty).
ask() {
	if [ "$1" = next ]; then
		echo next >&3
	else
		printf '%s\t%s\t%s\n' "$1" "$2" "$3" >&3
	fi
}

# answer: ciq-loop's next line into $ans. At the end of its output (no
# test is left for this loop, or it failed) its input is closed, it is
# waited for, its error is this loop's $status, and answer returns 1.
answer() {
	# IFS= and -r keep a line byte for byte (an id has no newline and
	# no NUL); expansions split it.
	IFS= read -r ans <&4 && return 0
	exec 3>&-
	rc=0
	wait "$lpid" 2>/dev/null || rc=$?
	lpid=''
	# 1: none left (the queue is exhausted, or a circuit breaker stopped
	# this worker); 0 cannot come before the end of its input.
	[ "$rc" -eq 1 ] || status=$rc
	return 1
}

# stop STATUS: on TERM or INT, stop the running child (the runner's whole
# session, or ciq-populate) and ciq-loop, give this worker's tests back,
# exit STATUS. ciq-loop is stopped first, so that it reserves nothing
# after the release.
# shellcheck disable=SC2317 # called from the traps
stop() {
	trap '' TERM INT
	if [ -n "$child" ]; then
		kill -TERM "-$child" 2>/dev/null || kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -n "$lpid" ]; then
		kill -TERM "$lpid" 2>/dev/null
		wait "$lpid" 2>/dev/null
	fi
	ciq-release 3>&- 4<&-
	exit "$1"
}

# loop K WORKER RUNNER...: one worker loop, as WORKER (already in
# CIQ_WORKER or inferred); exits with its status. K numbers its files.
loop() {
	k=$1 who=$2
	shift 2
	out=$tmp/$k.out req=$tmp/$k.req rep=$tmp/$k.rep blk=$tmp/$k.blk
	child='' lpid='' runs=0 failed=0 requeued=0 reclaimed=0 busy=0 status=0
	trap 'stop 143' TERM
	trap 'stop 130' INT
	mkfifo "$req" "$rep" || exit 70
	# Loops 2..N are workers of their own, which must join the build (in
	# retry mode, this sets up each one's list of failures); loop 1 is
	# the job's worker, which the job's own ciq-populate joined.
	if [ "$k" -gt 1 ]; then
		ciq-populate --join &
		child=$!
		wait "$child" || status=$?
		child=''
	fi
	if [ "$status" -eq 0 ]; then
		# Opened read-write, the request fifo opens at once, and a write
		# to it cannot raise SIGPIPE when ciq-loop is gone; it is closed
		# for ciq-loop itself, which would else never see its input end.
		exec 3<>"$req"
		ciq-loop <"$req" >"$rep" 3>&- &
		lpid=$!
		# Read-only, so that ciq-loop's exit is the end of fd 4. This open
		# waits for ciq-loop's: a signal interrupts it (dash then says
		# so, hence the 2>/dev/null) and its trap runs at once.
		if ! { command exec 4<"$rep"; } 2>/dev/null; then
			echo "ciq-worker.sh: cannot open $rep" >&2
			stop 70
		fi
		ask next
	fi
	while [ "$status" -eq 0 ] && answer; do
		attempt=${ans%% *} ans=${ans#* }
		origin=${ans%% *} t=${ans#* }

		# The runner does not get the fifos: a process it leaves behind
		# must not keep ciq-loop's input open, or read its answers.
		"$@" "$t" >"$out" 2>&1 3>&- 4<&- &
		child=$!
		rc=0
		wait "$child" 2>/dev/null || rc=$?
		child=''

		# A pass or a failure is recorded with this loop's next test
		# reserved in the same call: the answer is the recorded test's
		# held line, then the next test. A failure is offered for a
		# requeue first; a refused one ("- ID") is recorded as failed.
		if [ "$rc" -eq 0 ]; then
			res=PASS
			ask pass '' "$t"
		else
			ask requeue "$out" "$t"
			answer || break
			held=$ans
			if [ "${held%% *}" != - ]; then
				res=REQUEUE
				record
				continue
			fi
			res=FAIL
			ask fail "$out" "$t"
		fi
		answer || break
		held=$ans
		record
	done
	c=$(((busy + 50) / 100))
	busy=$((c / 10)).$((c % 10))s
	s=s
	[ "$runs" -ne 1 ] || s=
	line="ciq-worker $who: $runs test$s, $failed failed, $requeued requeued, $reclaimed reclaimed, busy $busy"
	# On Buildkite, a header of its own: else it would end up in the
	# last test's group.
	[ "$mode" != buildkite ] || line="+++ $line"
	printf '%s\n' "$line"
	[ "$status" -ne 0 ] || [ "$failed" -eq 0 ] || status=1
	exit "$status"
}

# One loop: this process, as the job's worker (the runner sees its id).
if [ "$jobs" -eq 1 ]; then
	CIQ_WORKER=$job
	export CIQ_WORKER
	loop 1 "$job" "$@"
fi

# Several loops, each a process of its own (so each has its own
# heartbeat) and a worker of its own: the job's worker JOB for the first,
# JOB.K for loop K > 1. So the job's ciq-populate, run as JOB, joins for
# the first loop, and a retried job's list of JOB is the first loop's own
# failures: no list is left that no loop runs. A signal to this process
# is passed on as TERM: an asynchronous loop has INT ignored.
pids=
# shellcheck disable=SC2317 # called from the traps
quit() {
	trap '' TERM INT
	# shellcheck disable=SC2086 # the pids, one word each
	[ -z "$pids" ] || kill -TERM $pids 2>/dev/null
	wait
	exit "$1"
}
trap 'quit 143' TERM
trap 'quit 130' INT
k=1
while [ "$k" -le "$jobs" ]; do
	who=$job.$k
	[ "$k" -gt 1 ] || who=$job
	(
		CIQ_WORKER=$who
		export CIQ_WORKER
		loop "$k" "$who" "$@"
	) &
	pids="$pids $!"
	k=$((k + 1))
done
# The job's status: the first loop's (in order) that is a tool's error,
# else 1 when a loop recorded a failed test, else 0.
status=0
for p in $pids; do
	rc=0
	wait "$p" || rc=$?
	case $rc in
	0) ;;
	1) [ "$status" -ne 0 ] || status=1 ;;
	*) [ "$status" -gt 1 ] || status=$rc ;;
	esac
done
exit "$status"
