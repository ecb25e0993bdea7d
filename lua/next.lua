-- next.lua: ciq-ack --next: record results as ack.lua does, then reserve
-- this worker's next test as pop.lua does, in one call: a worker loop
-- pays one script call and one round trip per test instead of two.
-- lua/embed.sh puts ack.lua and pop.lua before this file as the
-- functions ack_part and pop_part; the keys are theirs, each once, and
-- ack_keys_of and pop_keys_of pick each part's. The call keeps its one
-- reply itself (prelude: composed), so a repeated call repeats neither
-- part.
-- ARGV: nonce worker timeout_ms count max_consecutive_failures waited
--   max_duration_ms (pop.lua's), then status output has_output cases
--   has_cases id... (ack.lua's)
-- Returns ack.lua's reply when it is not "ok"; else, as kept (one string,
-- see the prelude), the length of ack.lua's reply, ack.lua's reply, then
-- pop.lua's, which the tools make one more element, a list (lib/kept.c);
-- pop.lua's is {"skip"} when an id was not this worker's ("notmine"):
-- the call was a mistake, and reserves nothing.
local meta, replies, nonce, worker = KEYS[1], KEYS[10], ARGV[1], ARGV[2]
local ack_keys, pop_keys = ack_keys_of(KEYS), pop_keys_of(KEYS)
-- pop.lua's arguments are the call's first seven (it reads no more);
-- ack.lua's are the first two and those after the seventh. (Copied with
-- unpack: a table made from a call's results is made at its size at
-- once, where a loop grows it an entry at a time.)
local ack_argv = {ARGV[1], ARGV[2], unpack(ARGV, 8, #ARGV)}

-- One reply for the call, kept in pop.lua's field of the replies hash
-- (calls that take tests come one after another).
local expire_at = meta_get(meta).expire_at
if not expire_at then return {'gone'} end
local kept = replayed(replies, worker, nonce, true)
if kept then return kept end
composed = true
streak_limited = (ARGV[5] or 0) + 0 > 0

local out = ack_part(ack_keys, ack_argv)
if out[1] ~= 'ok' then return out end
local pop = {'skip'}
local notmine = false
for i = 3, #out, 4 do
  if out[i] == 'notmine' then notmine = true end
end
if not notmine then pop = pop_part(pop_keys, ARGV) end
composed = false
local reply = digits(#out) .. '\0' .. encode(out) .. '\0' .. encode(pop)
keep_reply(replies, worker, nonce, expire_at, reply)
return reply
