#!/bin/sh
# tls-cost.sh [BINDIR] [N] [REPEAT] [LOOP] - what TLS costs the worker
# loop, with and without resumed sessions, against plain TCP, side by side.
#
# One private redis-server (a password, a TLS port with a certificate from
# a CA made here, RSA 2048, and a plain TCP port) serves three modes in
# turn, REPEAT rounds (default 2) of each:
#
#   resumed  rediss://, the tools resume each other's sessions (the default)
#   full     rediss://, CIQ_TLS_SESSION_CACHE=0: a full handshake per tool
#   plain    redis:// on 127.0.0.1
#
# In each, one worker pops and acks N no-op tests (default 2000), a tool at
# a time. LOOP says how: "pair" (the default) as `while t=$(ciq-pop); do
# ciq-ack -- "$t"; done` does, two tools a test; "next" with one tool a
# test, `ciq-ack --next`, after one ciq-pop; "loop" with one ciq-loop for
# the whole loop, over one connection (bench/loop-driver.sh). Printed per
# mode and round:
#
#   server us/test  the redis-server's CPU time (utime + stime of
#                   /proc/PID/stat, every thread, handshakes included)
#                   over the loop, divided by N
#   client us/tool  the CPU time of the loop's children (the tools, and
#                   the subshells of $(...)), divided by the tools run:
#                   2N + 1 (pair), N + 1 (next); for loop, one
#                   tool: divided by N, the tests
#   ms/test         the loop's wall time, divided by N
#   rtt/test        round trips per test, counted on a shorter loop
#                   (N/10 tests) under strace: a TCP connect is one, and
#                   so is each run of sends that a receive answers
#
# and, per round, the TLS modes' server and client figures over plain's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../bin}
n=${2:-2000}
rounds=${3:-2}
how=${4:-pair}
case $how in
pair)
	# shellcheck disable=SC2016 # expanded by sh -c
	script='while t=$(ciq-pop); do ciq-ack -- "$t"; done'
	tools=$((2 * n + 1))
	;;
next)
	# shellcheck disable=SC2016 # expanded by sh -c
	script='t=$(ciq-pop) && while t=$(ciq-ack --next -- "$t"); do :; done'
	tools=$((n + 1))
	;;
loop)
	# shellcheck disable=SC2016 # expanded by sh -c
	script='. "'"$here"'/loop-driver.sh"'
	tools=$n
	;;
*) echo "usage: tls-cost.sh [BINDIR] [N] [REPEAT] [pair|next|loop]" >&2; exit 64 ;;
esac
bin=$(cd "$bin" && pwd)
dir=$(mktemp -d /tmp/ciq-tls-cost.XXXXXX)
# stop: the server, by its pidfile, waited for (it writes its log as it
# goes), then the directory.
stop() {
	if pid=$(cat "$dir/pid" 2>/dev/null) && kill "$pid" 2>/dev/null; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			i=$((i + 1))
			sleep 0.05
		done
	fi
	rm -rf "$dir"
}
trap stop EXIT
pw=bench-pw

# A CA and a certificate from it for 127.0.0.1, as a hosted server has for
# its name: every mode connects to the same address, looked up alike.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ciq-bench-ca \
	-keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
	-keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/server.ext"
openssl x509 -req -days 2 -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
	-CAcreateserial -extfile "$dir/server.ext" -out "$dir/server.crt" 2>/dev/null

# free_port: a TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
tls_port=$(free_port)
plain_port=$(free_port)
redis-server --port "$plain_port" --bind 127.0.0.1 --tls-port "$tls_port" \
	--tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key" \
	--tls-ca-cert-file "$dir/ca.crt" --tls-auth-clients no --requirepass "$pw" \
	--unixsocket "$dir/sock" --save '' --appendonly no --daemonize yes \
	--pidfile "$dir/pid" --logfile "$dir/log" --dir "$dir" >/dev/null
i=0
until redis-cli -s "$dir/sock" -a "$pw" --no-auth-warning ping >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "redis-server did not start" >&2; cat "$dir/log" >&2; exit 1; }
	sleep 0.05
done
server=$(cat "$dir/pid")
tck=$(getconf CLK_TCK)

PATH=$bin:$PATH
export CIQ_PASSWORD="$pw" CIQ_TLS_CA_FILE="$dir/ca.crt" CIQ_WORKER=0 CIQ_HEARTBEAT=0
# The sessions of this run only.
export XDG_RUNTIME_DIR="$dir/xdg"
mkdir -m 700 "$XDG_RUNTIME_DIR"
unset CIQ_TLS_INSECURE CIQ_TLS_SESSION_CACHE REDIS_URL

# use MODE: the queue URL and cache setting of a mode.
use() {
	case $1 in
	resumed)
		CIQ_QUEUE="rediss://127.0.0.1:$tls_port"
		CIQ_TLS_SESSION_CACHE=1
		;;
	full)
		CIQ_QUEUE="rediss://127.0.0.1:$tls_port"
		CIQ_TLS_SESSION_CACHE=0
		;;
	plain)
		CIQ_QUEUE="redis://127.0.0.1:$plain_port"
		CIQ_TLS_SESSION_CACHE=1
		;;
	esac
	export CIQ_QUEUE CIQ_TLS_SESSION_CACHE
}

# server_ticks: the server's CPU time so far, in clock ticks. The command
# name, in parentheses, holds no space: fields 14 and 15 are utime, stime.
server_ticks() {
	awk '{ print $14 + $15 }' "/proc/$server/stat"
}

# publish BUILD COUNT: a build of COUNT no-op tests.
publish() {
	CIQ_BUILD=$1
	export CIQ_BUILD
	seq "$2" | sed 's/^/t/' | ciq-populate --order given
}

# loop: the worker loop, then the CPU time of its children in seconds (the
# second line of the `times` builtin: "0m1.23s 0m0.45s").
loop() {
	sh -c "$script; times" | awk '
		NR == 2 {
			split($1, u, /[ms]/); split($2, s, /[ms]/)
			printf "%.6f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2]
		}'
}

# round_trips DIR: the round trips in the strace -ff files of DIR: in each
# process, a TCP connect is one, and so is every run of sends that a
# receive answers.
round_trips() {
	awk '
		FNR == 1 { sent = 0 }
		/^connect\(.*AF_INET/ { rtt++ }
		/^sendto\(/ { sent = 1 }
		/^recvfrom\(/ && / = [1-9][0-9]*$/ && sent { rtt++; sent = 0 }
		END { print rtt + 0 }' "$1"/trace.*
}

# measure MODE ROUND: one loop of N tests in MODE, one line of figures.
measure() {
	use "$1"
	publish "$1-$2" "$n"
	before=$(server_ticks)
	start=$(date +%s%N)
	cpu=$(loop)
	end=$(date +%s%N)
	after=$(server_ticks)
	m=$((n / 10))
	rtt=-
	if command -v strace >/dev/null; then
		publish "$1-$2-rtt" "$m"
		mkdir "$dir/trace"
		strace -f -qq -ff -o "$dir/trace/trace" -e trace=connect,sendto,recvfrom \
			sh -c "$script || :"
		rtt=$(awk -v r="$(round_trips "$dir/trace")" -v m="$m" 'BEGIN { printf "%.2f", r / m }')
		rm -rf "$dir/trace"
	fi
	awk -v mode="$1" -v r="$2" -v ticks=$((after - before)) -v tck="$tck" -v n="$n" \
		-v cpu="$cpu" -v ns=$((end - start)) -v rtt="$rtt" -v tools="$tools" 'BEGIN {
		printf "%-8s %5d %14.1f %14.1f %9.2f %9s\n", mode, r, ticks * 1e6 / tck / n,
		    cpu * 1e6 / tools, ns / 1e6 / n, rtt
	}'
}

echo "tls-cost: $n tests a loop ($how), $rounds rounds; $(redis-server --version | cut -d' ' -f3);" \
	"$(openssl version | cut -d' ' -f1,2)"
printf '%-8s %5s %14s %14s %9s %9s\n' mode round "server us/test" "client us/tool" ms/test rtt/test
r=1
while [ "$r" -le "$rounds" ]; do
	measure resumed "$r" | tee "$dir/resumed"
	measure full "$r" | tee "$dir/full"
	measure plain "$r" | tee "$dir/plain"
	for m in resumed full; do
		paste "$dir/$m" "$dir/plain" | awk -v m="$m" '{
			printf "  round %d: %s over plain: server %.2fx, client %.2fx, time %.2fx\n",
			    $2, m, $3 / $9, $4 / $10, $5 / $11 }'
	done
	r=$((r + 1))
done
