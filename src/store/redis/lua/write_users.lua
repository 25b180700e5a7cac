-- write_users.lua: writes rebuilt users into a projection version, many users per call (one
-- command instead of a pipeline of several per user keeps a rebuild's writes cheap to send).
-- TypeScript owner: src/store/redis/rebuild.ts. Prelude: credit_value.lua.
-- KEYS[1] <prefix>:p<version>:users, the users index of that version.
-- ARGV[1] the version's key prefix "<prefix>:p<version>:", ARGV[2] "1" when the version is
-- fresh (no keys yet), then per user: openId, users index score, n, and n groups of 4: formId,
-- value (credit_value.ts), spend group ('' not live) and index score ('' none) (indexEntry);
-- n = 0: the user holds nothing valid and is removed.
-- Writes each user's hash and credit index (credits.lua's layout): a live credit in c: and its
-- group g:<openId>:<group> by spend rank, a spent one in s: by expiry.
-- Appends: nothing. Returns: the number of users written.
local base, fresh = ARGV[1], ARGV[2] == '1'
local i, count = 3, 0
-- unpack is bounded by Lua's stack (LUAI_MAXCSTACK, 8000): commands take slices well under it.
local SLICE = 2000
-- The users index gets one ZADD (and one ZREM) per slice of the whole call.
local scored, gone = {}, {}
while i <= #ARGV do
  local open_id, score, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  if not fresh then redis.call('DEL', unpack(user_keys(base, open_id))) end
  local hash = {}
  local indexes = {} -- key -> { score, member, score, member, ... }
  for j = i + 3, i + 2 + 4 * n, 4 do
    local id, value, group, index_score = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
    hash[#hash + 1] = id
    hash[#hash + 1] = value
    local keys = {}
    if group ~= '' then
      keys = { base .. 'c:' .. open_id, base .. 'g:' .. open_id .. ':' .. group }
    elseif index_score ~= '' then
      keys = { base .. 's:' .. open_id }
    end
    for _, key in ipairs(keys) do
      local entries = indexes[key] or {}
      indexes[key] = entries
      entries[#entries + 1] = index_score
      entries[#entries + 1] = id
    end
  end
  for s = 1, #hash, SLICE do
    redis.call('HSET', base .. 'u:' .. open_id, unpack(hash, s, math.min(s + SLICE - 1, #hash)))
  end
  for key, entries in pairs(indexes) do
    for s = 1, #entries, SLICE do
      redis.call('ZADD', key, unpack(entries, s, math.min(s + SLICE - 1, #entries)))
    end
  end
  if n > 0 then
    scored[#scored + 1] = score
    scored[#scored + 1] = open_id
  elseif not fresh then
    gone[#gone + 1] = open_id
  end
  i = i + 3 + 4 * n
  count = count + 1
end
for s = 1, #scored, SLICE do
  redis.call('ZADD', KEYS[1], unpack(scored, s, math.min(s + SLICE - 1, #scored)))
end
for s = 1, #gone, SLICE do
  redis.call('ZREM', KEYS[1], unpack(gone, s, math.min(s + SLICE - 1, #gone)))
end
return count
