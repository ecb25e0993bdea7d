-- acl.lua: which of the commands that ciq's scripts run the user may not
-- run. The server's error for a command refused inside a script does not
-- say which it was: the tools run this after one, to name them.
-- redis.acl_check_cmd came with Redis 7: an older server names none.
-- KEYS:
-- ARGV: command...
-- Returns the commands of ARGV that the user may not run, in their order.
local out = {}
if not redis.acl_check_cmd then return out end
for _, cmd in ipairs(ARGV) do
  local ok, allowed = pcall(redis.acl_check_cmd, cmd)
  if ok and not allowed then out[#out + 1] = cmd end
end
return out
