#!/bin/sh
# next-lua.sh [N] - where the server's time goes in the call a ciq-loop
# makes per test (lua/next.lua: the ack of one test and the reservation
# of the next), in one run on a private redis-server, from one connection
# calling as fast as the server answers (bench/evalsha.c):
#
#   real   N calls, each recording a test and reserving the next;
#   lua    the same script, its server commands answered by a stub in Lua
#          (no command runs): the Lua's own time, and the stub's;
#   empty  an empty script with the same keys and arguments: the floor.
#
# Each is INFO commandstats' usec summed over every command, over N.
# Uses this tree's bin/ and build/lua/next.h (run make first). See
# bench/RESULTS.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000}
# shellcheck source=bench/private-redis.sh
. "$root/bench/private-redis.sh"
cc -O2 -o "$dir/evalsha" "$root/bench/evalsha.c" -lhiredis
# The script the tools send, and its keys, from the build's header.
python3 "$root/lua/unembed.py" "$root/build/lua/next.h" "$dir/next.lua" |
	sed 's/:$/:0/; s/^/ciq:{lua}:/' >"$dir/keys"
echo 'return 1' >"$dir/empty.lua"
python3 - "$dir" <<'PY'
import re, sys
src = open(sys.argv[1] + '/next.lua').read()
# The stub answers as the server would for one pass and one reservation.
stub = '''local function call(cmd, key, ...)
  if cmd == 'HMGET' then return {'ready', '4102444800', '0', false, false, false, false, false, '1700000000000'} end
  if cmd == 'HGET' then return string.find(key, '}:owner$') and '0 1700000000000' or false end
  if cmd == 'EXISTS' then return select('#', ...) + 1 end
  if cmd == 'HEXISTS' then return 0 end
  if cmd == 'TIME' then return {'1700000000', '123456'} end
  if cmd == 'ZRANGE' then return {} end
  if cmd == 'LPOP' then return 't2' end
  if cmd == 'HINCRBY' then return 5 end
  if cmd == 'RPUSH' then return 10 end
  return 1
end
'''
# (Each "local call = redis.call": fast.lua's and the prelude's.)
open(sys.argv[1] + '/stub.lua', 'w').write(src.replace('local call = redis.call\n', stub))
PY
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=lua CIQ_WORKER=0 CIQ_HEARTBEAT=0
seq "$((n + 1))" | sed 's/^/t/' | "$root/bin/ciq-populate" --order given
first=$("$root/bin/ciq-pop")
# cost NAME SCRIPT [FOLLOW]: us per call of N calls of SCRIPT.
cost() {
	redis-cli -s "$dir/sock" CONFIG RESETSTAT >/dev/null
	# shellcheck disable=SC2046 # the keys, one word each
	calls=$(FOLLOW=${3:-0} "$dir/evalsha" "$dir/sock" "$2" "$n" "$(wc -l <"$dir/keys")" $(cat "$dir/keys") \
		0000000000000000 0 300000 1 0 0 0 pass '' 0 '' 0 "$first")
	redis-cli -s "$dir/sock" INFO commandstats | tr -d '\r' | grep -v '^cmdstat_config' |
		sed -n 's/^cmdstat_[a-z|]*:calls=[0-9]*,usec=\([0-9]*\),.*/\1/p' |
		awk -v name="$1" -v c="$calls" '{ s += $1 } END { printf "%-6s %6.1f us per call (%d calls)\n", name, s / c, c }'
}
cost real "$dir/next.lua" 1
cost lua "$dir/stub.lua"
cost empty "$dir/empty.lua"
