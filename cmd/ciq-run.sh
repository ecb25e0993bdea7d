#!/bin/sh
# ciq-run [-j N] [--local] [--queue URL] [FILE] -- COMMAND [ARG...]
#
# Run a suite through ciq on one machine: publish the list (ciq-populate),
# run N worker loops (ciq-worker.sh), show the progress and end with the
# report's verdict (ciq-report). With no queue configured and no CI
# provider detected, it starts a private redis-server for the run and
# keeps the timing history between runs in a file. See ciq-run(1).
set -u

me=ciq-run
# The exit statuses, from lib/exit.h.
EX_USAGE=64 EX_UNAVAILABLE=69 EX_CONFIG=78 EX_NORUNNER=87
# -j and CIQ_JOBS take 1 to this many loops (as ciq-worker.sh does).
MAX_JOBS=256

usage() {
	cat <<-'EOF'
	usage: ciq-run [-j N] [--local] [--queue URL] [FILE] -- COMMAND [ARG...]
	  -j, --jobs N   run N worker loops (default: CIQ_JOBS, else the number of cores)
	  --local        always run a private redis-server, even on CI or with a queue set
	  --queue URL    join the queue at URL instead of starting a server
	  -h, --help     print this and exit
	FILE is the list of tests, one a line (- or none: standard input).
	COMMAND ARG... TEST runs one test. See ciq-run(1).
	EOF
}

say() { printf '%s: %s\n' "$me" "$*" >&2; }
warn() { say "warning: $*"; }
die() {
	s=$1
	shift
	say "$*"
	exit "$s"
}
usage_error() {
	say "$*"
	usage >&2
	exit "$EX_USAGE"
}

# valid_jobs N: N is a whole number from 1 to MAX_JOBS, written as ciq
# writes numbers (digits, no sign, no leading zero).
valid_jobs() {
	case $1 in
	'' | 0* | *[!0-9]*) return 1 ;;
	esac
	[ "${#1}" -le 4 ] && [ "$1" -le "$MAX_JOBS" ]
}

# ---------------------------------------------------------------- arguments

jobs='' local=0 file='' have_file=0 queue_flag=0
while [ $# -gt 0 ]; do
	case $1 in
	-j | --jobs)
		[ $# -ge 2 ] || usage_error "$1 needs a number"
		jobs=$2
		valid_jobs "$jobs" || usage_error "invalid $1 '$jobs': expected a number of loops from 1 to $MAX_JOBS"
		shift 2 ;;
	-j* | --jobs=*)
		jobs=${1#-j}
		jobs=${jobs#--jobs=}
		valid_jobs "$jobs" || usage_error "invalid -j '$jobs': expected a number of loops from 1 to $MAX_JOBS"
		shift ;;
	--local) local=1; shift ;;
	--queue)
		[ $# -ge 2 ] || usage_error "--queue needs a URL"
		CIQ_QUEUE=$2 queue_flag=1
		export CIQ_QUEUE
		shift 2 ;;
	--queue=*)
		CIQ_QUEUE=${1#--queue=} queue_flag=1
		export CIQ_QUEUE
		shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-?*) usage_error "unknown option '$1'" ;;
	*)
		[ "$have_file" -eq 0 ] || usage_error "one list only: '$file' and '$1' (the command goes after --; for several lists: cat A B | ciq-run - -- ...)"
		file=$1 have_file=1
		shift ;;
	esac
done
[ $# -gt 0 ] || usage_error "no command: give it after --"
# A command that cannot start would fail every test of the suite: say so
# before anything starts (ciq-worker.sh would refuse it too).
case $1 in
*/*) [ -f "$1" ] && [ -x "$1" ] ;;
*) command -v "$1" >/dev/null 2>&1 ;;
esac || die "$EX_NORUNNER" "cannot run '$1': not found or not executable"
if [ "$have_file" -eq 0 ] || [ "$file" = - ]; then
	# A list typed by hand is not what anyone meant: say so instead of
	# waiting for the end of a terminal's input.
	[ ! -t 0 ] || usage_error "no list of tests: give FILE, or the list on standard input"
	file=-
fi
[ "$local" -eq 0 ] || [ "$queue_flag" -eq 0 ] ||
	usage_error "--local and --queue contradict each other"

# CIQ_JOBS is checked even when -j is given, as every CIQ_* setting is.
[ -z "${CIQ_JOBS:-}" ] || valid_jobs "$CIQ_JOBS" ||
	die "$EX_CONFIG" "invalid CIQ_JOBS '$CIQ_JOBS': expected a number of loops from 1 to $MAX_JOBS"
if [ -z "$jobs" ]; then
	if [ -n "${CIQ_JOBS:-}" ]; then
		jobs=$CIQ_JOBS
	else
		jobs=$(nproc 2>/dev/null) || jobs=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || jobs=1
		case $jobs in
		'' | *[!0-9]*) jobs=1 ;;
		esac
		[ "$jobs" -ge 1 ] || jobs=1
		[ "$jobs" -le "$MAX_JOBS" ] || jobs=$MAX_JOBS
	fi
fi

# -------------------------------------------------------- state and cleanup

# Everything of the run that is not the user's lives in one private
# directory: the server's socket, pidfile and log, the report.
tmp=${TMPDIR:-/tmp}
# A unix socket path is at most 107 bytes: a long TMPDIR falls back to /tmp.
[ "${#tmp}" -le 60 ] || tmp=/tmp
dir=$(mktemp -d "$tmp/ciq-run.XXXXXX") || die "$EX_UNAVAILABLE" "cannot make a temporary directory in $tmp"
sock=$dir/sock
server=0   # 1 once a private redis-server may be running
loops='' report='' filter=''

# after SECONDS CMD...: a watchdog, in the background, that runs CMD after
# SECONDS unless it is killed first (killing it ends its sleep too).
after() {
	_t=$1
	shift
	(
		_s=''
		trap '[ -z "$_s" ] || kill "$_s" 2>/dev/null; exit 0' TERM
		sleep "$_t" &
		_s=$!
		wait "$_s" && "$@"
	) &
}

# reap PID SECONDS: wait for our child PID, KILLing it after SECONDS.
# (The shell's "Terminated" for a child we stopped is noise: dropped.)
reap() {
	after "$2" kill -KILL "$1" 2>/dev/null
	_w=$!
	wait "$1" 2>/dev/null
	kill "$_w" 2>/dev/null
}

# stop PID SECONDS: TERM our child PID and reap it. TERM, not INT: a
# shell without job control starts its background children with INT
# ignored.
stop() {
	kill -TERM "$1" 2>/dev/null
	reap "$1" "$2"
}

# The redis-server daemonizes into a session of its own (a terminal's
# Ctrl-C does not reach it, so the loops can still give their tests back):
# it is stopped by the pid in its pidfile, with a bounded wait.
stop_server() {
	[ "$server" -eq 1 ] || return 0
	server=0
	i=0
	# The pidfile is written just after the server forks: wait for it.
	while [ ! -s "$dir/redis.pid" ] && [ "$i" -lt 40 ]; do
		i=$((i + 1))
		sleep 0.05
	done
	pid=$(cat "$dir/redis.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || { rm -f "$dir/redis.pid"; return 0; }
	# Its last act is to remove its pidfile: gone then, even if its
	# parent (init, since it is a daemon) has not reaped it yet.
	i=0
	while [ -e "$dir/redis.pid" ] && kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -ge 100 ]; then
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	rm -f "$dir/redis.pid"
}

# A progress line that ciq-report was drawing when it was stopped.
erase_progress() {
	[ -t 2 ] && [ "${TERM:-dumb}" != dumb ] && printf '\r\033[K' >&2
}

# shellcheck disable=SC2317 # run by the traps
cleanup() {
	trap '' HUP INT QUIT PIPE TERM
	for p in $loops; do stop "$p" 10; done
	[ -z "$report" ] || { stop "$report" 2; erase_progress; }
	[ -z "$filter" ] || stop "$filter" 2
	loops='' report='' filter=''
	stop_server
	rm -rf "$dir"
}

# on_signal STATUS: stop what runs, then exit (the EXIT trap cleans up).
# shellcheck disable=SC2317 # run by the traps
on_signal() {
	trap '' HUP INT QUIT PIPE TERM
	cleanup
	exit "$1"
}

# QUIT and PIPE too: a shell killed by a signal it does not trap runs no
# EXIT trap, and "ciq-run ... 2>&1 | head" ends with a PIPE.
trap cleanup EXIT
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 131' QUIT
trap 'on_signal 141' PIPE
trap 'on_signal 143' TERM

# ------------------------------------------------------ queue or CI provider

# The CI provider ciq-env detects. Its export lines are shell-quoted;
# only that one is read, and nothing of it is evaluated or printed.
rc=0
seen=$(ciq-env --export 2>"$dir/env.err") || rc=$?
if [ "$rc" -gt 1 ]; then
	cat "$dir/env.err" >&2
	exit "$rc"
fi
provider=$(printf '%s\n' "$seen" | sed -n "s/^export CIQ_PROVIDER='\\(.*\\)'\$/\\1/p")

private=0
if [ "$local" -eq 1 ]; then
	private=1
elif [ -z "${CIQ_QUEUE:-}" ] && [ -z "${REDIS_URL:-}" ]; then
	[ -z "$provider" ] ||
		die "$EX_CONFIG" "CI provider '$provider' detected and no queue set: set CIQ_QUEUE (or REDIS_URL) to a Redis server every parallel job reaches, or pass --local to run this job alone on a private server"
	private=1
fi

# ------------------------------------------------------------ private server

# The timing history: a private server forgets everything when it stops,
# so the namespace's ciq:timing:* keys are kept in a file between runs,
# one file per working directory. The server loads it at start (--dir,
# --dbfilename); at the end every other key is deleted and SAVE writes it.
history=''
cache_ok() {
	(umask 077 && mkdir -p "$1") 2>/dev/null || return 1
	# -w is not the whole truth (root, a read-only or full disk): try it.
	probe=$(mktemp "$1/.probe.XXXXXX" 2>/dev/null) || return 1
	rm -f "$probe"
}
history_file() {
	here=$(pwd -P)
	base=$(basename "$here" | LC_ALL=C tr -c 'A-Za-z0-9._\n-' '_' | cut -c1-40)
	sum=$(printf '%s' "$here" | cksum | cut -d' ' -f1)
	printf 'timing-%s-%s.rdb' "$base" "$sum"
}

# start_server DIR DBFILE: a private redis-server; 0 once it answers.
start_server() {
	rm -f "$dir/redis.pid"
	server=1
	# umask 077: the history file it saves is the user's alone.
	(umask 077 && exec redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 \
		--save '' --appendonly no --daemonize yes --pidfile "$dir/redis.pid" \
		--logfile "$dir/redis.log" --dir "$1" --dbfilename "$2") >"$dir/redis.start" 2>&1 ||
		return 1
	i=0
	until [ "$(redis-cli -s "$sock" ping 2>/dev/null)" = PONG ]; do
		# Gone already (a history it cannot load, say): no need to wait.
		if [ -s "$dir/redis.pid" ] && ! kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
			rm -f "$dir/redis.pid"
			server=0
			return 1
		fi
		i=$((i + 1))
		if [ "$i" -ge 200 ]; then
			stop_server
			return 1
		fi
		sleep 0.05
	done
}

# The server's last word, for a message: what it printed before it
# became a daemon (a bad option), or its log.
server_said() {
	cat "$dir/redis.start" "$dir/redis.log" 2>/dev/null | tail -n 1 | sed 's/^[0-9]*:[A-Z] [0-9]* [A-Za-z]* [0-9]* [0-9:.]* [*#.-] //'
}

if [ "$private" -eq 1 ]; then
	command -v redis-server >/dev/null 2>&1 ||
		die "$EX_UNAVAILABLE" "redis-server not found: install it (Debian, Ubuntu: apt-get install redis-server; macOS: brew install redis), or set CIQ_QUEUE to a Redis server"
	command -v redis-cli >/dev/null 2>&1 ||
		die "$EX_UNAVAILABLE" "redis-cli not found: install it (Debian, Ubuntu: apt-get install redis-tools; macOS: brew install redis), or set CIQ_QUEUE to a Redis server"

	if [ -n "${CIQ_RUN_CACHE:-}" ]; then
		cache=$CIQ_RUN_CACHE
	elif [ -n "${XDG_CACHE_HOME:-}" ]; then
		cache=$XDG_CACHE_HOME/ciq
	elif [ -n "${HOME:-}" ]; then
		cache=$HOME/.cache/ciq
	else
		cache=''
	fi
	if [ -z "$cache" ]; then
		warn "no HOME, XDG_CACHE_HOME or CIQ_RUN_CACHE: running without the timing history"
	elif cache_ok "$cache"; then
		history=$cache/$(history_file)
		# A history written by hand or by an older run: others keep out.
		[ ! -e "$history" ] || chmod 600 "$history" 2>/dev/null
	else
		warn "cannot write in '$cache': running without the timing history (set CIQ_RUN_CACHE to a directory of yours)"
	fi

	if [ -n "$history" ]; then
		if ! start_server "$cache" "${history##*/}"; then
			warn "redis-server did not start with the timing history '$history' ($(server_said)): running without it; remove the file to start a new history"
			history=''
		fi
	fi
	if [ -z "$history" ]; then
		start_server "$dir" dump.rdb ||
			die "$EX_UNAVAILABLE" "redis-server did not start: $(server_said)"
	fi

	# The run's own settings, unless the user set them.
	export CIQ_QUEUE="unix://$sock"
	: "${CIQ_BUILD:=local-$(date +%Y%m%d-%H%M%S)-$$}"
	: "${CIQ_WORKER:=local}"
	: "${CIQ_WORKERS:=$jobs}"
	# A fresh server holds no earlier build to retry, whatever the CI says.
	: "${CIQ_RETRY:=false}"
	export CIQ_BUILD CIQ_WORKER CIQ_WORKERS CIQ_RETRY
fi

# ----------------------------------------------------------------- the run

# The worker loops: one ciq-worker.sh, in the background, that runs the N
# loops (-q: only failures and each loop's closing line). The one beside
# ciq-run, else PATH's. Its status: 0, 1 when a loop recorded a failed
# test, else the first loop's error.
worker=${0%/*}/ciq-worker.sh
[ -f "$worker" ] || worker=$(command -v ciq-worker.sh) ||
	die "$EX_UNAVAILABLE" "ciq-worker.sh not found beside $0 or on PATH"
start_loops() {
	sh "$worker" -j "$jobs" -q -- "$@" &
	loops=$!
}

# The list is published as the job's worker, which is also the first
# loop's (the others are JOB.2 to JOB.N: see ciq-worker.sh(1)).
rc=0
ciq-populate -- "$file" || rc=$?
[ "$rc" -eq 0 ] || exit "$rc"

# The report waits in the background and shows the progress on standard
# error; its report is printed once the loops are done.
ciq-report >"$dir/report" &
report=$!

# On a terminal, ciq-report redraws one progress line on standard error;
# a loop's line printed meanwhile would be appended to it. Each line of
# the loops goes through sed, which first erases the progress line (the
# next redraw comes below it).
if [ -t 1 ] && [ -t 2 ] && [ "${TERM:-dumb}" != dumb ]; then
	mkfifo "$dir/out"
	cr=$(printf '\r')
	esc=$(printf '\033')
	LC_ALL=C sed "s/^/$cr${esc}[K/" <"$dir/out" &
	filter=$!
	start_loops "$@" >"$dir/out"
else
	start_loops "$@"
fi

loops_rc=0
wait "$loops" || loops_rc=$?
loops=''
if [ -n "$filter" ]; then
	reap "$filter" 2
	filter=''
fi
[ "$loops_rc" -le 1 ] || say "the worker loops failed with status $loops_rc"

# On a private server nothing is left to finish the build once the loops
# are done: a build still unfinished (loops stopped by a circuit breaker
# or broken) is reported as it is now (exit 75) instead of being waited
# for. On a shared queue the report waits for the other jobs.
now=0
if [ "$private" -eq 1 ]; then
	ciq-report --no-wait >"$dir/now" 2>"$dir/now.err" || now=$?
fi
report_rc=0
if [ "$now" -eq 75 ]; then
	stop "$report" 2
	report=''
	erase_progress
	cat "$dir/now.err" >&2
	cat "$dir/now"
	report_rc=75
else
	wait "$report" || report_rc=$?
	report=''
	cat "$dir/report"
fi

# Keep the timing history: only the ciq:timing:* keys, saved by the server.
keep_timing="
	for _, k in ipairs(redis.call('KEYS', '*')) do
		if string.sub(k, 1, 11) ~= 'ciq:timing:' then redis.call('DEL', k) end
	end
	return 'OK'"
if [ -n "$history" ]; then
	if out=$(redis-cli -s "$sock" EVAL "$keep_timing" 0 2>&1) && [ "$out" = OK ] &&
		out=$(redis-cli -s "$sock" SAVE 2>&1) && [ "$out" = OK ]; then
		chmod 600 "$history"
	else
		warn "the timing history was not saved in '$history': $out"
	fi
fi

# The report's verdict, but never green when a loop broke.
if [ "$report_rc" -eq 0 ] && [ "$loops_rc" -gt 1 ]; then
	exit "$loops_rc"
fi
exit "$report_rc"
