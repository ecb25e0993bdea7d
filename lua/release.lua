-- release.lua: give this worker's reservations back to the head of the
-- queue at once (all of them, or the ids given), and mark the worker as
-- gone. Used from a TERM/INT trap, so another worker need not wait for
-- the timeout.
-- In a grind, an id stands for every run of it the worker holds.
-- KEYS: meta queue running owner stats workers replies wake held
-- ARGV: nonce worker id...
-- Returns {"released", n} or {"gone"}.
local meta, queue, running, owner, stats, workers, replies, wake_list, held =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local nonce, worker = ARGV[1], ARGV[2]

local m = call('HMGET', meta, 'expire_at', 'waiting', 'repeat')
local expire_at, grind = m[1], m[3] ~= false
if not expire_at then return {'gone'} end
local again = replayed(replies, worker, nonce, true)
if again then return again end

local ids = {}
for i = 3, #ARGV do
  for _, run in ipairs(runs_of(held, worker, ARGV[i], grind)) do ids[#ids + 1] = run end
end
if #ARGV < 3 then ids = call('ZRANGE', running, 0, -1) end
local n = 0
for _, id in ipairs(ids) do
  if id ~= '' and holder(call('HGET', owner, id)) == worker and call('ZSCORE', running, id) then
    call('ZREM', running, id)
    call('HDEL', owner, id)
    if grind then
      unhold(held, worker, id)
      wrote(held)
    end
    call('LPUSH', queue, id)
    wrote(queue)
    n = n + 1
  end
end
if n > 0 then
  writing(meta, stats)
  call('HINCRBY', stats, 'released', n)
  -- A waiting worker per test given back takes it at once.
  wake(wake_list, m[2], n)
end
local _, now_s = now_ms()
note_worker(workers, worker, '-' .. now_s)
touch_written(expire_at)
return remember(replies, worker, nonce, expire_at, {'released', tostring(n)})
