#!/usr/bin/env bats
#
# rediss:// - TLS to a private redis-server whose certificate comes from a
# CA made here: verification (CA file, system store, host names, SNI),
# insecure mode, passwords and ACL users over TLS, and the wrong scheme
# for a port in either direction.
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
	unset CIQ_PASSWORD CIQ_USER CIQ_TLS_CA_FILE CIQ_TLS_INSECURE SSL_CERT_FILE SSL_CERT_DIR
	S_PID=
}

teardown() {
	if [ -n "${S_PID:-}" ]; then
		kill "$S_PID" 2>/dev/null || true
	fi
	# A test that changed it and failed half-way must not fail the next.
	rcli CONFIG SET tls-auth-clients no >/dev/null
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
	export CIQ_TLS_INSECURE=maybe CIQ_TLS_CA_FILE=/nonexistent
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
