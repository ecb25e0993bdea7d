-- heartbeat.lua: a worker's tests are still running. Refreshes the
-- reservation time of each id this worker still holds, so a test that
-- runs longer than the timeout on a live worker is never taken from it,
-- and marks the worker alive for the report.
-- KEYS: meta running owner workers
-- ARGV: nonce worker id...
-- Returns {"beat", id...} with the ids still held, or {"gone"}.
local meta, running, owner, workers = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local worker = ARGV[2]

if not call('HGET', meta, 'expire_at') then return {'gone'} end
local now = now_ms()
local out = {'beat'}
for i = 3, #ARGV do
  local id = ARGV[i]
  if holder(call('HGET', owner, id)) == worker and call('ZSCORE', running, id) then
    call('ZADD', running, now, id)
    out[#out + 1] = id
  end
end
-- (XX: a heartbeat does not make workers again when it was lost.)
if #out > 1 then call('ZADD', workers, 'XX', now, worker) end
return out
