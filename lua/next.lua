-- next.lua: ciq-ack --next: record results as ack.lua does, then reserve
-- this worker's next test as pop.lua does, in one call: a worker loop
-- pays one script call and one round trip per test instead of two.
-- lua/embed.sh puts ack.lua and pop.lua before this file as the
-- functions ack_part and pop_part; the keys are ack.lua's, then
-- pop.lua's. Each part keeps its own field in the replies hash
-- (prelude), so a repeated call repeats neither.
-- ARGV: nonce worker timeout_ms count max_consecutive_failures waited
--   max_duration_ms (pop.lua's), then status output has_output cases
--   has_cases id... (ack.lua's)
-- Returns ack.lua's reply when it is not "ok"; else ack.lua's reply
-- with pop.lua's appended as one more element, a list; that list is
-- {"skip"} when an id was not this worker's ("notmine"): the call was
-- a mistake, and reserves nothing.
local ack_keys, pop_keys = {}, {}
for i = 1, #KEYS do
  if i <= ack_nkeys then ack_keys[i] = KEYS[i] else pop_keys[i - ack_nkeys] = KEYS[i] end
end
local pop_argv, ack_argv = {}, {ARGV[1], ARGV[2]}
for i = 1, 7 do pop_argv[i] = ARGV[i] end
for i = 8, #ARGV do ack_argv[i - 5] = ARGV[i] end

local out = ack_part(ack_keys, ack_argv)
if out[1] ~= 'ok' then return out end
for i = 3, #out, 4 do
  if out[i] == 'notmine' then
    out[#out + 1] = {'skip'}
    return out
  end
end
out[#out + 1] = pop_part(pop_keys, pop_argv)
return out
