-- ack.lua: record the result of tests this worker reserved.
-- The first result recorded for a test stands, with one exception: a pass
-- after a failure makes the test flaky and its result a pass. A worker
-- whose reservation was reclaimed may still record the first result, but
-- only the current owner's ack ends the reservation.
-- The runner's testcases (cases, from ciq-ack --junit) describe one
-- attempt: they are stored when this call records the test's result or
-- ends this worker's own run of it, replacing those of an earlier attempt
-- (a requeue's); a repeated ack of one run changes nothing.
-- In a grind, an id means the oldest run of it this worker holds (prelude).
-- KEYS: meta running owner results output flaky requeues stats wstats replies cases order: queue wake held
-- ARGV: nonce worker status output has_output cases has_cases id...
-- status is pass, fail or skip. Returns {"ok", id, outcome, held, ms, ...}:
-- outcome is "recorded", "duplicate" (a result was already there),
-- "flaky" (this result disagrees with an earlier one) or "notmine" (this
-- worker never reserved the test); held is "1" when this call ended the
-- worker's own reservation, and ms then how long it held it (else "").
-- {"gone"} when the build's keys do not exist.
local meta, running, owner, results, output, flaky, requeues, stats, wstats,
  replies, cases, order, queue, wake_list, held =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8],
  KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15]
local nonce, worker, status, text, has_output, testcases, has_cases =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6], ARGV[7] == '1'

local m = meta_get(meta)
local expire_at, grind = m.expire_at, m['repeat'] ~= false
if not expire_at then return {'gone'} end
local again = replayed(replies, worker .. '\n', nonce, false)
if again then return again end
-- (The keys only some acks write are asked about when written: prelude,
-- writing. running and owner lose tests here, which never makes a key:
-- they are asked about, first and in pop.lua's order, only for the
-- reservation a next.lua call makes after this, whose pop part then
-- finds its keys at once among those seen.)
local lost
if composed then
  lost = not all_exist(meta, running, owner, wstats, results)
else
  lost = not all_exist(meta, wstats, results)
end
if lost then wrote(wstats) end

local code = string.sub(status, 1, 1)
local now = now_ms()
local out, ended = {'ok'}, false

local function mark_flaky(id)
  writing(meta, flaky)
  if call('SADD', flaky, id) == 1 then
    writing(meta, stats)
    call('HINCRBY', stats, 'flaky', 1)
  end
end

local function set_output(id)
  writing(meta, output)
  call('HSET', output, id, text)
end

-- With several tests, their owners (with the reservation times) and
-- results are read at once (in a grind, what is looked up is a run: one
-- at a time), and the loop keeps them current, as its own writes wait
-- for flush().
-- One test's are read when needed; its result is set with HSETNX, which
-- reads and writes in one call.
local owners, prevs = {}, {}
local function fetch(hash, into, ids)
  for i = 1, #ids, 1000 do
    local vals = call('HMGET', hash, unpack(ids, i, math.min(i + 999, #ids)))
    for j = 1, #vals do into[ids[i + j - 1]] = vals[j] end
  end
end
local function lookup(hash, from, id)
  if from[id] == nil then from[id] = call('HGET', hash, id) end
  return from[id]
end
batching = #ARGV > 8
if batching and not grind then
  local ids = {}
  for i = 8, #ARGV do ids[#ids + 1] = ARGV[i] end
  fetch(owner, owners, ids)
  fetch(results, prevs, ids)
end
-- Record v as id's result unless it has one; returns the one it had.
local function record_first(id, v)
  if prevs[id] == nil then
    if call('HSETNX', results, id, v) == 1 then
      prevs[id] = v
    else
      prevs[id] = call('HGET', results, id)
      return prevs[id]
    end
  elseif prevs[id] then
    return prevs[id]
  else
    later('HSET', results, id, v)
    prevs[id] = v
  end
  return nil
end

-- A run of failures on one worker points at the worker: a pass or a
-- skip ends it. It is kept for the tests a pop reserved with a limit on
-- it, or that a next.lua call with one ends (prelude: holder), and
-- written once, at the end: the failures since the last pass of this
-- call, added to it or, after a pass, in its place.
local streak, streak_reset = nil, false
local busy_ms = worker .. ':busy_ms'
-- (Tests reserved together end together: the last duration and record
-- made are kept for the next test, which likely has the same.)
local made_from, made_ms, rec_ms, rec
for i = 8, #ARGV do
  local id = ARGV[i]
  if grind then id = runs_of(held, worker, id, grind)[1] end
  local outcome, ended_here, recorded, ms = 'recorded', '0', false, ''
  -- owner and running change together: an owner means a reservation, and
  -- this worker's reservation means the test is its own.
  local by, started, counts = holder(id and lookup(owner, owners, id))
  local mine_now = id and by == worker
  if not id or (not mine_now and not handed(order, id_of(id))) then
    outcome = 'notmine'
  else
    if mine_now then
      -- From the reservation, not the last heartbeat.
      later('ZREM', running, id)
      later('HDEL', owner, id)
      owners[id] = false
      if grind then
        writing(meta, held)
        unhold(held, worker, id)
      end
      started = started or now
      if started ~= made_from then made_from, made_ms = started, digits(now - started) end
      ms = made_ms
      add(wstats, busy_ms, now - started)
      ended_here = '1'
      ended = true
      if counts or streak_limited then
        if code == 'f' then
          streak = (streak or 0) + 1
        else
          streak, streak_reset = 0, true
        end
      end
    end
    if ms ~= rec_ms then rec_ms, rec = ms, code .. ' ' .. ms .. ' ' .. worker end
    local prev = record_first(id, rec)
    if not prev then
      recorded = true
      if lost then wrote(results) end
      -- The build counts its failures, for --max-failures; passes and
      -- skips, and each worker's results, are counted from the records.
      if code == 'f' then
        writing(meta, stats)
        add(stats, 'failed', 1)
      end
      if code == 'f' and has_output then set_output(id) end
      if code == 'p' and m.requeued and call('HEXISTS', requeues, id) == 1 then mark_flaky(id) end
    else
      local pcode = string.sub(prev, 1, 1)
      if (pcode == 'p' and code == 'f') or (pcode == 'f' and code == 'p') then
        outcome = 'flaky'
        mark_flaky(id)
        if code == 'p' then
          -- (After the writes that wait: one of them may be this test's.)
          flush()
          prevs[id] = code .. ' ' .. ms .. ' ' .. worker
          call('HSET', results, id, prevs[id])
          recorded = true
          writing(meta, stats)
          decrease(stats, 'failed', 1)
        elseif has_output then
          set_output(id)
        end
      else
        outcome = 'duplicate'
        -- A test run again (a retry) that fails again keeps its latest
        -- output; a repeated ack of one run changes nothing.
        if code == 'f' and pcode == 'f' and has_output and ended_here == '1' then
          set_output(id)
        end
      end
    end
    if has_cases and (recorded or ended_here == '1') then
      writing(meta, cases)
      call('HSET', cases, id, testcases)
    end
  end
  out[#out + 1] = ARGV[i]
  out[#out + 1] = outcome
  out[#out + 1] = ended_here
  out[#out + 1] = ms
end
if streak_reset then
  call('HSET', wstats, worker .. ':streak', streak)
elseif streak then
  add(wstats, worker .. ':streak', streak)
end
flush()
-- Workers wait in ciq-pop while tests run elsewhere: the last one to end
-- wakes them all, to find the build done. (running keeps its marker.)
if (m.waiting or 0) + 0 > 0 and ended and call('ZCARD', running) <= 1 and
    call('LLEN', queue) == 0 then
  wake(wake_list, m.waiting)
end
touch_written(expire_at)
-- (nil as the first part of next.lua, which goes on.)
local reply = remember(replies, worker .. '\n', nonce, expire_at, out)
if reply then return reply end
