-- write_subs.lua: writes rebuilt users' subscription state into a projection version, many
-- users per call, after write_users.lua wrote (and, in a live version, first cleared) their
-- keys. TypeScript owner: src/store/redis/rebuild.ts.
-- KEYS[1] <prefix>:p<version>:users, the users index of that version.
-- ARGV[1] the version's key prefix "<prefix>:p<version>:", then per user: openId, the settings'
-- JSON data ('' none), the number n of templates, n times: templateId, "<answer>|<source>",
-- the number c of the client's waiting accepts and c pairs (formId, until), the number w of
-- WeChat's and w pairs; then the number s of seen keys and s pairs (key, until).
-- Writes answer.lua's keys (sa:, ss:, sn:, pc:, pw:) and puts the user in the users index with
-- a past score when absent.
-- Appends: nothing. Returns: the number of users written.
local base = ARGV[1]
local i, count = 2, 0
local function pairs_into(key, at)
  local n = tonumber(ARGV[at])
  for k = at + 1, at + 2 * n, 2 do redis.call('ZADD', key, ARGV[k + 1], ARGV[k]) end
  return at + 1 + 2 * n
end
while i <= #ARGV do
  local open_id, settings = ARGV[i], ARGV[i + 1]
  if settings ~= '' then redis.call('SET', base .. 'ss:' .. open_id, settings) end
  local n = tonumber(ARGV[i + 2])
  i = i + 3
  for _ = 1, n do
    local template = ARGV[i]
    redis.call('HSET', base .. 'sa:' .. open_id, template, ARGV[i + 1])
    i = pairs_into(base .. 'pc:' .. open_id .. ':' .. template, i + 2)
    i = pairs_into(base .. 'pw:' .. open_id .. ':' .. template, i)
  end
  i = pairs_into(base .. 'sn:' .. open_id, i)
  redis.call('ZADD', KEYS[1], 'GT', 1, open_id)
  count = count + 1
end
return count
