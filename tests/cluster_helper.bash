# cluster_helper.bash - a private Redis Cluster for tests/cluster.bats:
# nodes of Debian's redis-server on 127.0.0.1, each killed by its pidfile.
#
#   cluster_start DIR NODES REPLICAS   start and create; ports in DIR/ports
#   cluster_stop DIR                   kill every node, remove DIR
#
# Set by the caller: CLUSTER_ARGS, an array of options for every node
# (--requirepass pw --masterauth pw, TLS files); CLUSTER_CLI, the
# redis-cli options they need (-a pw, --tls --cacert F); CLUSTER_TLS=1
# for nodes that serve TLS only. The ports come from a random base; each
# port and its bus port (+10000) must be free.

# port_free PORT: no socket uses PORT, listening or connected.
port_free() {
	! ss -Hatn "sport = :$1" | grep -q .
}

# cluster_ports N: N consecutive free ports whose bus ports are free too,
# all below the kernel's ephemeral range (32768 and up), where outgoing
# connections could take them.
cluster_ports() {
	local n=$1 base p ok try
	for try in $(seq 50); do
		base=$((20000 + RANDOM % (2700 - n)))
		ok=1
		for p in $(seq "$base" $((base + n - 1))); do
			port_free "$p" && port_free $((p + 10000)) || { ok=0; break; }
		done
		if [ "$ok" = 1 ]; then
			seq "$base" $((base + n - 1))
			return 0
		fi
	done
	echo "no free ports" >&2
	return 1
}

# ccli PORT ARGS...: redis-cli on one node, with CLUSTER_CLI's options.
ccli() {
	local p=$1
	shift
	# shellcheck disable=SC2086
	redis-cli --no-auth-warning $CLUSTER_CLI -h 127.0.0.1 -p "$p" "$@"
}

# node_start DIR PORT [ARGS...]: one cluster node (again, after a kill).
node_start() {
	local dir=$1 p=$2
	shift 2
	local ports=(--port "$p")
	[ "${CLUSTER_TLS:-0}" = 1 ] && ports=(--port 0 --tls-port "$p")
	redis-server --bind 127.0.0.1 "${ports[@]}" --cluster-enabled yes \
		--cluster-config-file "$dir/nodes-$p.conf" --cluster-node-timeout 1000 \
		--unixsocket "$dir/sock-$p" --unixsocketperm 700 \
		--save '' --appendonly no --daemonize yes \
		--pidfile "$dir/pid-$p" --logfile "$dir/log-$p" --dir "$dir" "$@" "${CLUSTER_ARGS[@]}"
}

# cluster_ok: every node says cluster_state:ok and agrees on all 16384 slots.
cluster_ok() {
	local p
	for p in $(cat "$CLUSTER_DIR/ports"); do
		ccli "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
	done
}

# nodes_start DIR N: N nodes on free ports, up and answering; a port
# taken meanwhile by someone else means new ports for all, a few times.
nodes_start() {
	local dir=$1 n=$2 p try ok
	for try in 1 2 3 4 5; do
		cluster_ports "$n" >"$dir/ports" || return 1
		for p in $(cat "$dir/ports"); do
			node_start "$dir" "$p"
		done
		ok=1
		for p in $(cat "$dir/ports"); do
			# shellcheck disable=SC2086
			wait_for 100 sh -c 'redis-cli "$@" ping 2>&1 | grep -qE "PONG|NOAUTH"' sh \
				--no-auth-warning $CLUSTER_CLI -h 127.0.0.1 -p "$p" || ok=0
		done
		[ "$ok" = 1 ] && return 0
		grep -h 'Address already in use' "$dir"/log-* >&2 || { tail -n 5 "$dir"/log-* >&2; break; }
		cluster_kill "$dir"
		rm -f "$dir"/nodes-*.conf "$dir"/log-*
	done
	return 1
}

# cluster_start DIR N REPLICAS: N nodes, a cluster of them with REPLICAS
# replicas per master. CLUSTER_ARGS (an array) goes to every node.
cluster_start() {
	local dir=$1 n=$2 replicas=$3 p addrs=()
	CLUSTER_DIR=$dir
	nodes_start "$dir" "$n" || return 1
	for p in $(cat "$dir/ports"); do
		addrs+=("127.0.0.1:$p")
	done
	# shellcheck disable=SC2086
	redis-cli --no-auth-warning $CLUSTER_CLI --cluster create "${addrs[@]}" \
		--cluster-replicas "$replicas" --cluster-yes >"$dir/create.log" 2>&1 || {
		cat "$dir/create.log" >&2
		return 1
	}
	wait_for 400 cluster_ok
}

# cluster_stop DIR: kill every node of DIR by its pidfile, remove DIR.
cluster_stop() {
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	cluster_kill "$dir"
	rm -rf "$dir"
}

# cluster_kill DIR: kill every node of DIR by its pidfile, wait (bounded)
# for each to go.
cluster_kill() {
	local dir=$1 f pid
	for f in "$dir"/pid-*; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null || true
	done
	for f in "$dir"/pid-*; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		rm -f "$f"
	done
}

# live_port: a node that answers (not one killed by a test).
live_port() {
	local p
	for p in $(cat "$CLUSTER_DIR/ports"); do
		ccli "$p" ping 2>/dev/null | grep -q PONG && { echo "$p"; return 0; }
	done
	return 1
}

# slot_of KEY: the hash slot of KEY.
slot_of() {
	ccli "$(live_port)" cluster keyslot "$1"
}

# owner_of SLOT: the port of the master that serves SLOT.
owner_of() {
	ccli "$(live_port)" cluster slots |
		awk -v s="$1" 'BEGIN { n = 0 } { l[n++] = $0 } END {
			for (i = 0; i + 3 < n; i++)
				if (l[i] ~ /^[0-9]+$/ && l[i + 1] ~ /^[0-9]+$/ && l[i] + 0 <= s && s <= l[i + 1] + 0 &&
				    l[i + 2] == "127.0.0.1") { print l[i + 3]; exit }
		}'
}

# loop_on_other_node LOOP: a cluster of 3 masters; a build of 20 ids
# reached through a node that does not serve its slot; LOOP 0 (worker 0's
# whole loop, writing the ids it ran to $BATS_TEST_TMPDIR/ran.0) ends with
# 1 and says nothing, runs every id in order, and the build is green.
loop_on_other_node() {
	CLUSTER_ARGS=() CLUSTER_CLI=
	CLUSTER_DIR=$(mktemp -d /tmp/ciqc.XXXXXX)
	cluster_start "$CLUSTER_DIR" 3 0
	local owner other
	owner=$(owner_of "$(ccli "$(live_port)" cluster keyslot "$(key queue)")")
	other=$(ccli "$(live_port)" cluster nodes | awk '$3 ~ /master/ { split($2, a, "[:@]"); print a[2] }' |
		grep -vx "$owner" | head -1)
	[ -n "$owner" ] && [ -n "$other" ]
	export CIQ_QUEUE="redis://127.0.0.1:$other"
	seq -f 't%02g' 1 20 | ciq-populate --order given
	run --separate-stderr "$1" 0
	assert_equal "$status" "$CIQ_EX_NO"
	assert_equal "$stderr" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/ran.0")" "$(seq -f 't%02g' 1 20)"
	run ciq-report
	assert_success
	assert_line "PASSED: 20 tests, 20 passed, 0 skipped"
}
