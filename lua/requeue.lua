-- requeue.lua: put failed tests back at the head of the queue for another
-- worker, within the per-test limit and the build's tolerance. Only the
-- current owner may requeue; a refused requeue changes nothing for that
-- test (the caller then records the failure with ack). A requeued test
-- keeps its output and the runner's testcases (cases, from ciq-requeue
-- --junit) until a later attempt's replace them.
-- KEYS: meta queue running owner results output requeues requeued_by stats wstats replies workers cases order: wake
-- ARGV: nonce worker max_requeues tolerance output has_output cases has_cases id...
-- Returns {"ok", id, verdict, detail, ms, ...} per id: verdict "requeued"
-- (detail: the test's requeues so far; ms: how long this worker held
-- it), "notmine", or a refusal (ms ""):
-- "reclaimed" (detail: the owner now), "recorded", "max-requeues"
-- (detail: requeues so far), "tolerance" (detail: used/allowed), "repeat"
-- (detail: the build's --repeat: a grind runs every test that many times
-- and counts each run, so it never requeues); or {"gone"}.
local meta, queue, running, owner, results, output, requeues, requeued_by,
  stats, wstats, replies, workers, cases, order, wake_list =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8],
  KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15]
local nonce, worker, max_requeues, tolerance, text, has_output, testcases, has_cases =
  ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6] == '1',
  ARGV[7], ARGV[8] == '1'

local m = call('HMGET', meta, 'expire_at', 'total', 'waiting', 'repeat')
local expire_at, total = m[1], tonumber(m[2] or '0')
if not expire_at then return {'gone'} end
local again = replayed(replies, worker .. '\n', nonce, false)
if again then return again end

local now, now_s = now_ms()
note_worker(workers, worker, now_s)
-- The tolerance is a share of the suite: ceil(tolerance * total) requeues
-- for the whole build (the epsilon keeps 0.1 * 30 at 3, not 4).
local allowed = math.max(0, math.ceil(tolerance * total - 1e-9))

local function requeue(id)
  if m[4] then return 'repeat', m[4], '' end
  local alive = call('ZSCORE', running, id)
  local by, started, counts = holder(call('HGET', owner, id))
  if by ~= worker and not handed(order, id) then return 'notmine', '', '' end
  if not alive or by ~= worker then return 'reclaimed', by or '', '' end
  if call('HEXISTS', results, id) == 1 then return 'recorded', '', '' end
  local n = tonumber(call('HGET', requeues, id) or '0')
  if n >= max_requeues then return 'max-requeues', tostring(n), '' end
  local used = tonumber(call('HGET', stats, 'requeued') or '0')
  if used >= allowed then return 'tolerance', used .. '/' .. allowed, '' end

  call('HINCRBY', requeues, id, 1)
  wrote(requeues)
  writing(meta, stats)
  writing(meta, wstats)
  call('HINCRBY', stats, 'requeued', 1)
  call('HINCRBY', wstats, worker .. ':requeued', 1)
  if counts then call('HINCRBY', wstats, worker .. ':streak', 1) end
  -- Busy from the reservation, not from the last heartbeat.
  local ms = now - (started or now)
  call('HINCRBY', wstats, worker .. ':busy_ms', ms)
  if has_output then
    call('HSET', output, id, text)
    wrote(output)
  end
  if has_cases then
    call('HSET', cases, id, testcases)
    wrote(cases)
  end
  call('ZREM', running, id)
  call('HDEL', owner, id)
  call('HSET', requeued_by, id, worker)
  call('LPUSH', queue, id)
  wrote(requeued_by)
  wrote(queue)
  return 'requeued', tostring(n + 1), tostring(ms)
end

local out, n = {'ok'}, 0
for i = 9, #ARGV do
  local verdict, detail, ms = requeue(ARGV[i])
  out[#out + 1] = ARGV[i]
  out[#out + 1] = verdict
  out[#out + 1] = detail
  out[#out + 1] = ms
  if verdict == 'requeued' then n = n + 1 end
end
-- A waiting worker per test put back takes it at once. meta says that
-- this build has requeues at all: until then pop and ack skip looking.
if n > 0 then
  wake(wake_list, m[3], n)
  call('HSET', meta, 'requeued', '1')
end
touch_written(expire_at)
return remember(replies, worker .. '\n', nonce, expire_at, out)
