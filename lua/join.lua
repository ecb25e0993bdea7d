-- join.lua: a worker that lost the election registers once the build is
-- ready, and learns what the leader published. A worker whose list has
-- another digest than the published one is recorded in meta, as
-- mismatch:WORKER = "IDS DIGEST", unless it may differ (strict "0"): the
-- report of such a build is not green. The same worker joining again
-- with the published list (its job retried on a fixed checkout) clears it.
-- KEYS: meta workers
-- ARGV: nonce worker digest ids strict
-- Returns {status, total, digest, leader}; status is "" before publish.
local meta, workers = KEYS[1], KEYS[2]
local worker, digest, ids, strict = ARGV[2], ARGV[3], ARGV[4], ARGV[5] ~= '0'

local m = call('HMGET', meta, 'status', 'total', 'digest', 'leader', 'expire_at')
if m[1] == 'ready' then
  call('ZADD', workers, now_ms(), worker)
  touch(m[5], workers)
  if strict and digest and digest ~= m[3] then
    call('HSET', meta, 'mismatch:' .. worker, ids .. ' ' .. digest)
  elseif digest then
    call('HDEL', meta, 'mismatch:' .. worker)
  end
end
return {m[1] or '', m[2] or '', m[3] or '', m[4] or ''}
