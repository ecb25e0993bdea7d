-- prune.lua: drop from the history the ids that no list of the last KEEP
-- ones held (seen.lua numbers the lists). Ids are checked again here, so
-- an id that a list being published meanwhile holds again is kept.
-- KEYS: @history @seen
-- ARGV: keep id...
-- Returns how many ids were dropped.
local history, seen = KEYS[1], KEYS[2]
local last = tonumber(call('HGET', seen, '') or '0')
local oldest = last - tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV do
  local gen = tonumber(call('HGET', seen, ARGV[i]) or '')
  if gen and gen <= oldest then
    call('HDEL', seen, ARGV[i])
    call('HDEL', history, ARGV[i])
    n = n + 1
  end
end
return n
