#!/bin/sh
# script-profile.sh [N] - where the server's time per test goes: one
# worker pops and acks N no-op tests (default 1000) one at a time against
# a private redis-server with SLOWLOG recording every command; prints,
# per script (pop, ack) and per command the scripts call, the calls per
# test and the microseconds per call (SLOWLOG's own timing), then the
# cost of an empty script called the same way, cold, as a floor.
# Tools from CIQ_BIN (default: bin/). See bench/RESULTS.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000}
# shellcheck source=bench/private-redis.sh
. "$(dirname "$0")/private-redis.sh"
r() { redis-cli -s "$dir/sock" "$@"; }
export CIQ_QUEUE="unix://$dir/sock" CIQ_BUILD=prof CIQ_WORKER=0 CIQ_HEARTBEAT=0
PATH=${CIQ_BIN:-$root/bin}:$PATH
seq "$n" | sed 's/^/t/' | ciq-populate --order given
r CONFIG SET slowlog-log-slower-than 0 >/dev/null
r CONFIG SET slowlog-max-len 1000000 >/dev/null
r SLOWLOG RESET >/dev/null
while t=$(ciq-pop); do ciq-ack -- "$t"; done
r --json SLOWLOG GET 1000000 >"$dir/slowlog.json"
# An empty script with as many keys and arguments as pop.lua, called by a
# new client each time (as the tools do): the floor of a script call.
empty=$(r SCRIPT LOAD "return 1")
keys=$(i=0; while [ $i -lt 20 ]; do printf 'ciq:{prof}:k%d ' $i; i=$((i + 1)); done)
r SLOWLOG RESET >/dev/null
i=0
while [ $i -lt 300 ]; do
	# shellcheck disable=SC2086 # the keys, one word each
	r EVALSHA "$empty" 20 $keys a b c d e f g >/dev/null
	i=$((i + 1))
done
r --json SLOWLOG GET 1000000 >"$dir/empty.json"
/usr/bin/python3 - "$n" "$dir/slowlog.json" "$dir/empty.json" <<'PY'
import json, statistics, sys
n = int(sys.argv[1])
rows = {}
for e in json.load(open(sys.argv[2])):
    args = e[3]
    if args[0] == 'EVALSHA':
        # The scripts by their number of keys (see their -- KEYS: lines).
        name = {'18': 'script pop.lua', '16': 'script ack.lua'}.get(args[2], 'script (%s keys)' % args[2])
    else:
        name = args[0]
    rows.setdefault(name, []).append(e[2])
print('%-22s %10s %10s %10s %12s' % ('', 'per test', 'mean us', 'median us', 'us per test'))
for name, v in sorted(rows.items(), key=lambda kv: -sum(kv[1])):
    if name in ('SLOWLOG', 'HELLO', 'CONFIG'):
        continue
    print('%-22s %10.2f %10.1f %10.1f %12.1f' % (name, len(v) / n, statistics.mean(v), statistics.median(v), sum(v) / n))
v = [e[2] for e in json.load(open(sys.argv[3])) if e[3][0] == 'EVALSHA']
print('empty script, 20 keys, cold: mean %.1f us, median %.1f us' % (statistics.mean(v), statistics.median(v)))
PY
