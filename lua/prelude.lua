-- prelude.lua: helpers every ciq script starts with (lua/embed.sh prepends
-- this file). Scripts read KEYS and ARGV only; ids are never spliced into
-- key names or commands.

-- Redis before 5 needs effects replication to write after reading TIME;
-- from 7 on it is the only mode and this call is a no-op.
pcall(redis.replicate_commands)

-- Milliseconds on the server's clock: worker clocks never decide anything.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Every key of a build dies at the build's deadline, fixed at publish.
local function touch(expire_at, ...)
  for _, key in ipairs({...}) do
    redis.call('EXPIREAT', key, expire_at)
  end
end

-- A key that a write may have created needs the deadline; one that exists
-- keeps it. meta, workers and stats exist from publish on and are never
-- emptied; wstats and a worker's w: set from its first reservation on. Scripts note the other keys they write
-- with wrote() and give them the deadline once, at the end, with
-- touch_written(): a call costs the server one EXPIREAT per key written,
-- not one per key it names.
local written = {}
local function wrote(key) written[key] = true end
local function touch_written(expire_at)
  for key in pairs(written) do
    redis.call('EXPIREAT', key, expire_at)
  end
end

-- Wake up to n of the workers waiting in ciq-pop (see pop.lua), or all
-- of them when n is nil; waiting is meta's count of them. Each waiter
-- takes one token from the wake list; waking all first clears the list,
-- so every waiter gets exactly one.
local function wake(list, waiting, n)
  waiting = tonumber(waiting or '0')
  if n == nil then redis.call('DEL', list) end
  n = math.min(n or waiting, waiting)
  while n > 0 do
    local tokens = {}
    for i = 1, math.min(n, 1000) do tokens[i] = '1' end
    redis.call('RPUSH', list, unpack(tokens))
    n = n - #tokens
    wrote(list)
  end
end

-- Replies are flat lists of strings; stored as "len:bytes" runs so that
-- any byte, NUL included, survives.
local function encode(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = #v .. ':' .. v end
  return table.concat(parts)
end

local function decode(s)
  local out, pos = {}, 1
  while pos <= #s do
    local colon = string.find(s, ':', pos, true)
    local n = tonumber(string.sub(s, pos, colon - 1))
    out[#out + 1] = string.sub(s, colon + 1, colon + n)
    pos = colon + n + 1
  end
  return out
end

-- The reply this worker got for this nonce, if the call already ran: a
-- client repeating a call after a lost reply must not act twice.
local function replayed(replies, worker, nonce)
  local v = redis.call('HGET', replies, worker)
  if v and string.sub(v, 1, #nonce + 1) == nonce .. ' ' then
    return decode(string.sub(v, #nonce + 2))
  end
  return nil
end

local function remember(replies, worker, nonce, expire_at, reply)
  -- A new field may be a new key; an overwritten one is not.
  if redis.call('HSET', replies, worker, nonce .. ' ' .. encode(reply)) == 1 then
    redis.call('EXPIREAT', replies, expire_at)
  end
  return reply
end

