#!/usr/bin/env bats
#
# Redis Cluster: a real local cluster of Debian's redis-server, 3 masters
# and 3 replicas on 127.0.0.1, with a password on every node (so every
# redirect is followed with AUTH). The tools must follow MOVED and ASK,
# wait out TRYAGAIN and CLUSTERDOWN, find the other nodes when one dies,
# and the report must never be green when a result is missing. The TLS
# test makes a second, smaller cluster of its own.

load test_helper
load cluster_helper

PW=cluster-s3cret-pw
CLUSTER_ARGS=(--requirepass "$PW" --masterauth "$PW")
CLUSTER_CLI="-a $PW"

setup_file() {
	CLUSTER_DIR=$(mktemp -d /tmp/ciqc.XXXXXX)
	export CLUSTER_DIR
	cluster_start "$CLUSTER_DIR" 6 1
}

teardown_file() {
	cluster_stop "${CLUSTER_DIR:-}"
}

setup() {
	export CIQ_BUILD="c$BATS_TEST_NUMBER-$RANDOM"
	export CIQ_WORKER=0 CIQ_HEARTBEAT=0 CIQ_TIMEOUT=2 CIQ_RECONNECT_TIMEOUT=30
	unset CIQ_NAMESPACE CIQ_MAX_REQUEUES CIQ_REQUEUE_TOLERANCE REDIS_URL CIQ_PASSWORD CIQ_USER
	unset BUILDKITE CIRCLECI TRAVIS HEROKU_TEST_RUN_ID SEMAPHORE GITHUB_ACTIONS \
		GITLAB_CI BITBUCKET_BUILD_NUMBER TF_BUILD JENKINS_URL CI_NODE_INDEX
	make_ids 60
	# A test that takes a little while, so a build lasts long enough
	# for the cluster to change under it.
	printf '#!/bin/sh\nsleep 0.02\n' >"$BATS_TEST_TMPDIR/slow"
	chmod +x "$BATS_TEST_TMPDIR/slow"
}

teardown() {
	local pid
	for pid in "${WPIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	cluster_stop "${TLS_CLUSTER_DIR:-}"
}

# make_ids N: the test list, t1 to tN, in $BATS_TEST_TMPDIR/ids.
make_ids() {
	N=$1
	seq "$N" | sed 's/^/t/' >"$BATS_TEST_TMPDIR/ids"
}

# cc ARGS...: a command on the cluster, following redirects.
cc() {
	ccli "$(live_port)" -c "$@"
}

# node_id PORT, masters: the node id of a node; the ports of the masters.
node_id() {
	ccli "$1" cluster myid
}
masters() {
	ccli "$(live_port)" cluster nodes | awk '$3 ~ /master/ && $3 !~ /fail/ {
		split($2, a, "[:@]"); print a[2] }' | sort
}

# replica_of PORT: the port of a replica of the master on PORT.
replica_of() {
	local id
	id=$(node_id "$1")
	ccli "$(live_port)" cluster nodes | awk -v id="$id" '$4 == id && $3 !~ /fail/ {
		split($2, a, "[:@]"); print a[2]; exit }'
}

# build_owner: the port of the master serving the current build's slot.
build_owner() {
	owner_of "$(slot_of "$(key queue)")"
}

# url PORT...: the queue URL for these seed nodes, with the password.
url() {
	local IFS=, hosts=() p
	for p in "$@"; do
		hosts+=("127.0.0.1:$p")
	done
	echo "redis://:$PW@${hosts[*]}"
}

# start_workers W RUNNER: W worker loops in the background, each
# populating first (one of them publishes); their pids in WPIDS.
start_workers() {
	local w
	WPIDS=()
	for w in $(seq "$1"); do
		(ciq-populate --worker "$w" --order "${ORDER:-random}" <"$BATS_TEST_TMPDIR/ids" &&
			worker_loop "$w" "$2") >"$BATS_TEST_TMPDIR/worker.$w.log" 2>&1 3>&- &
		WPIDS+=($!)
	done
}

# wait_workers: every worker loop ended (bounded: 60 s), each with status 0.
wait_workers() {
	local pid rc=0 alive
	for _ in $(seq 1200); do
		alive=0
		for pid in "${WPIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.05
	done
	for pid in "${WPIDS[@]}"; do
		wait "$pid" || rc=1
	done
	WPIDS=()
	if [ "$rc" != 0 ]; then
		tail -n 5 "$BATS_TEST_TMPDIR"/worker.*.log >&2
	fi
	return "$rc"
}

# errors PORT KIND: how many KIND error replies (ASK, TRYAGAIN, MOVED)
# the node gave since its stats were reset.
errors() {
	ccli "$1" info errorstats | tr -d '\r' |
		awk -F'[=:]' -v k="errorstat_$2" '$1 == k { n = $3 } END { print n + 0 }'
}

# asked PORT: the node has answered ASK since its stats were reset.
asked() {
	[ "$(errors "$1" ASK)" -gt 0 ]
}

# results: how many ids of the current build have a result (the hash's
# marker field, named "", is not one: lua/prelude.lua).
results() {
	echo $(($(cc HLEN "$(key results)") - $(cc HEXISTS "$(key results)" "")))
}

# at_least N: the build has N results or more (for wait_for).
at_least() {
	[ "$(results)" -ge "$1" ]
}

# assert_green W: every id has exactly one result, counted once, and the
# report says so and exits 0.
assert_green() {
	[ "$(results)" = "$N" ]
	# shellcheck disable=SC2046
	[ "$(cc HMGET "$(key results)" $(cat "$BATS_TEST_TMPDIR/ids") | grep -c .)" = "$N" ]
	[ "$(passes)" = "$N" ]
	run ciq-report --no-wait
	assert_success
	assert_line --index 0 "ciq: build $CIQ_BUILD: $N tests, $N with a result, $1 workers"
	assert_line --index 1 --regexp "^  passed $N, failed 0, skipped 0, flaky 0, requeued 0, reclaimed [0-9]+, never run 0$"
	assert_line --index -1 "PASSED: $N tests, $N passed, 0 skipped"
}

@test "workers and the report through a node that does not serve the build's slot, ordered by timing" {
	local owner other p
	export CIQ_NAMESPACE=timed ORDER=timing
	for build in one two; do
		export CIQ_BUILD="$build-$RANDOM"
		owner=$(build_owner)
		other=$(masters | grep -vx "$owner" | head -1)
		[ -n "$owner" ] && [ -n "$other" ]
		export CIQ_QUEUE=$(url "$other")
		start_workers 3 true
		wait_workers
		assert_green 3
	done
	# The history of the namespace lives in a slot of its own, written by
	# the first report and read by the second build's populate.
	[ "$(cc HLEN 'ciq:timing:{timed}')" = "$N" ]
	p=$(owner_of "$(slot_of 'ciq:timing:{timed}')")
	[ -n "$p" ]
}

@test "a seed list whose first seed is down" {
	local down
	down=$(cluster_ports 1)
	export CIQ_QUEUE=$(url "$down" $(masters))
	start_workers 2 true
	wait_workers
	assert_green 2

	# Every seed down: exit 69, naming the last node tried.
	CIQ_QUEUE=$(url "$down") run ciq-pop
	assert_failure "$CIQ_EX_UNAVAILABLE"
	assert_output "ciq-pop: cannot connect to 'redis://:***@127.0.0.1:$down': Connection refused"
}

@test "a URL naming a replica: it redirects to its master" {
	local replica
	replica=$(replica_of "$(build_owner)")
	[ -n "$replica" ]
	export CIQ_QUEUE=$(url "$replica")
	start_workers 2 true
	wait_workers
	assert_green 2
}

@test "the password is sent on every node a redirect leads to; database 0 only" {
	local other
	other=$(masters | grep -vx "$(build_owner)" | head -1)
	# Without it: refused, exit 78, the password never shown.
	CIQ_QUEUE="redis://127.0.0.1:$other" run ciq-populate <"$BATS_TEST_TMPDIR/ids"
	assert_failure "$CIQ_EX_CONFIG"
	assert_output "ciq-populate: cannot log in to 'redis://127.0.0.1:$other': the server requires a password: set CIQ_PASSWORD or put it in the URL"
	# From CIQ_PASSWORD, through a redirect.
	export CIQ_QUEUE="redis://127.0.0.1:$other" CIQ_PASSWORD=$PW
	run ciq-populate <"$BATS_TEST_TMPDIR/ids"
	assert_success
	run ciq-pop
	assert_success
	assert_output --regexp '^t[0-9]+$'
	# A cluster has database 0 only.
	CIQ_QUEUE="redis://127.0.0.1:$other/2" run ciq-pop
	assert_failure "$CIQ_EX_CONFIG"
	assert_output "ciq-pop: invalid queue URL: cannot select database 2: ERR SELECT is not allowed in cluster mode (a Redis Cluster has database 0 only: drop the /db from the URL)"
	refute_output --partial "$PW"
}

@test "an ACL user through redirects; a unix:// URL cannot follow them" {
	local other p rule
	other=$(masters | grep -vx "$(build_owner)" | head -1)
	# The rule of ciq(7), ACL, as the man page gives it: it covers a
	# cluster (ASKING, EXISTS).
	read -ra rule <<<"$(sed -n 's/^\tACL SETUSER ciq on >PASSWORD \(.*\)$/\1/p' \
		"$CIQ_ROOT/man/ciq.7.scd" | sed 's/\\\*/*/g')"
	[ "${#rule[@]}" -gt 10 ]
	for p in $(cat "$CLUSTER_DIR/ports"); do
		[ "$(ccli "$p" acl setuser ciq reset on '>acl-pw' "${rule[@]}")" = OK ]
	done
	export CIQ_QUEUE="redis://ciq:acl-pw@127.0.0.1:$other"
	start_workers 2 true
	wait_workers
	assert_green 2
	CIQ_QUEUE="unix://$CLUSTER_DIR/sock-$other?password=$PW" run ciq-pop
	assert_failure "$CIQ_EX_CONFIG"
	assert_output "ciq-pop: cannot connect to 'unix://$CLUSTER_DIR/sock-$other?password=***': the server is a Redis Cluster node: a unix:// URL cannot follow its redirects, use redis:// or rediss://"
}

@test "the build's slot migrated to another master mid-build" {
	local src dst slot src_id dst_id keys m moved=0
	slot=$(slot_of "$(key queue)")
	src=$(build_owner)
	dst=$(masters | grep -vx "$src" | head -1)
	src_id=$(node_id "$src")
	dst_id=$(node_id "$dst")
	make_ids 120
	export CIQ_QUEUE=$(url "$(masters | grep -vx "$src" | tail -1)")
	start_workers 3 "$BATS_TEST_TMPDIR/slow"
	wait_for 400 at_least 20
	for m in "$src" "$dst"; do
		ccli "$m" config resetstat >/dev/null
	done
	[ "$(ccli "$dst" cluster setslot "$slot" importing "$src_id")" = OK ]
	[ "$(ccli "$src" cluster setslot "$slot" migrating "$dst_id")" = OK ]
	# Two keys at a time, while the workers run: the scripts meet ASK
	# (all their keys moved) and TRYAGAIN (some moved, some not).
	for _ in $(seq 100); do
		keys=$(ccli "$src" cluster getkeysinslot "$slot" 2)
		[ -n "$keys" ] || break
		# shellcheck disable=SC2086
		ccli "$src" migrate 127.0.0.1 "$dst" "" 0 5000 AUTH "$PW" KEYS $keys >/dev/null
		moved=$((moved + $(echo "$keys" | wc -l)))
		sleep 0.1
	done
	[ -z "$(ccli "$src" cluster getkeysinslot "$slot" 1)" ]
	[ "$moved" -ge 3 ]
	# Every key moved, the slot not yet handed over: the source answers
	# ASK, the target serves the workers that ask.
	wait_for 200 asked "$src"
	for m in "$dst" "$src" $(masters | grep -vx "$src" | grep -vx "$dst"); do
		[ "$(ccli "$m" cluster setslot "$slot" node "$dst_id")" = OK ]
	done
	wait_workers
	[ "$(build_owner)" = "$dst" ]
	[ "$(errors "$src" ASK)" -gt 0 ]
	[ "$(errors "$src" TRYAGAIN)" -gt 0 ] || [ "$(errors "$dst" TRYAGAIN)" -gt 0 ]
	echo "# ASK $(errors "$src" ASK), TRYAGAIN $(errors "$src" TRYAGAIN) + $(errors "$dst" TRYAGAIN)" >&3
	assert_green 3
}

@test "a master failed over mid-build (CLUSTER FAILOVER on its replica)" {
	local owner replica
	owner=$(build_owner)
	replica=$(replica_of "$owner")
	[ -n "$replica" ]
	make_ids 120
	export CIQ_QUEUE=$(url "$owner")
	start_workers 3 "$BATS_TEST_TMPDIR/slow"
	wait_for 400 at_least 20
	[ "$(ccli "$replica" cluster failover)" = OK ]
	wait_workers
	[ "$(build_owner)" = "$replica" ]
	# A manual failover loses no write: green.
	assert_green 3
	wait_for 200 cluster_ok
}

@test "a master killed mid-build: nothing counted twice, never green on doubt" {
	local owner replica pid
	owner=$(build_owner)
	replica=$(replica_of "$owner")
	[ -n "$replica" ]
	pid=$(cat "$CLUSTER_DIR/pid-$owner")
	# The seeds: the doomed master only, and one that outlives it.
	make_ids 120
	export CIQ_QUEUE=$(url "$owner" "$replica")
	start_workers 3 "$BATS_TEST_TMPDIR/slow"
	wait_for 400 at_least 20
	kill -9 "$pid"
	wait_workers
	[ "$(build_owner)" = "$replica" ]
	# Asynchronous replication may have lost the last writes before the
	# kill: a lost result was reclaimed and run again after --timeout, a
	# lost reservation left its test queued. Each id has at most one
	# result, and the report is green only when every id has one.
	[ "$(results)" -le "$N" ]
	[ "$(passes)" = "$(results)" ]
	run ciq-report --no-wait
	if [ "$status" -eq 0 ]; then
		assert_green 3
	else
		[ "$(results)" -lt "$N" ]
	fi
	# The killed node comes back as a replica; the cluster heals.
	rm -f "$CLUSTER_DIR/pid-$owner"
	node_start "$CLUSTER_DIR" "$owner"
	wait_for 400 cluster_ok
}

@test "TLS through redirects: every node verified by the address it announces" {
	local d p owner other
	TLS_CLUSTER_DIR=$(mktemp -d /tmp/ciqt.XXXXXX)
	d=$TLS_CLUSTER_DIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ciq-cluster-ca \
		-keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$d/node.key" -out "$d/node.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >"$d/node.ext"
	openssl x509 -req -days 2 -in "$d/node.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
		-CAcreateserial -extfile "$d/node.ext" -out "$d/node.crt" 2>/dev/null
	# The cluster of this test only: 3 masters speaking TLS alone, bus included.
	local CLUSTER_DIR=$d CLUSTER_TLS=1
	local CLUSTER_CLI="-a $PW --tls --cacert $d/ca.crt"
	local CLUSTER_ARGS=(--requirepass "$PW" --masterauth "$PW" --tls-cluster yes
		--tls-replication yes --tls-cert-file "$d/node.crt" --tls-key-file "$d/node.key"
		--tls-ca-cert-file "$d/ca.crt" --tls-auth-clients no)
	cluster_start "$d" 3 0
	owner=$(build_owner)
	other=$(masters | grep -vx "$owner" | head -1)
	[ -n "$owner" ] && [ -n "$other" ]
	export CIQ_QUEUE="rediss://:$PW@127.0.0.1:$other" CIQ_TLS_CA_FILE=$d/ca.crt
	make_ids 20
	start_workers 2 true
	wait_workers
	assert_green 2
	# Verified for real: a CA file without the nodes' issuer fails, 69.
	CIQ_TLS_CA_FILE=/etc/ssl/certs/ca-certificates.crt run ciq-pop
	assert_failure "$CIQ_EX_UNAVAILABLE"
	assert_output --partial "certificate verify failed"
}

@test "a grind and a worker's order through a node that does not serve the build's slot" {
	local owner other
	owner=$(build_owner)
	other=$(masters | grep -vx "$owner" | head -1)
	[ -n "$owner" ] && [ -n "$other" ]
	export CIQ_QUEUE=$(url "$other")
	printf 't%s\n' 1 2 >"$BATS_TEST_TMPDIR/two"
	ciq-populate --order given --repeat 2 "$BATS_TEST_TMPDIR/two"
	while t=$(ciq-pop); do ciq-ack -- "$t"; done
	run ciq-report --order 0
	assert_success
	assert_output "t1
t2
t1
t2"
	run ciq-report --no-wait
	assert_success
	assert_equal "${lines[-1]}" "PASSED: 2 tests, 2 runs each, no run failed"
}
