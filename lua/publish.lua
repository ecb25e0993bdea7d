-- publish.lua: the leader, having pushed every id to the queue, marks the
-- build ready. Nothing is visible to workers before this runs. Every key
-- that holds records is made here, with its marker (prelude), and dies
-- at the build's deadline.
-- KEYS: leader meta queue workers stats results output cases owner requeues reclaims requeued_by wstats replies flaky running held
-- ARGV: nonce worker total digest seed order ttl_seconds max_failures repeat [unit parts]...
-- repeat above 1 makes a grind: the queue holds that many runs of each
-- id (prelude). Each unit the leader split into parts (--split-command)
-- is noted in meta as split:UNIT = parts.
-- Returns {"ready"}, {"notleader", leader} or {"short", queued}.
local leader_key, meta, queue, workers, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local worker, total, digest, seed, order, ttl, max_failures, rep =
  ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9] or '1'

local leader = call('GET', leader_key)
if leader ~= worker then return {'notleader', leader or ''} end
if call('HGET', meta, 'status') == 'ready' then return {'ready'} end
local queued = call('LLEN', queue)
if queued ~= tonumber(total) then return {'short', tostring(queued)} end

local now = now_ms()
local expire_at = math.floor(now / 1000) + ttl
call('HSET', meta, 'status', 'ready', 'total', total, 'digest', digest,
  'seed', seed, 'order', order, 'leader', worker, 'created_ms', now,
  'expire_at', expire_at, 'max_failures', max_failures)
if rep ~= '1' then call('HSET', meta, 'repeat', rep) end
for i = 10, #ARGV - 1, 2 do call('HSET', meta, 'split:' .. ARGV[i], ARGV[i + 1]) end
mark(meta)
call('HSET', stats, 'total', total)
for i = 4, #KEYS do
  mark(KEYS[i])
  call('EXPIREAT', KEYS[i], expire_at)
end
call('ZADD', workers, now, worker)
touch(expire_at, leader_key, meta, queue)
return {'ready'}
