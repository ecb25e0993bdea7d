-- join.lua: a worker that lost the election registers once the build is
-- ready, and learns what the leader published.
-- KEYS: meta workers
-- ARGV: nonce worker
-- Returns {status, total, digest, leader}; status is "" before publish.
local meta, workers = KEYS[1], KEYS[2]
local worker = ARGV[2]

local m = redis.call('HMGET', meta, 'status', 'total', 'digest', 'leader', 'expire_at')
if m[1] == 'ready' then
  redis.call('ZADD', workers, now_ms(), worker)
  touch(m[5], workers)
end
return {m[1] or '', m[2] or '', m[3] or '', m[4] or ''}
