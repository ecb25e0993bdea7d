-- seen.lua: a leader publishes a list of its namespace: note that each of
-- its ids was in list number GEN, so that the history keeps only the ids
-- of the last lists (see prune.lua). The history's seen hash holds, for
-- each id, the number of the last list that held it, and under the
-- empty field the number of the last list. The first call of a list
-- takes the next number; the others of the same list pass it on.
-- KEYS: @seen
-- ARGV: gen ttl_seconds id...
-- Returns the list's number.
local seen = KEYS[1]
local gen = ARGV[1]
if gen == '' then gen = tostring(call('HINCRBY', seen, '', 1)) end
for i = 3, #ARGV do call('HSET', seen, ARGV[i], gen) end
call('EXPIRE', seen, ARGV[2])
return tonumber(gen)
