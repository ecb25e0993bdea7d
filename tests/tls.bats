#!/usr/bin/env bats
#
# rediss:// - TLS to a private redis-server whose certificate comes from a
# CA made here: verification (CA file, system store, host names, SNI),
# insecure mode, passwords and ACL users over TLS, the wrong scheme for a
# port in either direction, and the sessions one tool saves for the next.
#
# One redis-server serves TLS on $TLS_PORT, plain RESP on $PLAIN_PORT (for
# the wrong-scheme test) and a unix socket for the tests' own redis-cli.
# It wants a password; "ciq" is an ACL user. openssl s_server stands in
# for servers whose certificate must differ (another name) or whose view
# of the ClientHello is needed (SNI).

load test_helper

PW=tls-s3cret-pw
ACL_PW=acl-s3cret-pw

# free_port: a TCP port nobody listens on right now.
free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# listening PORT: something listens on 127.0.0.1:PORT (read from
# /proc/net/tcp, so checking costs the server no connection).
listening() {
	grep -qi "^ *[0-9]*: 0100007F:$(printf %04X "$1") 00000000:0000 0A " /proc/net/tcp
}

# make_certs DIR: a CA, a server certificate from it for localhost and
# 127.0.0.1, one for another name, and an unrelated CA.
make_certs() {
	local d=$1 name
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ciq-test-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ciq-other-ca \
		-keyout "$d/other-ca.key" -out "$d/other-ca.crt" 2>/dev/null
	for name in server:DNS:localhost,IP:127.0.0.1 elsewhere:DNS:elsewhere.invalid; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=${name#*:DNS:}" \
			-keyout "$d/${name%%:*}.key" -out "$d/${name%%:*}.csr" 2>/dev/null
		printf 'subjectAltName=%s\n' "${name#*:}" >"$d/${name%%:*}.ext"
		openssl x509 -req -days 2 -in "$d/${name%%:*}.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -extfile "$d/${name%%:*}.ext" -out "$d/${name%%:*}.crt" 2>/dev/null
	done
}

# tls_server_start DIR: the TLS server, with its pidfile, log and socket
# in DIR; its ports in TLS_PORT and PLAIN_PORT. A port taken between
# free_port and the server's bind is tried again with new ones.
tls_server_start() {
	local dir=$1 try
	for try in 1 2 3 4 5; do
		TLS_PORT=$(free_port)
		PLAIN_PORT=$(free_port)
		redis-server --port "$PLAIN_PORT" --tls-port "$TLS_PORT" \
			--tls-cert-file "$dir/server.crt" --tls-key-file "$dir/server.key" \
			--tls-ca-cert-file "$dir/ca.crt" --tls-auth-clients no \
			--requirepass "$PW" \
			--unixsocket "$dir/sock" --unixsocketperm 700 \
			--save '' --appendonly no --daemonize yes \
			--pidfile "$dir/pid" --logfile "$dir/log" --dir "$dir"
		if wait_for 100 sh -c 'redis-cli -s "$1" ping 2>&1 | grep -q PONG' sh "$dir/sock"; then
			export TLS_PORT PLAIN_PORT
			return 0
		fi
		grep -q 'Address already in use' "$dir/log" || break
		echo "# port taken, try $try" >&3
	done
	echo "the TLS redis-server did not start:" >&2
	cat "$dir/log" >&2
	return 1
}

# s_server_start CERT [ARGS...]: openssl s_server with CERT (and its key)
# on a free port (S_PORT), for three connections at most: as many as a
# tool's first connection tries. It logs each ClientHello to $S_DIR/trace.
s_server_start() {
	local cert=$1
	shift
	S_DIR=$BATS_TEST_TMPDIR
	S_PORT=$(free_port)
	openssl s_server -accept "127.0.0.1:$S_PORT" -cert "$TLS_DIR/$cert.crt" \
		-key "$TLS_DIR/$cert.key" -naccept 3 -quiet -trace -msgfile "$S_DIR/trace" \
		"$@" </dev/null >"$S_DIR/s_server.out" 2>&1 3>&- &
	S_PID=$!
	wait_for 100 listening "$S_PORT"
}

# s_server_done: wait for s_server to end (its log is complete then).
s_server_done() {
	wait_for 100 sh -c '! kill -0 "$1"' sh "$S_PID" || kill "$S_PID"
	wait "$S_PID" 2>/dev/null || true
	S_PID=
}

setup_file() {
	TLS_DIR=$(mktemp -d /tmp/ciqt.XXXXXX)
	export TLS_DIR
	make_certs "$TLS_DIR"
	# The tests' own redis-cli takes the password from the environment.
	export REDISCLI_AUTH=$PW
	tls_server_start "$TLS_DIR"
	export REDIS_SOCK=$TLS_DIR/sock
	redis-cli -s "$REDIS_SOCK" ACL SETUSER ciq on ">$ACL_PW" '~*' '+@all' >/dev/null
}

teardown_file() {
	server_stop "${TLS_DIR:-}"
}

setup() {
	ciq_setup
	unset CIQ_PASSWORD CIQ_USER CIQ_TLS_CA_FILE CIQ_TLS_INSECURE CIQ_TLS_SESSION_CACHE \
		SSL_CERT_FILE SSL_CERT_DIR
	S_PID=
	# Each test keeps its TLS sessions (and finds none) in a private
	# directory of its own.
	export XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/xdg
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	SESS=$XDG_RUNTIME_DIR/ciq-$(id -u)
}

teardown() {
	if [ -n "${S_PID:-}" ]; then
		kill "$S_PID" 2>/dev/null || true
	fi
	# A test that changed them and failed half-way must not fail the next.
	rcli CONFIG SET tls-auth-clients no tls-session-cache-timeout 300 >/dev/null
}

# ms_since START: milliseconds since START (from date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# no_secret TEXT: neither password appears in TEXT.
no_secret() {
	[[ $1 != *"$PW"* && $1 != *"$ACL_PW"* && $1 != *s3cret* ]]
}

# green_build: populate a b, pop, ack and report them; every step exits 0
# and says nothing on stderr. Uses CIQ_QUEUE and the rest as exported.
green_build() {
	run --separate-stderr ciq-populate --order given < <(printf '%s\n' a b)
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output ''
	run --separate-stderr ciq-pop -n 2
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output "$(printf '%s\n' a b)"
	run --separate-stderr ciq-ack -- a b
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output ''
	run --separate-stderr ciq-report
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_line --index 0 "ciq: build $CIQ_BUILD: 2 tests, 2 with a result, 1 workers"
	assert_line --index 1 "  passed 2, failed 0, skipped 0, flaky 0, requeued 0, reclaimed 0, never run 0"
	assert_equal "${lines[-1]}" "PASSED: 2 tests, 2 passed, 0 skipped"
	assert_equal "$(rcli HGET "$(key results)" b | cut -d' ' -f1)" p
}

# --- a verified connection ------------------------------------------------------

@test "populate, pop, ack and report over rediss:// verified with CIQ_TLS_CA_FILE" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	green_build
}

@test "a certificate for 127.0.0.1 verifies when the URL names the address" {
	export CIQ_QUEUE="rediss://127.0.0.1:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	green_build
}

@test "the system CA store is used: SSL_CERT_FILE alone verifies the server" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export SSL_CERT_FILE=$TLS_DIR/ca.crt
	green_build
}

# --- refused certificates -------------------------------------------------------

@test "a CA that did not sign the server's certificate is refused: exit 69 and what to set" {
	export CIQ_QUEUE="rediss://:$PW@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/other-ca.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://:***@localhost:$TLS_PORT': TLS: certificate verify failed: self-signed certificate in certificate chain (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
	no_secret "$stderr"
	assert_equal "$(rcli DBSIZE)" 0
}

@test "without a CA file the system store does not know the test CA: refused" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: cannot connect to 'rediss://localhost:$TLS_PORT': TLS: certificate verify failed: self-signed certificate in certificate chain (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
	assert_equal "$(rcli DBSIZE)" 0
}

@test "CIQ_TLS_INSECURE=0 still verifies" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW CIQ_TLS_INSECURE=0
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': TLS: certificate verify failed: self-signed certificate in certificate chain (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
}

@test "an address the certificate does not hold is refused, even with the right CA" {
	export CIQ_QUEUE="rediss://127.0.0.2:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://127.0.0.2:$TLS_PORT': TLS: certificate verify failed: IP address mismatch: the certificate does not name '127.0.0.2' (connect by a name it holds, or set CIQ_TLS_INSECURE=1)"
}

@test "a name the certificate does not hold is refused, even with the right CA" {
	s_server_start elsewhere
	export CIQ_QUEUE="rediss://localhost:$S_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$S_PORT': TLS: certificate verify failed: hostname mismatch: the certificate does not name 'localhost' (connect by a name it holds, or set CIQ_TLS_INSECURE=1)"
}

@test "the host name goes out as SNI; an address does not" {
	# s_server sends its certificate alone, without the CA: unverifiable.
	s_server_start server
	CIQ_QUEUE="rediss://localhost:$S_PORT" run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$S_PORT': TLS: certificate verify failed: unable to get local issuer certificate (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
	s_server_done
	assert_equal "$(grep -c 'extension_type=server_name' "$S_DIR/trace")" 3
	assert_equal "$(grep -A1 'extension_type=server_name' "$S_DIR/trace" | grep -c '\.localhost$')" 3

	s_server_start server
	CIQ_QUEUE="rediss://127.0.0.1:$S_PORT" run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://127.0.0.1:$S_PORT': TLS: certificate verify failed: unable to get local issuer certificate (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
	s_server_done
	assert_equal "$(grep -c 'ClientHello' "$S_DIR/trace")" 3
	assert_equal "$(grep -c 'extension_type=server_name' "$S_DIR/trace")" 0
}

# --- insecure mode ----------------------------------------------------------------

@test "?insecure=1 connects to a server no CA vouches for" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT/?insecure=1" CIQ_PASSWORD=$PW
	green_build
}

@test "CIQ_TLS_INSECURE=1 connects to a server no CA vouches for" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW CIQ_TLS_INSECURE=1
	green_build
}

@test "insecure mode accepts a certificate for another address and a wrong CA" {
	export CIQ_QUEUE="rediss://127.0.0.2:$TLS_PORT?insecure=1" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/other-ca.crt
	green_build
}

# --- unusable TLS settings ----------------------------------------------------------

@test "a CIQ_TLS_CA_FILE that cannot be read is a configuration error" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/missing.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': cannot read CIQ_TLS_CA_FILE '$TLS_DIR/missing.crt': No such file or directory"
}

@test "a CIQ_TLS_CA_FILE without a certificate is a configuration error" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/server.ext
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': CIQ_TLS_CA_FILE '$TLS_DIR/server.ext' holds no PEM certificate: no certificate or crl found"
}

@test "a CIQ_TLS_INSECURE that is neither 1 nor 0 is a configuration error" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW CIQ_TLS_INSECURE=maybe
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': CIQ_TLS_INSECURE must be 1 or 0, not 'maybe'"
}

@test "the TLS settings do not concern a plain URL" {
	export CIQ_QUEUE="redis://localhost:$PLAIN_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_INSECURE=maybe CIQ_TLS_CA_FILE=/nonexistent CIQ_TLS_SESSION_CACHE=maybe
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output ''
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" a
}

# static_build: the tools under test are static (LINK=static, the
# default), with OpenSSL linked in.
static_build() {
	! readelf -d "$CIQ_BIN/ciq-pop" | grep -q '(NEEDED)'
}

@test "OpenSSL is linked in: a static tool loads no library, a dynamic one never dlopens" {
	# The dynamic loader names every library it loads, dlopen() included.
	# A static tool has no loader: it says nothing, for rediss:// too. A
	# dynamic tool (LINK=dynamic, the sanitized build) needs libssl from
	# its start, and loads nothing later.
	export CIQ_QUEUE="redis://localhost:$PLAIN_PORT" CIQ_PASSWORD=$PW
	run --separate-stderr env LD_DEBUG=files ciq-populate --order given < <(printf '%s\n' a b)
	assert_equal "$status" 0
	assert_output ''
	if static_build; then
		assert_equal "$stderr" ''
	else
		[[ $stderr == *'file=libssl.so.3 [0];  needed by'* ]]
	fi
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr env LD_DEBUG=files ciq-pop
	assert_equal "$status" 0
	assert_output a
	if static_build; then
		assert_equal "$stderr" ''
	else
		[[ $stderr == *'file=libssl.so.3 [0];  needed by'* ]]
	fi
	[[ $stderr != *'dynamically loaded by'* ]]
}

@test "over rediss://, ack, requeue and release get their options and standard input" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	printf '%s\n' a b c | ciq-populate --order given
	run --separate-stderr ciq-pop -n 3
	assert_equal "$status" 0
	assert_output "$(printf '%s\n' a b c)"
	run --separate-stderr ciq-ack --failed --output - -- a < <(printf 'boom\n')
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	run result a
	assert_output --regexp '^f [0-9]+ 0$'
	assert_equal "$(rcli HGET "$(key output)" a)" boom
	run --separate-stderr ciq-requeue --max-requeues 1 --requeue-tolerance 1 --output - -- b \
		< <(printf 'flaky\n')
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" b
	run --separate-stderr ciq-release -- c
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_equal "$(rcli LRANGE "$(key queue)" 0 -1)" "$(printf '%s\n' c b)"
}

@test "a static tool finds a name in /etc/hosts whatever NSS modules nsswitch.conf names" {
	unshare -m true 2>/dev/null || skip "needs a mount namespace (unshare -m) for its own /etc/nsswitch.conf"
	static_build || skip "the dynamic build uses every NSS module"
	printf 'hosts: files mdns4_minimal [NOTFOUND=return] dns\n' >"$BATS_TEST_TMPDIR/nsswitch.conf"
	export CIQ_PASSWORD=$PW NSS=$BATS_TEST_TMPDIR/nsswitch.conf
	CIQ_QUEUE="redis://localhost:$PLAIN_PORT" populate a
	export CIQ_QUEUE="redis://localhost:$PLAIN_PORT"
	run --separate-stderr unshare -m sh -c \
		'mount --bind "$NSS" /etc/nsswitch.conf && exec ciq-pop' sh
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output a
}

@test "a server that requires a client certificate is refused once, saying so" {
	rcli CONFIG SET tls-auth-clients yes >/dev/null
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-pop
	rcli CONFIG SET tls-auth-clients no >/dev/null
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': TLS: the server wants a client certificate (tls-auth-clients yes), which ciq does not support"
	[ "$(ms_since "$start")" -lt 3000 ]
}

@test "a server that only asks for a client certificate is served without one" {
	rcli CONFIG SET tls-auth-clients optional >/dev/null
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	green_build
	rcli CONFIG SET tls-auth-clients no >/dev/null
}

# --- passwords and users ------------------------------------------------------------

@test "a wrong password over TLS exits 78: authentication failed, the password unsaid" {
	export CIQ_QUEUE="rediss://:wrong-s3cret@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot log in to 'rediss://:***@localhost:$TLS_PORT': authentication failed: WRONGPASS invalid username-password pair or user is disabled."
	no_secret "$stderr"
}

@test "a wrong CIQ_PASSWORD over TLS exits 78 without printing it" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=wrong-s3cret
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: cannot log in to 'rediss://localhost:$TLS_PORT': authentication failed: WRONGPASS invalid username-password pair or user is disabled."
	no_secret "$stderr"
}

@test "no password for a server that wants one exits 78 and asks for one" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: cannot log in to 'rediss://localhost:$TLS_PORT': the server requires a password: set CIQ_PASSWORD or put it in the URL"
}

@test "an ACL user and password in a rediss:// URL log in" {
	export CIQ_QUEUE="rediss://ciq:$ACL_PW@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	green_build
}

@test "CIQ_USER and CIQ_PASSWORD log in as an ACL user over TLS" {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_USER=ciq CIQ_PASSWORD=$ACL_PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	green_build
}

@test "an ACL user with the wrong password exits 78" {
	export CIQ_QUEUE="rediss://ciq:$PW@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot log in to 'rediss://ciq:***@localhost:$TLS_PORT': authentication failed: WRONGPASS invalid username-password pair or user is disabled."
	no_secret "$stderr"
}

@test "ciq-env shows a rediss:// URL and CIQ_PASSWORD with the passwords hidden" {
	export CIQ_QUEUE="rediss://ciq:$ACL_PW@localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	run --separate-stderr ciq-env
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_line "CIQ_QUEUE='rediss://ciq:***@localhost:$TLS_PORT'  # CIQ_QUEUE"
	assert_line "CIQ_PASSWORD='***'  # CIQ_PASSWORD"
	no_secret "$output"
	run --separate-stderr ciq-env --json
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_equal "$(jq -r .queue <<<"$output")" "rediss://ciq:***@localhost:$TLS_PORT"
	no_secret "$output"
	run --separate-stderr ciq-env --export
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_line "# CIQ_QUEUE is not exported: it holds a password"
	assert_line "# CIQ_PASSWORD is not exported: it holds a password"
	no_secret "$output"
}

@test "the password is on no command line: a waiting ciq-report's argv holds none" {
	export CIQ_QUEUE="rediss://ciq:$ACL_PW@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	populate a
	assert_equal "$(ciq-pop)" a
	# a is running: the report waits, connected, until it is acked.
	ciq-report >"$BATS_TEST_TMPDIR/report" 2>"$BATS_TEST_TMPDIR/report.err" 3>&- &
	local pid=$!
	wait_for 100 sh -c 'redis-cli -s "$1" CLIENT LIST | grep "cmd=evalsha" | grep -q "user=ciq "' sh "$REDIS_SOCK"
	assert_equal "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "ciq-report "
	run ciq-ack -- a
	assert_equal "$status" 0
	local rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/report.err")" ''
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/report")" "PASSED: 1 tests, 1 passed, 0 skipped"
	no_secret "$(cat "$BATS_TEST_TMPDIR/report")"
	# Nor did the server log it.
	no_secret "$(cat "$TLS_DIR/log")"
}

# --- the wrong scheme for a port --------------------------------------------------

@test "redis:// to the TLS port fails at once, naming rediss://, not after the reconnect budget" {
	export CIQ_QUEUE="redis://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-pop --command-timeout 3
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'redis://localhost:$TLS_PORT': the server speaks TLS on this port: use a rediss:// URL"
	[ "$(ms_since "$start")" -lt 3000 ]
}

@test "redis:// to the TLS port without a password: the same, from the first script call" {
	export CIQ_QUEUE="redis://localhost:$TLS_PORT"
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-populate --command-timeout 3 < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-populate: cannot connect to 'redis://localhost:$TLS_PORT': the server speaks TLS on this port: use a rediss:// URL"
	[ "$(ms_since "$start")" -lt 3000 ]
}

@test "rediss:// to a plain port fails within the connect timeout, naming redis://" {
	export CIQ_QUEUE="rediss://localhost:$PLAIN_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-pop --connect-timeout 3
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$PLAIN_PORT': TLS handshake failed: the server does not speak TLS on this port: use a redis:// URL"
	[ "$(ms_since "$start")" -lt 3000 ]
}

@test "a closed port is unreachable over rediss:// too" {
	export CIQ_QUEUE="rediss://u:s3cret@127.0.0.1:1"
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://u:***@127.0.0.1:1': Connection refused"
}

# --- TLS sessions, saved by one tool and resumed by the next -------------------------

# need_strace: the handshakes are seen in what the tool sends and receives,
# through strace; a machine without it, or one that forbids ptrace, skips.
need_strace() {
	if ! command -v strace >/dev/null || ! strace -o /dev/null true 2>/dev/null; then
		skip "needs strace (apt-get install strace), allowed to trace"
	fi
}

# strace_tool NAME TOOL ARGS...: TOOL under strace, which writes what it
# sends and receives to NAME.trace. The leak checker of a sanitized build
# cannot run under ptrace: it is off there.
strace_tool() {
	local name=$1
	shift
	env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -o "$BATS_TEST_TMPDIR/$name.trace" -e trace=sendto,recvfrom -xx -s 65536 "$@"
}

# traced NAME TOOL ARGS...: strace_tool as `run --separate-stderr` runs.
traced() {
	run --separate-stderr strace_tool "$@"
}

# hello NAME...: for each NAME.trace, one line on its first TLS handshake,
# read from the bytes on the wire: "offered" when the ClientHello offers a
# saved session (TLS 1.3's pre_shared_key extension, type 41), else
# "none"; then "resumed" when the server's ServerHello takes it (the same
# extension), else "full".
hello() {
	local n
	for n in "$@"; do
		python3 -c "$HELLO_PY" "$BATS_TEST_TMPDIR/$n.trace"
	done
}

HELLO_PY='
import re
import sys

sent, received = b"", b""
for line in open(sys.argv[1]):
    m = re.match(r"(sendto|recvfrom)\(\d+, \"((?:\\x[0-9a-f]{2})*)\"", line)
    if m:
        data = bytes.fromhex(m.group(2).replace("\\x", ""))
        if m.group(1) == "sendto":
            sent += data
        else:
            received += data


def extensions(stream, kind):
    """The extension types of the hello (1 client, 2 server) that starts
    the stream: a handshake record (22) that holds that message."""
    if len(stream) < 9 or stream[0] != 22 or stream[5] != kind:
        return []
    b = stream[9:]
    p = 2 + 32                 # version, random
    p += 1 + b[p]              # session id
    if kind == 1:              # cipher suites, compression methods
        p += 2 + int.from_bytes(b[p:p + 2], "big")
        p += 1 + b[p]
    else:                      # the chosen suite and compression
        p += 3
    end = p + 2 + int.from_bytes(b[p:p + 2], "big")
    p += 2
    types = []
    while p < end:
        types.append(int.from_bytes(b[p:p + 2], "big"))
        p += 4 + int.from_bytes(b[p + 2:p + 4], "big")
    return types


print("offered" if 41 in extensions(sent, 1) else "none",
      "resumed" if 41 in extensions(received, 2) else "full")
'

# tls_env: a verified rediss:// queue with a password.
tls_env() {
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
}

# session_files: the names of the files in the session directory, one a
# line.
session_files() {
	ls -A "$SESS"
}

# the_session: the path of the one session file.
the_session() {
	local f
	f=$(session_files)
	[[ $f =~ ^tls-[0-9a-f]{32}$ ]] || return 1
	echo "$SESS/$f"
}

# pop_full ID: ciq-pop hands out ID after a full handshake, no session
# offered, and says nothing on stderr.
pop_full() {
	traced pop ciq-pop
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output "$1"
	assert_equal "$(hello pop)" "none full"
}

# pop_resumed ID: the same, with the saved session offered and resumed.
pop_resumed() {
	traced pop ciq-pop
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output "$1"
	assert_equal "$(hello pop)" "offered resumed"
}

@test "a saving tool removes the temporary files of its session that a killed tool left, once over a minute old" {
	tls_env
	populate a b
	local f
	f=$(the_session)
	# What a tool killed between writing and renaming leaves: an old one,
	# and one as young as a tool saving right now has.
	printf 'half' >"$f.AbC123"
	touch -d '2 minutes ago' "$f.AbC123"
	printf 'half' >"$f.XyZ789"
	# Another key's file and a longer name are not this one's.
	printf 'x' >"$SESS/tls-00000000000000000000000000000000.AbC123"
	touch -d '2 minutes ago' "$SESS/tls-00000000000000000000000000000000.AbC123"
	run --separate-stderr ciq-pop
	assert_success
	assert_output a
	assert_equal "$(session_files | LC_ALL=C sort)" \
		"$(printf '%s\n' "${f##*/}" "${f##*/}.XyZ789" tls-00000000000000000000000000000000.AbC123 | LC_ALL=C sort)"
}

@test "a tool resumes the TLS session the one before it saved; the file is 0600, without password or user" {
	need_strace
	rcli ACL SETUSER sessionuser on ">$ACL_PW" '~*' '+@all' >/dev/null
	export CIQ_QUEUE="rediss://sessionuser:$ACL_PW@localhost:$TLS_PORT"
	export CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt
	traced populate ciq-populate --order given < <(printf '%s\n' a b)
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_equal "$(hello populate)" "none full"
	pop_resumed a
	traced ack ciq-ack -- a
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_equal "$(hello ack)" "offered resumed"
	assert_equal "$(result a | cut -d' ' -f1)" p
	# One file, named by a hash, mode 0600 in the 0700 directory.
	run session_files
	assert_output --regexp '^tls-[0-9a-f]{32}$'
	assert_equal "$(stat -c %a "$SESS")" 700
	assert_equal "$(stat -c %a "$(the_session)")" 600
	run grep -caF -e "$PW" -e "$ACL_PW" -e s3cret -e sessionuser "$(the_session)"
	assert_output 0
}

@test "CIQ_TLS_SESSION_CACHE=0 neither saves nor offers a session; a value neither on nor off exits 78" {
	need_strace
	tls_env
	export CIQ_TLS_SESSION_CACHE=0
	populate a b c d
	pop_full a
	CIQ_TLS_SESSION_CACHE=no pop_full b
	[ ! -e "$SESS" ]
	# Empty is the default: on.
	CIQ_TLS_SESSION_CACHE='' pop_full c
	CIQ_TLS_SESSION_CACHE=yes pop_resumed d
	CIQ_TLS_SESSION_CACHE=maybe run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': CIQ_TLS_SESSION_CACHE must be 1 or 0, not 'maybe'"
}

@test "a session file others may read or write is not offered: a full handshake, and a new file" {
	need_strace
	tls_env
	populate a b c d e f g
	local f mode ids=(a b c d e f) n=0
	f=$(the_session)
	for mode in 640 604 620 602 660 644; do
		chmod "$mode" "$f"
		pop_full "${ids[n]}"
		n=$((n + 1))
		# Replaced by the new session, closed to others.
		assert_equal "$(stat -c %a "$f")" 600
	done
	pop_resumed g
}

@test "a session file of another user is not offered" {
	need_strace
	[ "$(id -u)" -eq 0 ] || skip "needs root to give a file away"
	tls_env
	populate a b
	chown nobody "$(the_session)"
	pop_full a
	assert_equal "$(stat -c %U "$(the_session)")" root
	pop_resumed b
}

@test "a symbolic link in place of the session file is not followed, nor written through" {
	need_strace
	tls_env
	populate a b
	local f
	f=$(the_session)
	cp -p "$f" "$BATS_TEST_TMPDIR/target"
	cp -p "$f" "$BATS_TEST_TMPDIR/before"
	ln -sf "$BATS_TEST_TMPDIR/target" "$f"
	pop_full a
	[ ! -L "$f" ]
	[ -f "$f" ]
	cmp "$BATS_TEST_TMPDIR/target" "$BATS_TEST_TMPDIR/before"
	pop_resumed b
}

@test "a session directory open to others, another user's or a link is neither read nor written" {
	need_strace
	tls_env
	populate a b c d e
	local f
	f=$(the_session)
	cp -p "$f" "$BATS_TEST_TMPDIR/before"
	chmod 755 "$SESS"
	pop_full a
	cmp "$f" "$BATS_TEST_TMPDIR/before"
	chmod 700 "$SESS"
	mv "$SESS" "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$SESS"
	pop_full b
	cmp "$BATS_TEST_TMPDIR/real/${f##*/}" "$BATS_TEST_TMPDIR/before"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/real")" "${f##*/}"
	rm "$SESS"
	mv "$BATS_TEST_TMPDIR/real" "$SESS"
	if [ "$(id -u)" -eq 0 ]; then
		chown nobody "$SESS"
		pop_full c
		chown root "$SESS"
		cmp "$f" "$BATS_TEST_TMPDIR/before"
	else
		assert_equal "$(ciq-pop)" c
	fi
	# Trusted again, it still holds a session the server resumes.
	pop_resumed d
	# A directory that cannot be made: nothing saved, nothing said.
	XDG_RUNTIME_DIR=$BATS_TEST_TMPDIR/missing/xdg pop_full e
	[ ! -e "$BATS_TEST_TMPDIR/missing" ]
}

@test "a corrupt, truncated, empty or foreign session file is ignored and replaced" {
	need_strace
	tls_env
	local ids=(a b c d e f g h i j k l m n o p) f good=$BATS_TEST_TMPDIR/good bad n=0
	populate "${ids[@]}"
	f=$(the_session)
	cp -p "$f" "$good"
	for bad in garbage truncated empty magic trailing der other huge; do
		case $bad in
		garbage) head -c 1200 /dev/urandom >"$f" ;;
		truncated) head -c 600 "$good" >"$f" ;;
		empty) : >"$f" ;;
		magic) printf 'ciq-tls-session 1\n' >"$f" ;;
		trailing) { cat "$good" && printf x; } >"$f" ;;
		der) tail -c +19 "$good" >"$f" ;;
		other) { printf 'ciq-tls-session 2\n' && tail -c +19 "$good"; } >"$f" ;;
		huge) { cat "$good" && head -c 70000 /dev/zero; } >"$f" ;;
		esac
		chmod 600 "$f"
		cp "$f" "$BATS_TEST_TMPDIR/bad"
		pop_full "${ids[n]}"
		n=$((n + 1))
		run cmp -s "$f" "$BATS_TEST_TMPDIR/bad"
		assert_failure 1
		pop_resumed "${ids[n]}"
		n=$((n + 1))
	done
}

@test "a FIFO or a directory in place of the session file neither hangs nor fails a tool" {
	need_strace
	tls_env
	populate a b c
	local f
	f=$(the_session)
	rm "$f"
	mkfifo -m 600 "$f"
	traced pop timeout 20 ciq-pop
	assert_equal "$status" 0
	assert_equal "$stderr" ''
	assert_output a
	assert_equal "$(hello pop)" "none full"
	[ -f "$f" ]
	rm "$f"
	mkdir -m 700 "$f"
	pop_full b
	[ -d "$f" ]
	# No temporary file was left behind.
	assert_equal "$(session_files)" "${f##*/}"
}

@test "an expired session is not offered, and is replaced" {
	need_strace
	tls_env
	# The server's tickets live 1 s (and the TLS context is made again:
	# the tickets it gave before are void too).
	rcli CONFIG SET tls-session-cache-timeout 1 >/dev/null
	populate a b
	local f
	f=$(the_session)
	cp "$f" "$BATS_TEST_TMPDIR/before"
	# A lifetime is time passing, not an event to poll for.
	sleep 2
	pop_full a
	run cmp -s "$f" "$BATS_TEST_TMPDIR/before"
	assert_failure 1
	rcli CONFIG SET tls-session-cache-timeout 300 >/dev/null
}

@test "a session saved without verifying is not offered to a tool that verifies, nor one verified otherwise" {
	need_strace
	export CIQ_QUEUE="rediss://localhost:$TLS_PORT" CIQ_PASSWORD=$PW
	# Saved by an insecure tool, for insecure tools (?insecure=1 in the
	# URL is the same setting as CIQ_TLS_INSECURE=1).
	CIQ_TLS_INSECURE=1 populate a b c d e
	CIQ_TLS_INSECURE=1 pop_resumed a
	CIQ_QUEUE="rediss://localhost:$TLS_PORT/?insecure=1" pop_resumed b
	# A verifying tool makes a full handshake, and verifies.
	CIQ_TLS_CA_FILE=$TLS_DIR/ca.crt pop_full c
	assert_equal "$(session_files | wc -l)" 2
	# Against a CA that did not sign the server's certificate, neither
	# session is offered: verification fails, as it would without them.
	CIQ_TLS_CA_FILE=$TLS_DIR/other-ca.crt traced pop ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$(hello pop)" "none full"
	# The same CA file path with another CA in it: not the same settings.
	cp "$TLS_DIR/ca.crt" "$BATS_TEST_TMPDIR/ca.crt"
	CIQ_TLS_CA_FILE=$BATS_TEST_TMPDIR/ca.crt pop_full d
	CIQ_TLS_CA_FILE=$BATS_TEST_TMPDIR/ca.crt pop_resumed e
	cp "$TLS_DIR/other-ca.crt" "$BATS_TEST_TMPDIR/ca.crt"
	CIQ_TLS_CA_FILE=$BATS_TEST_TMPDIR/ca.crt traced pop ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$(hello pop)" "none full"
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://localhost:$TLS_PORT': TLS: certificate verify failed: self-signed certificate in certificate chain (set CIQ_TLS_CA_FILE, or CIQ_TLS_INSECURE=1 for a self-signed server)"
}

@test "a session for a host name is not offered to an address of the same server" {
	need_strace
	tls_env
	populate a b c
	CIQ_QUEUE="rediss://127.0.0.1:$TLS_PORT" pop_full a
	CIQ_QUEUE="rediss://127.0.0.1:$TLS_PORT" pop_resumed b
	assert_equal "$(session_files | wc -l)" 2
	pop_resumed c
}

# session_loop W: worker W pops and acks until the queue is exhausted,
# each tool under strace (pop.W.I and ack.W.I).
session_loop() {
	local w=$1 i=0 t
	while t=$(strace_tool "pop.$w.$i" ciq-pop --worker "$w"); do
		strace_tool "ack.$w.$i" ciq-ack --worker "$w" -- "$t" || return 1
		i=$((i + 1))
	done
}

@test "two loops at once save over each other's sessions, and every handshake resumes" {
	need_strace
	tls_env
	local n=20 p1 p2 rc=0 traces
	seq "$n" | ciq-populate --order given
	session_loop 1 3>&- &
	p1=$!
	session_loop 2 3>&- &
	p2=$!
	wait "$p1" || rc=1
	wait "$p2" || rc=1
	assert_equal "$rc" 0
	assert_equal "$(records results)" "$n"
	# Every tool found a whole session to offer, and the server took it:
	# a file read half-written would have made a full handshake.
	traces=$(cd "$BATS_TEST_TMPDIR" && printf '%s\n' pop.*.trace ack.*.trace | sed 's/\.trace$//')
	assert_equal "$(wc -l <<<"$traces")" $((2 * n + 2))
	# shellcheck disable=SC2086
	run hello $traces
	assert_equal "$(sort -u <<<"$output")" "offered resumed"
	# One file, and no temporary one left.
	the_session
}
