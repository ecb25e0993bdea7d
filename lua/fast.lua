-- fast.lua: next.lua's common call, before the prelude: the worker's one
-- test passed or was skipped, and its next test is the queue's head
-- (not one it requeued itself), in a build with nothing else to do on
-- the way. It does what the general path (the prelude, ack.lua, pop.lua)
-- would do for that call, command for command, and answers the same
-- reply; any other call (and any sign of something else to do: a kept
-- reply as new as this call's, a key lost, the test not this worker's or
-- already recorded, an empty queue) it leaves to the general path,
-- having written nothing.
-- (It makes no function, where the general path makes some 40 at every
-- call, with their upvalues, tables and garbage: with it a test costs
-- the server 38% fewer instructions and 38% less time, bench/RESULTS.md,
-- issue 16. tests/next.bats checks that both paths leave the same
-- records.)
-- KEYS: meta running owner results wstats replies order: queue workers stats requeues requeued_by
-- ARGV: next.lua's.
-- Returns next.lua's reply (prelude: compose), or goes on to the general
-- path.
if not redis.REDIS_VERSION then pcall(redis.replicate_commands) end
local call = redis.call
local meta, running, owner, results, wstats, replies, order, queue, workers, stats, requeues,
  requeued_by = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9],
  KEYS[10], KEYS[11], KEYS[12]
local nonce, worker, id, code = ARGV[1], ARGV[2], ARGV[13], string.sub(ARGV[8], 1, 1)
-- The call: one id, pass or skip, with neither output nor testcases; a
-- pop of one test, not after a wait, without a limit of its own.
local plain = #ARGV == 13 and (code == 'p' or code == 's') and ARGV[10] ~= '1' and
  ARGV[12] ~= '1' and ARGV[4] == '1' and ARGV[5] + 0 == 0 and ARGV[6] ~= '1' and ARGV[7] + 0 == 0
-- The build: ready, no grind, reclaim, retried job, key lost or waiting
-- worker so far (meta's fields, as in the prelude's meta_get); fewer
-- failures than its limit, if it has one (pop.lua).
local m = plain and call('HMGET', meta, 'status', 'expire_at', 'max_failures', 'retrying',
  'requeued', 'repeat', 'reclaimed', 'waiting', 'running_floor', 'lost')
local expire_at = m and m[2]
plain = expire_at and m[1] == 'ready' and not (m[4] or m[6] or m[7] or m[10]) and
  (m[8] or '0') == '0'
local max_failures = plain and (m[3] or 0) + 0
plain = plain and (max_failures == 0 or tonumber(call('HGET', stats, 'failed') or '0') < max_failures)
-- No reply kept for this call, nor for a newer one (prelude: replayed);
-- the keys that hold the records all there (prelude: all_exist).
local kept = plain and call('HGET', replies, worker)
plain = plain and not (kept and string.sub(kept, 1, 16) >= string.sub(nonce, 1, 16)) and
  call('EXISTS', running, owner, wstats, results) == 4
if plain then
  local t = call('TIME')
  local now = t[1] * 1000 + math.floor(t[2] / 1000)
  -- No test can be lost (pop.lua: running_floor); the test is this
  -- worker's, reserved without a streak to keep, and has no result; then
  -- the queue's head, which is the one write that may find nothing.
  local floor = tonumber(m[9] or '') or 0
  local by, started = string.match(call('HGET', owner, id) or '', '^(%S+) (%d+)$')
  plain = floor > now - ARGV[3] and floor <= now and by == worker and
    call('HEXISTS', results, id) == 0
  -- Once the build has a requeue (meta's requeued): a pass of a test
  -- requeued before is flaky (ack.lua); the head is not one this worker
  -- requeued (pop.lua hands that to another worker), and its attempt
  -- counts its requeues.
  local take, requeuer, attempt = nil, false, '1'
  if plain and m[5] then
    take = call('LINDEX', queue, 0)
    requeuer = take and call('HGET', requeued_by, take)
    plain = take and requeuer ~= worker and (code ~= 'p' or call('HEXISTS', requeues, id) == 0)
    attempt = plain and tostring(1 + tonumber(call('HGET', requeues, take) or '0'))
  end
  take = plain and call('LPOP', queue)
  if take then
    local now_s, busy = string.format('%d', now), now - started
    local ms = string.format('%d', busy)
    -- ack.lua: the reservation ends, the result is recorded.
    call('ZREM', running, id)
    call('HDEL', owner, id)
    if busy ~= 0 then call('HINCRBY', wstats, worker .. ':busy_ms', busy) end
    call('HSETNX', results, id, code .. ' ' .. ms .. ' ' .. worker)
    -- pop.lua: the worker is alive, the head is its own.
    if call('ZADD', workers, now_s, worker) == 1 then call('EXPIREAT', workers, expire_at) end
    if requeuer then call('HDEL', requeued_by, take) end
    call('ZADD', running, now_s, take)
    call('HSET', owner, take, worker .. ' ' .. now_s)
    if call('RPUSH', order, take) == 1 then
      if call('HSETNX', wstats, worker .. ':ordered', '1') == 1 then
        call('LPUSH', order, '')
        call('EXPIREAT', wstats, expire_at)
      end
      call('EXPIREAT', order, expire_at)
    end
    -- The reply both parts would make (prelude: compose), kept.
    local reply = '5\0ok\0' .. id .. '\0recorded\0' .. '1\0' .. ms .. '\0ok\0' .. take .. '\0queue\0\0' ..
      attempt
    if call('HSET', replies, worker, nonce .. ' ' .. reply) == 1 then call('EXPIREAT', replies, expire_at) end
    return reply
  end
end
