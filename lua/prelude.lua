-- prelude.lua: helpers every ciq script starts with (lua/embed.sh prepends
-- this file). Scripts read KEYS and ARGV only; ids are never spliced into
-- key names or commands.

-- KEYS and ARGV are globals, which each use looks up by name: as locals,
-- a script reads them from a register. (1.5% of next.lua's call: see
-- bench/RESULTS.md, issue 16.)
local KEYS, ARGV = KEYS, ARGV

-- Redis before 5 needs effects replication to write after reading TIME;
-- from 7 on (which sets REDIS_VERSION) it is the only mode.
if not redis.REDIS_VERSION then pcall(redis.replicate_commands) end

-- Commands go through redis.call itself: a command the server refuses ends
-- the call with the server's error, which names the script and its line
-- ("script: SHA, on @user_script:N."). For an ACL refusal the tools then
-- name the commands the user lacks (acl.lua). (A wrapper that named the
-- command in the error cost a call 6% more: bench/RESULTS.md, issue 16.)
local call = redis.call

-- Whole numbers as decimal strings. (Lua's tostring, and redis.call given
-- a number, print it as a float, which costs a few times as much.)
local function digits(n)
  return string.format('%d', n)
end

-- The numbers that the calls of every test read (their arguments, meta's
-- fields, TIME) are read with arithmetic, as s + 0, which converts the
-- string once: tonumber converts it twice (it asks first whether it can),
-- and stays for a value that may not be a number. (2% of a call:
-- bench/RESULTS.md, issue 16.)

-- Milliseconds on the server's clock: worker clocks never decide anything.
-- Read once a call: a script runs at one instant (next.lua runs two).
-- now_ms() answers the number, and its digits.
local now_cached, now_digits
local function now_ms()
  if not now_cached then
    local t = call('TIME')
    now_cached = t[1] * 1000 + math.floor(t[2] / 1000)
    now_digits = digits(now_cached)
  end
  return now_cached, now_digits
end

-- The fields of meta that ack.lua and pop.lua read, read once a call
-- (next.lua runs both): meta_get(meta) answers a table of them by name,
-- false for a field that is not set. A script that changes one of them
-- keeps the table current (pop.lua: reclaimed, running_floor).
local meta_cache
local function meta_get(meta)
  if not meta_cache then
    local v = call('HMGET', meta, 'status', 'expire_at', 'max_failures', 'retrying',
      'requeued', 'repeat', 'reclaimed', 'waiting', 'running_floor', 'lost')
    meta_cache = {status = v[1], expire_at = v[2], max_failures = v[3], retrying = v[4],
      requeued = v[5], ['repeat'] = v[6], reclaimed = v[7], waiting = v[8],
      running_floor = v[9], lost = v[10]}
  end
  return meta_cache
end

-- Every key of a build dies at the build's deadline, fixed at publish.
local function touch(expire_at, ...)
  for _, key in ipairs({...}) do
    call('EXPIREAT', key, expire_at)
  end
end

-- Writes that many tests of one call share wait in a list and go out
-- once, at flush(): one ZREM, HDEL, HSET ... per key for all the tests
-- of the call, and one HINCRBY per counter, rather than one per test. A
-- script reads nothing that a waiting write changes before flushing.
-- Only a call about several tests sets batching: for one test the lists
-- would cost more than they save, and the writes go out at once.
local batching = false
local pending, counts = {}, {}
local function later(cmd, key, a, b)
  if not batching then
    if b == nil then call(cmd, key, a) else call(cmd, key, a, b) end
    return
  end
  local by_cmd = pending[cmd]
  if not by_cmd then
    by_cmd = {}
    pending[cmd] = by_cmd
    pending[#pending + 1] = cmd
  end
  local args = by_cmd[key]
  if not args then
    args = {}
    by_cmd[key] = args
    by_cmd[#by_cmd + 1] = key
  end
  args[#args + 1] = a
  if b ~= nil then args[#args + 1] = b end
end
local function add(hash, field, n)
  if not batching then
    if n ~= 0 then call('HINCRBY', hash, field, n) end
    return
  end
  local by_hash = counts[hash]
  if not by_hash then
    by_hash = {}
    counts[hash] = by_hash
    counts[#counts + 1] = hash
  end
  if not by_hash[field] then by_hash[#by_hash + 1] = field end
  by_hash[field] = (by_hash[field] or 0) + n
end
-- (Most calls have nothing waiting: they go without the loops, which
-- cost 2% of a call even when empty.)
local function flush()
  if #pending == 0 and #counts == 0 then return end
  for _, cmd in ipairs(pending) do
    for _, key in ipairs(pending[cmd]) do
      local args = pending[cmd][key]
      -- (1000 at a time: an even number, for the pairs of ZADD and HSET.)
      for i = 1, #args, 1000 do
        call(cmd, key, unpack(args, i, math.min(i + 999, #args)))
      end
    end
  end
  for _, hash in ipairs(counts) do
    for _, field in ipairs(counts[hash]) do
      local n = counts[hash][field]
      if n ~= 0 then call('HINCRBY', hash, field, n) end
    end
  end
  if #pending > 0 then pending = {} end
  if #counts > 0 then counts = {} end
end

-- A key that a write may have created needs the deadline; one that exists
-- keeps it. The keys that hold records exist, with the deadline, from
-- publish on (see the markers below); the others (the queue, a worker's
-- retry list, the wake list) come and go. Scripts note the keys they
-- write with wrote() and give them the deadline once, at the end, with
-- touch_written(): one EXPIREAT per key written, which also gives the
-- deadline back to a key that was evicted and then made again by a
-- write. (touch_written sends the writes that wait first: a key must
-- exist for its deadline to hold.) A script that writes keys of records
-- asks first whether they still exist, with EXISTS, and notes them with
-- wrote() only when one was lost: the keys every call of it writes all
-- at once, at its start (all_exist); a key that only some calls write
-- (a failure's output, stats, a grind's held) alone, before its first
-- write in the call (writing): an EXISTS a call, not one a key.
-- A call that finds a key lost says so in meta ('lost'), and from then
-- on the calls that read meta with meta_get (ack, pop, next) ask nothing
-- and give each key they write the deadline. Such a key may have been
-- made again without its marker, and a removal can then empty it.
-- Until then every key holds its marker, which no removal takes: the
-- keys last seen to exist are not asked about again in the call
-- (next.lua runs two scripts' checks; the first asks about the keys of
-- both, the second's first and in its order), and all_exist() sends no
-- EXISTS when the keys it is given are the first of those it last saw.
local written, seen, asked = {}, {}, {}
local function wrote(key) written[key] = true end
-- Whether keys (a list) all exist; when one does not, meta says so.
local function exist(meta, keys)
  if meta_cache and meta_cache.lost then return false end
  if call('EXISTS', unpack(keys)) == #keys then return true end
  call('HSET', meta, 'lost', '1')
  if meta_cache then meta_cache.lost = '1' end
  return false
end
local function all_exist(meta, ...)
  local keys = {...}
  local known = #keys <= #seen and not (meta_cache and meta_cache.lost)
  for i = 1, #keys do
    if not known then break end
    known = keys[i] == seen[i]
  end
  if known then return true end
  if not exist(meta, keys) then return false end
  seen = keys
  return true
end
-- Before a write of key, which only some calls make: asked once a call.
local function writing(meta, key)
  if asked[key] == nil then asked[key] = exist(meta, {key}) end
  if not asked[key] then wrote(key) end
end
-- A worker's last sign of life in workers, a server time (negative: it
-- saw the end). ZADD answers 1 when the worker is new to the set: at its
-- first call, and in a set made again after a loss, which then gets the
-- deadline (touch_written) without an EXISTS.
local function note_worker(workers, worker, score)
  if call('ZADD', workers, score, worker) == 1 then wrote(workers) end
end
local function touch_written(expire_at)
  flush()
  if next(written) == nil then return end
  for key in pairs(written) do
    call('EXPIREAT', key, expire_at)
    written[key] = nil
  end
end

-- Markers. Every key that holds records of a build is made at publish
-- (a worker's order list at its first reservation) holding one entry that
-- no test or worker id can be: the empty string. Redis evicts or expires
-- whole keys, so a key without its marker was lost, even when a later
-- write made it again: the report treats that as doubt, never as green.
-- Readers pass over the marker; counts of records subtract it.

-- The kind of key, from its name after the build's prefix ("order:3" is order).
-- (The table is made when asked for: most calls mark nothing.)
local function kind_of(key)
  local marker_kind = {
    meta = 'hash', stats = 'hash', results = 'hash', output = 'hash', cases = 'hash',
    owner = 'hash', requeues = 'hash', reclaims = 'hash',
    requeued_by = 'hash', wstats = 'hash', replies = 'hash', held = 'hash',
    flaky = 'set', retrying = 'set',
    running = 'zset', workers = 'zset',
    order = 'list',
  }
  local name = string.match(key, '}:([^:]*)')
  return marker_kind[name], name
end

-- The keys written for every test get a marker longer than 64 bytes:
-- the hashes (results, owner, replies, wstats, and meta, which every call
-- reads) as the marker's value, running as the marker itself. Redis then
-- keeps them as hash tables and a skip list from the start. A small hash
-- (up to 512 entries, by default) or sorted set (128) is otherwise a
-- listpack, which each read and write scans end to end: the first 512
-- tests of a build would each pay a scan of the results, and a pop of 50
-- would insert each test into running with a scan (measured:
-- bench/RESULTS.md, issue 16). running's marker is the member at +inf,
-- so that it never looks like a lost test (an older ciq's is the empty
-- string, at +inf too).
local function mark(key)
  local kind, name = kind_of(key)
  local hot = name == 'results' or name == 'owner' or name == 'replies' or name == 'wstats'
    or name == 'meta'
  if kind == 'hash' then
    call('HSET', key, '', hot and 'ciq: the marker of this hash; a value over 64 bytes keeps it a hash table' or '')
  elseif kind == 'set' then call('SADD', key, '')
  elseif name == 'running' then
    call('ZADD', key, 'inf', 'ciq: the marker of running, at +inf; over 64 bytes, it keeps running a skip list')
  elseif kind == 'zset' then call('ZADD', key, '0', '')
  elseif kind == 'list' then call('RPUSH', key, '')
  end
end

local function marked(key)
  local kind, name = kind_of(key)
  if kind == 'hash' then return call('HEXISTS', key, '') == 1
  elseif kind == 'set' then return call('SISMEMBER', key, '') == 1
  elseif name == 'running' then return call('ZCOUNT', key, '+inf', '+inf') > 0
  elseif kind == 'zset' then return call('ZSCORE', key, '') ~= false
  elseif kind == 'list' then return call('LINDEX', key, 0) == ''
  end
  return true
end

-- The owner hash maps a reserved test to "WORKER MS": the worker that holds
-- it and the server time of the reservation, from which its duration is
-- measured (heartbeats move the score in running, not this); "WORKER MS
-- streak" when the pop that reserved it limits the worker's failures in
-- a row (ciq-pop --max-consecutive-failures). Only such a test's ack or
-- requeue moves the worker's streak (or an ack by a next.lua call with
-- the limit, which sets streak_limited), so a worker without the limit
-- pays no write for it. A worker id holds no space. holder(v) answers the
-- worker, the time (a number) and whether the test counts toward the
-- streak; the worker alone for a value without the time (an older
-- ciq's), or nothing for a test nobody holds (v false).
-- (The tests of one pop share their value: the last one read is kept.)
local last_held, last_by, last_ms, last_counts
local streak_limited = false
local function holder(v)
  if not v then return nil, nil, false end
  if v ~= last_held then
    local w, ms, rest = string.match(v, '^(%S+) (%d+)(.*)$')
    last_held, last_by, last_ms, last_counts = v, w or v, ms and ms + 0, rest == ' streak'
  end
  return last_by, last_ms, last_counts
end

-- Whether id was ever handed to the worker whose order list (pop.lua)
-- is order. Asked only about an id the worker does not hold now (a late
-- ack after a reclaim, a mistake), so the list is read whole, once a call.
local handed_ids
local function handed(order, id)
  if not handed_ids then
    handed_ids = {}
    for _, v in ipairs(call('LRANGE', order, 1, -1)) do handed_ids[v] = true end
  end
  return handed_ids[id] == true
end

-- Grind builds (ciq-populate --repeat N; meta's repeat) queue each id N
-- times, as the runs "ID\nK", K from 1 (no id holds a newline). On the
-- server each run is a test of its own; a worker is handed, and names,
-- the id alone. held maps "WORKER\nID" to the runs of ID that worker
-- holds now, "K K ...", oldest first: its ack, heartbeat or release
-- finds there the run it means.
local function id_of(run)
  return (string.match(run, '^[^\n]*'))
end

local function hold(held, worker, run)
  local id, k = string.match(run, '^([^\n]*)\n(.*)$')
  local f = worker .. '\n' .. id
  local v = call('HGET', held, f)
  call('HSET', held, f, v and (v .. ' ' .. k) or k)
end

local function unhold(held, worker, run)
  local id, k = string.match(run, '^([^\n]*)\n(.*)$')
  local f = worker .. '\n' .. id
  local v = call('HGET', held, f)
  if not v then return end
  local rest, dropped = {}, false
  for x in string.gmatch(v, '%S+') do
    if x == k and not dropped then dropped = true else rest[#rest + 1] = x end
  end
  if #rest == 0 then call('HDEL', held, f) else call('HSET', held, f, table.concat(rest, ' ')) end
end

-- What a worker's id means: the runs of it the worker holds, oldest
-- first, in a grind; the id itself otherwise.
local function runs_of(held, worker, id, grind)
  if not grind then return {id} end
  local out, v = {}, call('HGET', held, worker .. '\n' .. id)
  for k in string.gmatch(v or '', '%S+') do out[#out + 1] = id .. '\n' .. k end
  return out
end

-- Lower a counter by n, never below 0: a counter whose key was lost and
-- made again by a later write must not go negative.
local function decrease(hash, field, n)
  flush()
  local v = tonumber(call('HGET', hash, field) or '0')
  call('HSET', hash, field, math.max(0, v - n))
end

-- Wake up to n of the workers waiting in ciq-pop (see pop.lua), or all
-- of them when n is nil; waiting is meta's count of them. Each waiter
-- takes one token from the wake list; waking all first clears the list,
-- so every waiter gets exactly one.
local function wake(list, waiting, n)
  waiting = tonumber(waiting or '0')
  if n == nil then call('DEL', list) end
  n = math.min(n or waiting, waiting)
  while n > 0 do
    local tokens = {}
    for i = 1, math.min(n, 1000) do tokens[i] = '1' end
    call('RPUSH', list, unpack(tokens))
    n = n - #tokens
    wrote(list)
  end
end

-- Replies are flat lists of strings, none holding a NUL byte (ids cannot:
-- ciq-populate refuses them, and an argument cannot hold one), stored
-- joined by NULs. A reply has at least its first word, so "" is never one.
-- A script sends the reply it keeps (remember) as it keeps it, one string,
-- and the tools make it a list again (lib/kept.c): a Lua table costs the
-- server a reply entry for each of its strings (4% of next.lua's call,
-- bench/RESULTS.md, issue 16).
local function encode(list)
  return table.concat(list, '\0')
end

-- The reply a worker got for this nonce, as kept, if the call already ran:
-- a client repeating a call after a lost reply must not act twice. The
-- replies hash keeps each worker's last reply in one of two fields: the
-- worker id for the calls that take or give back tests by what the
-- worker holds (pop, release), which come one after another; the worker
-- id and a newline for those that name their tests (ack, requeue, retry),
-- which may overlap (acks run in parallel). A nonce starts with the
-- client's time (16 hex digits of microseconds, see script.c), so a copy
-- of an ordered call that arrives after a newer one of the same worker,
-- delivered late by the network, is refused as "stale" instead of taking
-- or giving back tests then.
-- next.lua runs ack.lua and then pop.lua as parts of one call (lua/embed.sh
-- puts their text in its own), and keeps the call's one reply: it sets
-- composed, and the parts do not look for an earlier reply. Each part
-- ends with remember(): the first part's reply waits in first_reply,
-- and remember() answers nil, the call going on to its next part; the
-- last part's completes the call's reply (compose), which is kept and
-- answered.
local composed, first_reply = false, nil
local function replayed(replies, field, nonce, ordered)
  if composed then return nil end
  local v = call('HGET', replies, field)
  if not v then return nil end
  if string.sub(v, 1, #nonce + 1) == nonce .. ' ' then
    return string.sub(v, #nonce + 2)
  end
  if ordered and string.sub(v, 1, 16) > string.sub(nonce, 1, 16) then
    return 'stale'
  end
  return nil
end

local function keep_reply(replies, field, nonce, expire_at, encoded)
  -- A new field may be a new key; an overwritten one is not.
  if call('HSET', replies, field, nonce .. ' ' .. encoded) == 1 then
    call('EXPIREAT', replies, expire_at)
  end
end
-- next.lua's reply, kept in field, as one string: the length of the first
-- part's reply, that reply, then last (a list), which the tools make one
-- more element, a list (lib/kept.c).
local function compose(replies, field, nonce, expire_at, last)
  composed = false
  local reply = digits(#first_reply) .. '\0' .. encode(first_reply) .. '\0' .. encode(last)
  keep_reply(replies, field, nonce, expire_at, reply)
  return reply
end
-- The reply kept, to send; nil for the first part of next.lua.
local function remember(replies, field, nonce, expire_at, reply)
  if composed then
    if first_reply then return compose(replies, field, nonce, expire_at, reply) end
    first_reply = reply
    return nil
  end
  local encoded = encode(reply)
  keep_reply(replies, field, nonce, expire_at, encoded)
  return encoded
end
