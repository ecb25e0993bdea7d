-- status.lua: one consistent look at a build's progress, for the report.
-- KEYS: meta queue running workers results leader stats output cases owner requeues reclaims requeued_by wstats replies flaky held
-- ARGV: nonce worker timeout_ms
-- Returns {"none", leader} before the build is published (leader is ""
-- when nobody won the election yet); {"vanished"} when meta is gone but
-- keys that only publish makes are there; or {status, total, queued,
-- running, processed, live_workers, ms_since_last_sign_of_life,
-- known_workers, stopped, fresh_running, lost...}: the silence is "-1"
-- when no worker ever showed up; stopped is "1" once the build reached
-- its --max-failures (nobody takes work any more); fresh_running counts
-- the running tests not yet lost; lost names each key from the marker
-- list (KEYS from the third on) that has lost its marker (prelude).
local meta, queue, running, workers, results, leader, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local timeout = tonumber(ARGV[3])

local m = call('HMGET', meta, 'status', 'total', 'max_failures')
if m[1] ~= 'ready' then
  if call('EXISTS', stats, results, workers, running) > 0 then return {'vanished'} end
  return {'none', call('GET', leader) or ''}
end
local now = now_ms()
local lost, has = {}, {}
for i = 3, #KEYS do
  if i ~= 6 then
    has[i] = marked(KEYS[i]) and 1 or 0
    if has[i] == 0 then lost[#lost + 1] = string.match(KEYS[i], '}:(.*)$') end
  end
end
-- Scores are last-seen times; finished workers carry them negated, the
-- marker 0.
local last = -1
local top = call('ZREVRANGE', workers, 0, 0, 'WITHSCORES')
if #top == 2 and tonumber(top[2]) > 0 then last = now - tonumber(top[2]) end
local out = {
  m[1], m[2] or '0',
  -- Tests waiting in retried jobs' lists count as queued.
  tostring(call('LLEN', queue) + tonumber(call('HGET', stats, 'retry_left') or '0')),
  tostring(call('ZCARD', running) - has[3]),
  tostring(call('HLEN', results) - has[5]),
  tostring(call('ZCOUNT', workers, now - timeout, '+inf')),
  tostring(last),
  tostring(call('ZCARD', workers) - has[4]),
  (tonumber(m[3] or '0') > 0 and
    tonumber(call('HGET', stats, 'failed') or '0') >= tonumber(m[3])) and '1' or '0',
  tostring(call('ZCOUNT', running, now - timeout, '+inf') - has[3]),
}
for _, name in ipairs(lost) do out[#out + 1] = name end
return out
