-- publish.lua: the leader, having pushed every id to the queue, marks the
-- build ready. Nothing is visible to workers before this runs.
-- KEYS: leader meta queue workers stats
-- ARGV: nonce worker total digest seed order ttl_seconds max_failures
-- Returns {"ready"}, {"notleader", leader} or {"short", queued}.
local leader_key, meta, queue, workers, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local worker, total, digest, seed, order, ttl, max_failures =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8]

local leader = redis.call('GET', leader_key)
if leader ~= worker then return {'notleader', leader or ''} end
if redis.call('HGET', meta, 'status') == 'ready' then return {'ready'} end
local queued = redis.call('LLEN', queue)
if queued ~= tonumber(total) then return {'short', tostring(queued)} end

local now = now_ms()
local expire_at = math.floor(now / 1000) + ttl
redis.call('HSET', meta, 'status', 'ready', 'total', total, 'digest', digest,
  'seed', seed, 'order', order, 'leader', worker, 'created_ms', now,
  'expire_at', expire_at, 'max_failures', max_failures)
redis.call('ZADD', workers, now, worker)
-- stats exists from here on (see wrote() in the prelude).
redis.call('HSET', stats, 'total', total)
touch(expire_at, leader_key, meta, queue, workers, stats)
return {'ready'}
