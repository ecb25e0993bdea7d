-- elect.lua: leader election. The first worker to ask becomes the leader;
-- asking again gives the same answer, so a retried call cannot elect two.
-- KEYS: leader meta
-- ARGV: nonce worker ttl_seconds
-- Returns {leader, status, total, digest} (status "" while not published).
local leader_key, meta = KEYS[1], KEYS[2]
local worker, ttl = ARGV[2], ARGV[3]

call('SET', leader_key, worker, 'NX', 'EX', ttl)
local leader = call('GET', leader_key)
local m = call('HMGET', meta, 'status', 'total', 'digest')
return {leader, m[1] or '', m[2] or '', m[3] or ''}
