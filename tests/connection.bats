#!/usr/bin/env bats
#
# The connection to the queue server: unreachable servers, URLs and
# passwords, authentication (a second server with a password), database
# selection, foreign keys, a flushed server, the script cache.

load test_helper

# A second server that wants a password, on its own socket.
auth_start() {
	AUTH_DIR=$(mktemp -d /tmp/ciqa.XXXXXX)
	export AUTH_DIR
	export AUTH_SOCK=$AUTH_DIR/sock
	server_start "$AUTH_DIR" --requirepass pw
}

auth_stop() {
	server_stop "${AUTH_DIR:-}"
}

# acli ARGS...: redis-cli on the password server, as the default user.
acli() {
	redis-cli -s "$AUTH_SOCK" --user default --pass pw --no-auth-warning "$@"
}

setup_file() {
	redis_start
	auth_start
}

teardown_file() {
	redis_stop
	auth_stop
}

setup() {
	ciq_setup
	unset CIQ_PASSWORD CIQ_USER
	acli FLUSHALL >/dev/null
}

# ms_since START: milliseconds since START (from date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# --- unreachable servers ------------------------------------------------------

@test "a missing unix socket is unreachable within 5 seconds and the message names the URL" {
	export CIQ_QUEUE=unix:///nonexistent/sock
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-pop
	local ms
	ms=$(ms_since "$start")
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: cannot connect to 'unix:///nonexistent/sock': No such file or directory"
	[ "$ms" -lt 5000 ]
}

@test "a closed TCP port is unreachable" {
	export CIQ_QUEUE=redis://127.0.0.1:1
	local start
	start=$(date +%s%N)
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_equal "$stderr" "ciq-pop: cannot connect to 'redis://127.0.0.1:1': Connection refused"
	[ "$(ms_since "$start")" -lt 5000 ]
}

@test "populate against an unreachable server exits 69 after reading the list" {
	export CIQ_QUEUE=redis://127.0.0.1:1
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_equal "$stderr" "ciq-populate: cannot connect to 'redis://127.0.0.1:1': Connection refused"
}

@test "a password in the URL is never printed" {
	export CIQ_QUEUE='redis://user:s3cret@127.0.0.1:1'
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_output ''
	[[ $stderr == *'***'* ]]
	[[ $stderr != *s3cret* ]]
	assert_equal "$stderr" "ciq-pop: cannot connect to 'redis://user:***@127.0.0.1:1': Connection refused"
}

@test "a password-only URL, a password with @ and a ?password= are never printed" {
	local url
	for url in 'redis://:s3cret@127.0.0.1:1' 'redis://s3cret@127.0.0.1:1' \
		'redis://u:s3c@ret@127.0.0.1:1' 'redis://127.0.0.1:1/?password=s3cret' \
		'redis://127.0.0.1:1?db=2&password=s3cret&user=u' "unix:///nonexistent/sock?password=s3cret"; do
		CIQ_QUEUE=$url run --separate-stderr ciq-pop
		echo "$url -> $stderr"
		assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
		[[ $stderr == *'***'* ]]
		[[ $stderr != *s3cret* && $stderr != *ret@* ]]
	done
}

@test "CIQ_PASSWORD is never printed" {
	export CIQ_QUEUE=redis://127.0.0.1:1 CIQ_PASSWORD=s3cret
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	[[ $stderr != *s3cret* ]]
}

@test "a URL of another scheme is a configuration error" {
	export CIQ_QUEUE=http://x
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid queue URL: unknown scheme: expected redis://, rediss:// or unix://"
}

@test "an invalid URL with a password does not print it" {
	local url
	for url in 'http://u:s3cret@x' 'redis://u:s3cret@host:99999' 'redis://u:s3cret@host?bogus=1'; do
		CIQ_QUEUE=$url run --separate-stderr ciq-pop
		echo "$url -> $stderr"
		assert_equal "$status" "$CIQ_EX_CONFIG"
		[[ $stderr != *s3cret* ]]
	done
}

@test "an unreachable rediss:// server exits 69 and hides the password" {
	export CIQ_QUEUE='rediss://u:s3cret@127.0.0.1:1'
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_UNAVAILABLE"
	assert_equal "$stderr" "ciq-pop: cannot connect to 'rediss://u:***@127.0.0.1:1': Connection refused"
}

# --- authentication -----------------------------------------------------------

@test "populate without a password exits 78 and asks for one" {
	export CIQ_QUEUE="unix://$AUTH_SOCK"
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-populate: cannot log in to 'unix://$AUTH_SOCK': the server requires a password: set CIQ_PASSWORD or put it in the URL"
	assert_equal "$(acli DBSIZE)" 0
}

@test "pop without a password exits 78 and asks for one" {
	# BUG: pop's EVALSHA has 19 arguments; Redis refuses a multibulk of
	# more than 10 from an unauthenticated client with "ERR Protocol
	# error: unauthenticated multibulk length" instead of NOAUTH, and
	# lib/conn.c only recognises NOAUTH: ciq-pop exits 70.
	printf 'a\n' | CIQ_QUEUE="unix://$AUTH_SOCK" CIQ_PASSWORD=pw ciq-populate
	export CIQ_QUEUE="unix://$AUTH_SOCK"
	run --separate-stderr ciq-pop
	echo "$stderr"
	assert_equal "$status" "$CIQ_EX_CONFIG"
	[[ $stderr == *password* ]]
}

@test "a wrong password in the URL exits 78: authentication failed" {
	export CIQ_QUEUE="unix://$AUTH_SOCK?password=bad"
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: cannot log in to 'unix://$AUTH_SOCK?password=***': authentication failed: WRONGPASS invalid username-password pair or user is disabled."
}

@test "a wrong CIQ_PASSWORD exits 78 without printing it" {
	export CIQ_QUEUE="unix://$AUTH_SOCK" CIQ_PASSWORD=wrongpw
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_equal "$status" "$CIQ_EX_CONFIG"
	[[ $stderr == *"authentication failed"* ]]
	[[ $stderr != *wrongpw* ]]
}

@test "CIQ_PASSWORD logs in: populate and pop work" {
	export CIQ_QUEUE="unix://$AUTH_SOCK" CIQ_PASSWORD=pw
	run --separate-stderr ciq-populate --order given < <(printf '%s\n' a b)
	assert_success
	assert_equal "$stderr" ''
	run --separate-stderr ciq-pop
	assert_success
	assert_output a
	assert_equal "$stderr" ''
	assert_equal "$(acli HGET "$(key owner)" a | cut -d" " -f1)" 0
}

@test "a password in the URL logs in" {
	export CIQ_QUEUE="unix://$AUTH_SOCK?password=pw"
	run ciq-populate < <(printf 'a\n')
	assert_success
	run ciq-pop
	assert_success
	assert_output a
}

@test "an ACL user and password in the URL log in" {
	acli ACL SETUSER ciq on '>pw2' '~*' '+@all' >/dev/null
	export CIQ_QUEUE="unix://$AUTH_SOCK?user=ciq&password=pw2"
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_success
	assert_equal "$stderr" ''
	run --separate-stderr ciq-pop
	assert_success
	assert_output a
	assert_equal "$stderr" ''
	run --separate-stderr ciq-ack -- a
	assert_success
}

@test "CIQ_USER and CIQ_PASSWORD log in as an ACL user" {
	acli ACL SETUSER ciq on '>pw2' '~*' '+@all' >/dev/null
	export CIQ_QUEUE="unix://$AUTH_SOCK" CIQ_USER=ciq CIQ_PASSWORD=pw2
	run ciq-populate < <(printf 'a\n')
	assert_success
	run ciq-pop
	assert_success
	assert_output a
}

@test "an ACL user with the wrong password exits 78" {
	acli ACL SETUSER ciq on '>pw2' '~*' '+@all' >/dev/null
	export CIQ_QUEUE="unix://$AUTH_SOCK?user=ciq&password=pw"
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: cannot log in to 'unix://$AUTH_SOCK?user=ciq&password=***': authentication failed: WRONGPASS invalid username-password pair or user is disabled."
}

@test "an ACL user that may not push ids fails populate naming the server's refusal" {
	acli ACL SETUSER nopush on '>pw3' '~*' '+@all' '-rpush' >/dev/null
	export CIQ_QUEUE="unix://$AUTH_SOCK?user=nopush&password=pw3"
	run --separate-stderr ciq-populate < <(printf 'a\n')
	assert_output ''
	assert_equal "$stderr" "ciq-populate: the server refused the ids of build '$CIQ_BUILD': NOPERM this user has no permissions to run the 'rpush' command: nothing was published"
	# 69 today; 70 ("unexpected reply") would fit ciq(7) as well.
	[ "$status" -eq "$CIQ_EX_UNAVAILABLE" ] || [ "$status" -eq "$CIQ_EX_SOFTWARE" ]
	assert_equal "$(acli EXISTS "$(key meta)")" 0
}

# --- database selection -------------------------------------------------------

@test "?db=3 puts the keys in database 3" {
	export CIQ_QUEUE="unix://$REDIS_SOCK?db=3"
	run ciq-populate < <(printf '%s\n' a b)
	assert_success
	local k want=()
	for k in $PUBLISHED_KEYS; do want+=("$(key "$k")"); done
	want+=('ciq:timing:{}:seen')
	assert_equal "$(rcli -n 3 KEYS '*' | sort)" "$(printf '%s\n' "${want[@]}" | sort)"
	assert_equal "$(rcli -n 0 DBSIZE)" 0
	run ciq-pop
	assert_success
	assert_equal "$(rcli -n 3 HGET "$(key owner)" "$output" | cut -d" " -f1)" 0
	# The same build in database 0 does not exist.
	CIQ_QUEUE="unix://$REDIS_SOCK" run ciq-pop
	assert_equal "$status" "$CIQ_EX_VANISHED"
}

@test "?db= with a password selects after logging in" {
	export CIQ_QUEUE="unix://$AUTH_SOCK?db=2&password=pw"
	run ciq-populate < <(printf 'a\n')
	assert_success
	# The build's keys and its namespace's lists (ciq:timing:{}:seen).
	assert_equal "$(acli -n 2 DBSIZE)" "$(($(wc -w <<<"$PUBLISHED_KEYS") + 1))"
	assert_equal "$(acli -n 0 DBSIZE)" 0
}

@test "a database that does not exist is refused" {
	export CIQ_QUEUE="unix://$REDIS_SOCK?db=99"
	run --separate-stderr ciq-pop
	echo "$stderr"
	[[ $stderr == *"cannot select database 99"* ]]
	[ "$status" -ne 0 ]
}

@test "a bad ?db= is a configuration error" {
	export CIQ_QUEUE="unix://$REDIS_SOCK?db=x"
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid queue URL: bad database number in ?db="
}

# --- what another program or the server did -----------------------------------

@test "a key of the wrong type makes pop exit 70 naming the prefix" {
	printf '%s\n' a b | ciq-populate
	rcli SET "$(key running)" x >/dev/null
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_output ''
	[[ $stderr == "ciq-pop: a key under '$(key '')' holds the wrong type of value (written by another program?): WRONGTYPE "* ]]
	[[ $stderr == *"wrong type"* ]]
}

@test "a number of meta that another program made text makes pop and ack exit 70, nothing handed out" {
	printf '%s\n' a b | ciq-populate --order given
	rcli HSET "$(key meta)" max_failures abc >/dev/null
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_output ''
	[[ $stderr == "ciq-pop: the server refused a script: ERR user_script:"*": attempt to perform arithmetic on a string value script: "* ]]
	assert_equal "$(queue)" "a
b"
	rcli HSET "$(key meta)" max_failures 0 waiting x >/dev/null
	assert_equal "$(ciq-pop)" a
	run --separate-stderr ciq-ack -- a
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	assert_output ''
	[[ $stderr == "ciq-ack: the server refused a script: ERR user_script:"*": attempt to perform arithmetic on a string value script: "* ]]
}

@test "a queue of the wrong type makes a follower's populate exit 70" {
	printf '%s\n' a b | ciq-populate
	rcli DEL "$(key workers)" >/dev/null
	rcli SET "$(key workers)" x >/dev/null
	run --separate-stderr ciq-populate --worker 1 < <(printf '%s\n' a b)
	assert_equal "$status" "$CIQ_EX_SOFTWARE"
	[[ $stderr == *"wrong type"* ]]
}

@test "a server flushed mid-build makes pop exit 82" {
	printf '%s\n' a b | ciq-populate
	ciq-pop >/dev/null
	rcli FLUSHALL >/dev/null
	run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_VANISHED"
	assert_output ''
	assert_equal "$stderr" "ciq-pop: no queue for build '$CIQ_BUILD': never populated, or its keys expired, were evicted or flushed"
}

@test "after SCRIPT FLUSH pop still works (EVAL on NOSCRIPT)" {
	printf '%s\n' a b | ciq-populate --order given
	rcli SCRIPT FLUSH >/dev/null
	run --separate-stderr ciq-pop
	assert_success
	assert_output a
	assert_equal "$stderr" ''
	# The fallback cached the script under the embedded SHA.
	assert_equal "$(rcli SCRIPT EXISTS "$(embedded_sha pop)")" 1
	run ciq-pop
	assert_output b
}

@test "after SCRIPT FLUSH populate still works" {
	rcli SCRIPT FLUSH >/dev/null
	run ciq-populate < <(printf 'a\n')
	assert_success
	assert_equal "$(rcli HGET "$(key meta)" status)" ready
}

# embedded_sha NAME: the SHA1 the build embedded for lua/NAME.lua.
embedded_sha() {
	local out=build
	[[ $CIQ_BIN == */bin-san ]] && out=build-san
	sed -n "s/.*ciq_lua_$1_sha\[\] = \"\([0-9a-f]*\)\";/\1/p" "$CIQ_ROOT/$out/lua/$1.h"
}

@test "the embedded script SHA is the server's SHA of prelude and script" {
	local name sha
	for name in elect publish join pop ack requeue release status; do
		sha=$(embedded_sha "$name")
		[ -n "$sha" ]
		# -x: the bytes as they are; "$(cat ...)" would drop the final newline.
		assert_equal "$(cat "$CIQ_ROOT/lua/prelude.lua" "$CIQ_ROOT/lua/$name.lua" | rcli -x SCRIPT LOAD)" "$sha"
	done
}
