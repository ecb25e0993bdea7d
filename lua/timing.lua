-- timing.lua: fold a finished build's durations into its namespace's
-- history, ciq:timing:{NS}, in one step per batch, so that two reports of
-- one namespace that finish at once lose no update. Each build counts
-- for half: the new value is the mean of the old one and the new
-- duration (rounded up); an id new to the history takes its duration.
-- The history is no build's key: the caller names it (script.h).
-- KEYS: @timing
-- ARGV: id ms id ms ...
-- Returns the number of ids folded in.
local history = KEYS[1]
local n = 0
for i = 1, #ARGV - 1, 2 do
  local ms = tonumber(ARGV[i + 1])
  local old = tonumber(call('HGET', history, ARGV[i]) or '')
  if old then ms = math.floor((old + ms + 1) / 2) end
  call('HSET', history, ARGV[i], ms)
  n = n + 1
end
return n
