-- next.lua: ciq-ack --next: record results as ack.lua does, then reserve
-- this worker's next test as pop.lua does, in one call: a worker loop
-- pays one script call and one round trip per test instead of two.
-- lua/embed.sh puts fast.lua's, ack.lua's and pop.lua's text where this
-- file says "-- PART:", each in a block with its own keys and arguments
-- (the script's keys are theirs, each once, in that order: meta is the
-- first, replies the sixth), and the prelude where it says "-- PRELUDE".
-- fast.lua answers the common call by itself; the others go on to the
-- general path, which runs ack.lua, then pop.lua. The call keeps its one
-- reply itself (prelude: composed, remember), so a repeated call repeats
-- neither part.
-- ARGV: nonce worker timeout_ms count max_consecutive_failures waited
--   max_duration_ms (pop.lua's), then status output has_output cases
--   has_cases id... (ack.lua's)
-- Returns, as kept (one string, see the prelude), the length of ack.lua's
-- reply, ack.lua's reply, then pop.lua's, which the tools make one more
-- element, a list (lib/kept.c); pop.lua's is {"skip"} when an id was not
-- this worker's ("notmine"): the call was a mistake, and reserves
-- nothing. {"gone"} when the build's keys do not exist.
do
-- PART: fast.lua
end

-- PRELUDE

local meta, replies, nonce, worker = KEYS[1], KEYS[6], ARGV[1], ARGV[2]

-- One reply for the call, kept in pop.lua's field of the replies hash
-- (calls that take tests come one after another). (meta is checked here,
-- before either part: with expire_at, publish set the status ready, so
-- neither part answers before it remembers its reply.)
local expire_at = meta_get(meta).expire_at
if not expire_at then return {'gone'} end
local kept = replayed(replies, worker, nonce, true)
if kept then return kept end
composed = true
-- (A test this call ends counts toward the worker's streak when the call
-- limits it: prelude, holder.)
streak_limited = (ARGV[5] or 0) + 0 > 0

do
  -- ack.lua's arguments are the first two and those after the seventh.
  -- (Copied with unpack: a table made from a call's results is made at
  -- its size at once, where a loop grows it an entry at a time.)
  local ARGV = {ARGV[1], ARGV[2], unpack(ARGV, 8, #ARGV)}
-- PART: ack.lua
end

for i = 3, #first_reply, 4 do
  if first_reply[i] == 'notmine' then
    return compose(replies, worker, nonce, expire_at, {'skip'})
  end
end

do
  -- pop.lua's arguments are the call's first seven (it reads no more).
-- PART: pop.lua
end
