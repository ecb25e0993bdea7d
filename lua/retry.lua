-- retry.lua: a retried CI job re-runs what failed. Once the build's queue
-- is drained, this worker gets its own list: the tests that failed in its
-- earlier attempt, or, when it ran nothing before (a new worker id),
-- every failure of the build. ciq-pop hands that list out, then reports
-- the queue exhausted. While the build is still running (and no retried
-- job got its list yet), a retried job is just one more worker.
-- KEYS: meta queue running results order: retry: retrying replies stats
-- ARGV: nonce worker
-- Returns {"retry", n} (n tests to run again), {"live"} (the build is
-- still running: join it), {"notready"} or {"gone"}.
local meta, queue, running, results, order, list, retrying, replies, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local nonce, worker = ARGV[1], ARGV[2]

local m = call('HMGET', meta, 'status', 'expire_at', 'repeat', 'retrying')
if not m[2] then return {'gone'} end
if m[1] ~= 'ready' then return {'notready'} end
local expire_at = m[2]
local again = replayed(replies, worker .. '\n', nonce, false)
if again then return again end

local function answer(reply)
  return remember(replies, worker .. '\n', nonce, expire_at, reply)
end

-- (running keeps its marker, order and results theirs: see the prelude.)
-- Once a retried job got its list, the build had drained: what runs now
-- is retries, and a job retried at the same time gets its list too.
if not m[4] and (call('LLEN', queue) > 0 or call('ZCARD', running) > 1) then
  return answer({'live'})
end

-- A grind (meta's repeat) measures every run: running a failed one
-- again would hide what it measured, so its retried jobs get nothing.
local failed = {}
local function consider(id, rec)
  if id ~= '' and rec and string.sub(rec, 1, 1) == 'f' and not m[3] then
    failed[#failed + 1] = id
  end
end
-- What this worker was handed, each id once (its order has reclaims and
-- requeues again), after the marker.
local ran, seen = call('LRANGE', order, 1, -1), {}
if #ran > 0 then
  for _, id in ipairs(ran) do
    if not seen[id] then
      seen[id] = true
      consider(id, call('HGET', results, id))
    end
  end
else
  local all = call('HGETALL', results)
  for i = 1, #all, 2 do consider(all[i], all[i + 1]) end
end
table.sort(failed)
-- retry_left counts what the retry lists still hold, for the report.
local left = tonumber(call('HGET', stats, 'retry_left') or '0') + #failed - call('LLEN', list)
call('HSET', stats, 'retry_left', math.max(0, left))
call('DEL', list)
for i = 1, #failed, 1000 do
  call('RPUSH', list, unpack(failed, i, math.min(i + 999, #failed)))
end
mark(retrying)
call('SADD', retrying, worker)
-- Tells ciq-pop, which reads meta anyway, to look at retrying at all.
call('HSET', meta, 'retrying', '1')
touch(expire_at, list, retrying, stats)
return answer({'retry', tostring(#failed)})
