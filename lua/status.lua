-- status.lua: one consistent look at a build's progress, for the report.
-- KEYS: meta queue running workers results leader stats
-- ARGV: nonce worker timeout_ms
-- Returns {"none", leader} before the build is published (leader is ""
-- when nobody won the election yet), or {status, total, queued, running, processed,
-- live_workers, ms_since_last_sign_of_life, known_workers, stopped,
-- fresh_running}; the silence is "-1" when no worker ever showed up;
-- stopped is "1" once the build reached its --max-failures (nobody takes
-- work any more); fresh_running counts the running tests not yet lost.
local meta, queue, running, workers, results, leader, stats =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local timeout = tonumber(ARGV[3])

local m = redis.call('HMGET', meta, 'status', 'total', 'max_failures')
if not m[1] then return {'none', redis.call('GET', leader) or ''} end
local now = now_ms()
-- Scores are last-seen times; finished workers carry them negated.
local last = -1
local top = redis.call('ZREVRANGE', workers, 0, 0, 'WITHSCORES')
if #top == 2 and tonumber(top[2]) > 0 then last = now - tonumber(top[2]) end
return {
  m[1], m[2] or '0',
  -- Tests waiting in retried jobs' lists count as queued.
  tostring(redis.call('LLEN', queue) + tonumber(redis.call('HGET', stats, 'retry_left') or '0')),
  tostring(redis.call('ZCARD', running)),
  tostring(redis.call('HLEN', results)),
  tostring(redis.call('ZCOUNT', workers, now - timeout, '+inf')),
  tostring(last),
  tostring(redis.call('ZCARD', workers)),
  (tonumber(m[3] or '0') > 0 and
    tonumber(redis.call('HGET', stats, 'failed') or '0') >= tonumber(m[3])) and '1' or '0',
  tostring(redis.call('ZCOUNT', running, now - timeout, '+inf')),
}
