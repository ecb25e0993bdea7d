-- pop.lua: reserve up to COUNT tests for a worker. Lost tests (reserved
-- longer ago than the timeout, by the server's clock) come first, then the
-- queue. A worker is not handed back a test it requeued itself while
-- another worker is alive, so a retry runs elsewhere.
-- Every id handed out is appended to this worker's order: list, the
-- order the worker was handed its tests in (ciq-report --order); ack.lua
-- and requeue.lua refuse an id that is not in it, retry.lua reads it.
-- KEYS: meta queue running owner workers requeued_by reclaims stats wstats replies results leader retry: retrying waiting order: held requeues
-- ARGV: nonce worker timeout_ms count max_consecutive_failures waited max_duration_ms
-- waited is "1" when this worker's last call answered "wait";
-- max_duration_ms, when above 0, is how long after its first pop the
-- worker may still be handed tests.
-- Returns {"ok", id, origin, from, attempt, ...}, four elements per test:
-- origin is "queue", "reclaim" or "retry" (a retried job's own list),
-- from the previous owner of a reclaimed test ("" otherwise), attempt
-- which run this is: 1 + the test's requeues and reclaims so far, + 1 in
-- a retried job; or {"wait", ms}
-- (nothing queued, tests in flight elsewhere: wait on the wake list at
-- most ms, "0" meaning a short while), {"done"} (exhausted), {"notready"},
-- {"gone"} (the build's keys do not exist, and no leader is publishing),
-- {"stopped", failed, max} (the build reached its --max-failures) or
-- {"sick", streak} (this worker failed that many tests in a row) or
-- {"timeup", elapsed_ms} (its --max-duration is over).
local meta, queue, running, owner, workers, requeued_by, reclaims, stats,
  wstats, replies, results, leader, retry_list, retrying, waiting,
  order, held, requeues =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8],
  KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15], KEYS[16],
  KEYS[17], KEYS[18]
local nonce, worker, timeout, count, max_streak, waited, max_duration =
  ARGV[1], ARGV[2], ARGV[3] + 0, ARGV[4] + 0, (ARGV[5] or 0) + 0,
  ARGV[6] == '1', (ARGV[7] or 0) + 0

local m = meta_get(meta)
if not m.expire_at then
  -- A leader that won the election but has not published yet: wait. A
  -- build whose meta alone was lost is gone.
  if call('EXISTS', leader) == 1 and call('EXISTS', stats) == 0 then return {'notready'} end
  return {'gone'}
end
if m.status ~= 'ready' then return {'notready'} end
local expire_at, grind = m.expire_at, m['repeat'] ~= false
local again = replayed(replies, worker, nonce, true)
if again then return again end
-- (The keys only some pops write are asked about when written: prelude,
-- writing.)
local lost = not all_exist(meta, running, owner)

-- The waiting set holds the workers waiting in ciq-pop; meta keeps its
-- size, which the scripts that wake them read with meta (prelude).
local function count_waiting()
  call('HSET', meta, 'waiting', call('SCARD', waiting))
end
-- Every answer but "wait" ends this worker's wait.
local function stop_waiting()
  if waited then
    call('SREM', waiting, worker)
    count_waiting()
  end
end
local now, now_s = now_ms()

-- Circuit breakers, when set: the build's, then this worker's own.
local max_failures = (m.max_failures or 0) + 0
local failed, streak = 0, 0
if max_failures > 0 then
  failed = tonumber(call('HGET', stats, 'failed') or '0')
end
if max_streak > 0 then
  streak = tonumber(call('HGET', wstats, worker .. ':streak') or '0')
end
-- The time limit counts from this worker's first pop.
local elapsed = 0
if max_duration > 0 then
  -- (A new field may be a new key.)
  if call('HSETNX', wstats, worker .. ':first_pop_ms', now_s) == 1 then wrote(wstats) end
  elapsed = now - tonumber(call('HGET', wstats, worker .. ':first_pop_ms'))
end
if (max_failures > 0 and failed >= max_failures) or (max_streak > 0 and streak >= max_streak) or
    (max_duration > 0 and elapsed >= max_duration) then
  stop_waiting()
  note_worker(workers, worker, '-' .. now_s)
  touch_written(expire_at)
  if max_failures > 0 and failed >= max_failures then
    return remember(replies, worker, nonce, expire_at, {'stopped', tostring(failed), tostring(max_failures)})
  elseif max_streak > 0 and streak >= max_streak then
    return remember(replies, worker, nonce, expire_at, {'sick', tostring(streak)})
  end
  return remember(replies, worker, nonce, expire_at, {'timeup', tostring(elapsed)})
end

note_worker(workers, worker, now_s)
local out, taken, handed = {'ok'}, 0, {}

-- running holds the last sign of life (heartbeats move it); owner keeps
-- the worker and the reservation time, from which the duration is
-- measured (prelude: holder). (In a grind, what is claimed is a run, and
-- the worker is handed its id.)
-- The attempt a run is: its requeues and reclaims so far are read only
-- once the build has had one (meta's flags), so a plain pop pays nothing.
local function attempt_of(run, extra)
  if extra == 0 and not m.requeued and not m.reclaimed then return '1' end
  local n = 1 + extra
  if m.requeued then n = n + tonumber(call('HGET', requeues, run) or '0') end
  if m.reclaimed then n = n + tonumber(call('HGET', reclaims, run) or '0') end
  return tostring(n)
end

batching = count > 1
-- (With a limit on this worker's failures in a row, the acks and requeues
-- of the tests it reserves keep its streak: prelude, holder.)
local owned = worker .. ' ' .. now_s
if max_streak > 0 then owned = owned .. ' streak' end
local function claim(run, origin, from, attempt)
  local id = run
  later('ZADD', running, now_s, run)
  later('HSET', owner, run, owned)
  if lost then
    wrote(running)
    wrote(owner)
  end
  if grind then
    id = id_of(run)
    writing(meta, held)
    hold(held, worker, run)
  end
  out[#out + 1] = id
  out[#out + 1] = origin
  out[#out + 1] = from
  out[#out + 1] = attempt
  handed[#handed + 1] = id
  taken = taken + 1
end

-- Lost tests first: their owner stopped answering, and every other
-- worker may be waiting on them. They are the oldest in running. meta's
-- running_floor is a time no score in running is below (scores are
-- times on the server's clock, which only reservations and heartbeats
-- write, at the time they run): while it is within the timeout, no test
-- is lost and running is not read. Each look at running sets it again.
-- (A floor later than now means the clock went back: look.)
local floor = tonumber(m.running_floor or '') or 0
if floor <= now - timeout or floor > now then
  for _ = 1, 100 do
    -- (The marker, at +inf, is first only when nothing is reserved.)
    local oldest = call('ZRANGE', running, 0, 0, 'WITHSCORES')
    local id, score = oldest[1], tonumber(oldest[2] or 'inf')
    floor = math.min(score, now)
    if score >= now - timeout or taken >= count then break end
    local from = holder(call('HGET', owner, id)) or ''
    if grind and from ~= '' then
      writing(meta, held)
      unhold(held, from, id)
    end
    if call('HEXISTS', results, id) == 1 then
      -- An earlier owner recorded a result after losing the reservation;
      -- the later owner vanished: nothing is left to run.
      call('ZREM', running, id)
      call('HDEL', owner, id)
    else
      -- (A reclaim is rare: reclaims gets the deadline again whether
      -- or not it was lost.)
      call('HINCRBY', reclaims, id, 1)
      wrote(reclaims)
      if not m.reclaimed then
        call('HSET', meta, 'reclaimed', '1')
        m.reclaimed = '1'
      end
      writing(meta, stats)
      call('HINCRBY', stats, 'reclaimed', 1)
      writing(meta, wstats)
      call('HINCRBY', wstats, worker .. ':reclaimed', 1)
      claim(id, 'reclaim', from == '' and '?' or from, attempt_of(id, 0))
      -- Now, so that the next look at running sees it taken.
      flush()
    end
  end
  m.running_floor = digits(floor)
  call('HSET', meta, 'running_floor', m.running_floor)
end

-- A retried job (see retry.lua) takes its own list, and nothing else.
local retried = m.retrying == '1' and call('SISMEMBER', retrying, worker) == 1
while retried and taken < count do
  local id = call('LPOP', retry_list)
  if not id then break end
  writing(meta, stats)
  decrease(stats, 'retry_left', 1)
  claim(id, 'retry', '', attempt_of(id, 1))
end

-- Then the queue. Only the head is looked at unless it is this worker's
-- own requeue and another worker is alive; then it goes back, a few more
-- are looked at, and the requeue stays for someone else.
local others, queued = nil, false
-- A build without requeues has no test to pass over: several tests are
-- taken from the head of the queue in one LPOP (with a count: Redis 6.2
-- on; before, the loop below takes them one at a time).
if not retried and not m.requeued and count - taken > 1 then
  local block = redis.pcall('LPOP', queue, count - taken)
  if type(block) == 'table' and not block.err then
    for _, id in ipairs(block) do claim(id, 'queue', '', attempt_of(id, 0)) end
  end
end
while not retried and taken < count do
  local head = call('LPOP', queue)
  if not head then break end
  local pick, by = head, m.requeued and call('HGET', requeued_by, head)
  if by == worker then
    others = others or call('ZCOUNT', workers, now - timeout, '+inf') - 1
    if others >= 1 then
      -- (The pop may have emptied the queue, and so removed the key.)
      call('LPUSH', queue, head)
      wrote(queue)
      queued = true
      pick, by = nil, nil
      for _, id in ipairs(call('LRANGE', queue, 1, 16)) do
        local id_by = call('HGET', requeued_by, id)
        if id_by ~= worker then
          pick, by = id, id_by
          call('LREM', queue, 1, id)
          break
        end
      end
    end
  end
  if not pick then break end
  if by then call('HDEL', requeued_by, pick) end
  claim(pick, 'queue', '', attempt_of(pick, 0))
end

if taken == 0 then
  -- Nothing was handed out (the queue's head may have gone back). The
  -- answer is kept all the same: a late copy of this call must not take
  -- a test that came back meanwhile. (The marker, at +inf, is no
  -- reservation.)
  local oldest = call('ZRANGE', running, 0, 0, 'WITHSCORES')
  if oldest[2] and tonumber(oldest[2]) == math.huge then oldest = {} end
  if not retried and (queued or oldest[1]) then
    -- Wait to be woken: by a requeue or a release (a test came back), or
    -- by the end of the build; but no longer than until the oldest
    -- reservation could be reclaimed. Only this worker's own requeue
    -- queued: ask again shortly, as the other workers may die meanwhile.
    local ms = 0
    if oldest[2] and not queued then
      ms = math.max(1, tonumber(oldest[2]) + timeout - now)
    end
    if call('SADD', waiting, worker) == 1 then
      wrote(waiting)
      count_waiting()
    end
    touch_written(expire_at)
    return remember(replies, worker, nonce, expire_at, {'wait', tostring(ms)})
  end
  stop_waiting()
  -- A negative score marks a worker that saw the end: not alive, not lost.
  note_worker(workers, worker, '-' .. now_s)
  touch_written(expire_at)
  return remember(replies, worker, nonce, expire_at, {'done'})
end
stop_waiting()
-- The ids go to the end of this worker's order list. A push that leaves
-- the list as long as what it pushed made the list: at the worker's
-- first reservation (wstats' WORKER:ordered not yet set) it gets its
-- marker, first, and the deadline; a list made again after it was lost
-- gets the deadline, and no marker (its loss stays seen).
local pushed = math.min(#handed, 1000)
if call('RPUSH', order, unpack(handed, 1, pushed)) == pushed then
  if call('HSETNX', wstats, worker .. ':ordered', '1') == 1 then
    call('LPUSH', order, '')
    wrote(wstats)
  end
  wrote(order)
end
for i = pushed + 1, #handed, 1000 do
  call('RPUSH', order, unpack(handed, i, math.min(i + 999, #handed)))
end
touch_written(expire_at)
return remember(replies, worker, nonce, expire_at, out)
