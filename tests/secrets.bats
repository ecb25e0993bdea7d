#!/usr/bin/env bats
#
# No output of any tool shows a password, whatever the queue URL looks
# like: a mistyped scheme, a misspelt option, a forgotten host. ciq-env
# prints the URL redacted (plain, --export, --json) and so do the error
# messages of the tools that connect. The password of every shape here is
# $PW, which no redacted form may contain, not even in part.

load test_helper

setup_file() { redis_start; }
teardown_file() { redis_stop; }

PW=Hunter2Secret

setup() {
	ciq_setup
	# Nothing is listening on port 1: a URL that parses fails at once.
	export CIQ_CONNECT_TIMEOUT=0.5 CIQ_RECONNECT_TIMEOUT=0.1
}

# Every shape holds $PW where a password may be meant to be.
SHAPES=(
	"redis://:$PW@127.0.0.1:1"
	"redis://u:$PW@127.0.0.1:1"
	"redis://$PW@127.0.0.1:1"
	"redis:/:$PW@127.0.0.1:1"
	"redis//:$PW@127.0.0.1:1"
	"rediss//u:$PW@127.0.0.1:1"
	"rediss:/u:$PW@127.0.0.1:1"
	"redis:///:$PW@127.0.0.1:1"
	"redis::$PW@127.0.0.1:1"
	"redis:$PW@127.0.0.1:1"
	"REDIS://u:$PW@127.0.0.1:1"
	"redis ://u:$PW@127.0.0.1:1"
	" redis://u:$PW@127.0.0.1:1"
	"http://:$PW@127.0.0.1:1"
	"//u:$PW@127.0.0.1:1"
	":$PW@127.0.0.1:1"
	"$PW@127.0.0.1:1"
	"u:$PW@127.0.0.1:1"
	"redis://:$PW"
	"redis://u:$PW"
	"redis://u:$PW/0"
	"redis://:pa/$PW@127.0.0.1:1"
	"redis://:pa@$PW@127.0.0.1:1"
	"redis://u:$PW@127.0.0.1:1/0"
	"redis://u:$PW@[::1]:1"
	"redis://127.0.0.1:1/$PW"
	"redis://127.0.0.1:1?password=$PW"
	"redis://127.0.0.1:1/?passwd=$PW"
	"redis://127.0.0.1:1?pass=$PW"
	"redis://127.0.0.1:1?pwd=$PW&db=1"
	"redis://127.0.0.1:1?db=1&Password=$PW"
	"redis://127.0.0.1:1?token=$PW"
	"redis://127.0.0.1:1?db=$PW"
	"redis://127.0.0.1:1?insecure=$PW"
	"redis://127.0.0.1:1?user=u:$PW"
	"unix:///nonexistent/sock?password=$PW"
	"unix:///nonexistent/sock?passwd=$PW"
	"unix:/nonexistent/sock?pass=$PW"
	"unix://:$PW@/nonexistent/sock"
	"unix:///nonexistent/u:$PW@sock"
)

# no_pw WHAT: neither $output nor $stderr holds the password or a part of
# it as long as its first or last 4 bytes.
no_pw() {
	local all="$output"$'\n'"${stderr:-}"
	if [[ $all == *"$PW"* || $all == *"${PW:0:4}"* || $all == *"${PW: -4}"* ]]; then
		fail "$1 shows the password: $all"
	fi
}

# ciq_env ARGS...: ciq-env in an environment of CIQ_* variables only.
ciq_env() {
	env -i CIQ_BUILD=b CIQ_WORKER=0 ${CIQ_QUEUE+CIQ_QUEUE="$CIQ_QUEUE"} \
		${CIQ_PASSWORD+CIQ_PASSWORD="$CIQ_PASSWORD"} ${REDIS_URL+REDIS_URL="$REDIS_URL"} \
		"$CIQ_BIN/ciq-env" "$@"
}

@test "ciq-env shows no password of any shape: plain, --export, --json, --check" {
	local url mode
	for url in "${SHAPES[@]}"; do
		for mode in "" --export --json --check; do
			CIQ_QUEUE=$url run --separate-stderr ciq_env $mode
			no_pw "ciq-env $mode '$url'"
		done
		REDIS_URL=$url run --separate-stderr ciq_env
		no_pw "ciq-env REDIS_URL='$url'"
		run --separate-stderr ciq_env --queue "$url" --json
		no_pw "ciq-env --queue '$url'"
	done
}

@test "the tools that connect show no password of any shape in their errors" {
	local url tool
	for url in "${SHAPES[@]}"; do
		for tool in ciq-pop ciq-report ciq-ack ciq-release; do
			CIQ_QUEUE=$url run --separate-stderr timeout 10 "$tool" a
			[ "$status" -ne 0 ] || fail "$tool '$url' succeeded"
			[ "$status" -ne 124 ] || fail "$tool '$url' timed out"
			no_pw "$tool '$url'"
		done
		CIQ_QUEUE=$url run --separate-stderr timeout 10 ciq-populate < <(echo a)
		[ "$status" -ne 0 ] || fail "ciq-populate '$url' succeeded"
		no_pw "ciq-populate '$url'"
	done
}

@test "CIQ_PASSWORD is never shown, in any mode of ciq-env or any error" {
	export CIQ_PASSWORD=$PW
	local mode
	for mode in "" --export --json --check; do
		CIQ_QUEUE=unix:///x run --separate-stderr ciq_env $mode
		no_pw "ciq-env $mode"
	done
	CIQ_QUEUE=unix:///x run --separate-stderr ciq_env
	assert_line "CIQ_PASSWORD='***'  # CIQ_PASSWORD"
	CIQ_QUEUE=unix:///x run --separate-stderr ciq_env --export
	assert_line "# CIQ_PASSWORD is not exported: it holds a password"
	# The test server wants no password: AUTH is refused.
	run --separate-stderr ciq-pop
	[ "$status" -ne 0 ]
	no_pw ciq-pop
	CIQ_QUEUE=redis://127.0.0.1:1 run --separate-stderr ciq-report
	no_pw ciq-report
}

@test "a mistyped scheme: the URL is shown with *** for the password, exactly" {
	CIQ_QUEUE="redis:/:$PW@127.0.0.1" run --separate-stderr ciq_env
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_line --index 0 "CIQ_QUEUE='redis:/:***@127.0.0.1'  # CIQ_QUEUE"
	assert_equal "$stderr" "ciq-env: invalid CIQ_QUEUE 'redis:/:***@127.0.0.1': unknown scheme: expected redis://, rediss:// or unix://"

	CIQ_QUEUE="rediss//u:$PW@cache.example.com:6380" run --separate-stderr ciq_env --json
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$(jq -r .queue <<<"$output")" "rediss//u:***@cache.example.com:6380"
	assert_equal "$stderr" "ciq-env: invalid CIQ_QUEUE 'rediss//u:***@cache.example.com:6380': unknown scheme: expected redis://, rediss:// or unix://"

	CIQ_QUEUE="redis//:$PW@h" run --separate-stderr ciq_env --export
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_line --index 0 "# CIQ_QUEUE is not exported: it holds a password"
	assert_equal "$stderr" "ciq-env: invalid CIQ_QUEUE 'redis//:***@h': unknown scheme: expected redis://, rediss:// or unix://"

	CIQ_QUEUE="redis:/:$PW@127.0.0.1" run --separate-stderr ciq-pop
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$stderr" "ciq-pop: invalid queue URL: unknown scheme: expected redis://, rediss:// or unix://"
}

@test "a misspelt option is *** whole, name and value: only db, insecure and user values are shown" {
	CIQ_QUEUE="redis://h:6379/2?passwd=$PW&db=1&insecure=1&pass=$PW&user=ci" run --separate-stderr ciq_env --json
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_equal "$(jq -r .queue <<<"$output")" "redis://h:6379/2?***&db=1&insecure=1&***&user=ci"
	assert_equal "$stderr" "ciq-env: invalid CIQ_QUEUE 'redis://h:6379/2?***&db=1&insecure=1&***&user=ci': unknown option in the query: expected db, insecure, user or password (percent-encode '&' and '=' in a value)"

	CIQ_QUEUE="redis://h?db=$PW&insecure=$PW&token=$PW" run --separate-stderr ciq_env
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_line --index 0 "CIQ_QUEUE='redis://h?db=***&insecure=***&***'  # CIQ_QUEUE"
}

@test "a forgotten host: what stands where the port should be is ***" {
	CIQ_QUEUE="redis://u:$PW" run --separate-stderr ciq_env
	assert_equal "$status" "$CIQ_EX_CONFIG"
	assert_line --index 0 "CIQ_QUEUE='redis://u:***'  # CIQ_QUEUE"
	assert_equal "$stderr" "ciq-env: invalid CIQ_QUEUE 'redis://u:***': bad port"

	CIQ_QUEUE="redis://:$PW" run --separate-stderr ciq_env
	assert_line --index 0 "CIQ_QUEUE='redis://:***'  # CIQ_QUEUE"
}

@test "a valid URL is shown as before: user, hosts, port, db and plain options" {
	CIQ_QUEUE="redis://ci:$PW@10.0.0.1:7000/3?insecure=1&db=3" run --separate-stderr ciq_env --json
	assert_equal "$(jq -r .queue <<<"$output")" "redis://ci:***@10.0.0.1:7000/3?insecure=1&db=3"
	CIQ_QUEUE="unix:///run/redis/redis.sock?db=2&password=$PW" run --separate-stderr ciq_env --json
	assert_equal "$(jq -r .queue <<<"$output")" "unix:///run/redis/redis.sock?db=2&password=***"
	CIQ_QUEUE="redis://[::1]:6379" run --separate-stderr ciq_env --export
	assert_line --index 0 "export CIQ_QUEUE='redis://[::1]:6379'"
}

@test "the parser's message names no part of a password cut by a raw & or ?" {
	local url
	for url in "redis://h?password=x&$PW" "redis://h?password=x&$PW=1" "redis://:x?$PW@h"; do
		CIQ_QUEUE=$url run --separate-stderr ciq_env
		no_pw "ciq-env '$url'"
		CIQ_QUEUE=$url run --separate-stderr ciq-pop
		no_pw "ciq-pop '$url'"
	done
}
