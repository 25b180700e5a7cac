-- write_users.lua: writes rebuilt users into a projection version, many users per call (one
-- command instead of a pipeline of two per user keeps a rebuild's writes cheap to send).
-- TypeScript owner: src/store/redis/rebuild.ts.
-- KEYS[1] <prefix>:p<version>:users, the users index of that version.
-- ARGV[1] user key prefix "<prefix>:p<version>:u:", ARGV[2] "1" when the version is fresh (no
-- keys yet), then per user: openId, index score, n, and n formId/value pairs (credit_value.ts;
-- n = 0: the user holds nothing valid and is removed).
-- Appends: nothing. Returns: the number of users written.
local prefix, fresh = ARGV[1], ARGV[2] == '1'
local i, count = 3, 0
-- The users index gets one ZADD (and one ZREM) for the whole call.
local scored, gone = {}, {}
while i <= #ARGV do
  local open_id, score, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local key = prefix .. open_id
  if not fresh then redis.call('DEL', key) end
  if n > 0 then
    redis.call('HSET', key, unpack(ARGV, i + 3, i + 2 + 2 * n))
    scored[#scored + 1] = score
    scored[#scored + 1] = open_id
  elseif not fresh then
    gone[#gone + 1] = open_id
  end
  i = i + 3 + 2 * n
  count = count + 1
end
-- unpack is bounded by Lua's stack (LUAI_MAXCSTACK, 8000): add in slices well under it.
for s = 1, #scored, 4000 do
  redis.call('ZADD', KEYS[1], unpack(scored, s, math.min(s + 3999, #scored)))
end
for s = 1, #gone, 4000 do
  redis.call('ZREM', KEYS[1], unpack(gone, s, math.min(s + 3999, #gone)))
end
return count
