-- projection.lua: a page of the live projection, for audits; read-only.
-- TypeScript owner: src/store/redis/projection_read.ts.
-- KEYS[1] <prefix>:proj. ARGV[1] prefix, ARGV[2] cursor, ARGV[3] count, ARGV[4] now (epoch ms).
-- ZSCANs the users index; for each user whose latest expiry is after now, adds their credits.
-- Appends: nothing. Returns: { next cursor, openId, { HGETALL of the user }, openId, ... }.
local version = redis.call('GET', KEYS[1]) or '0'
local base = ARGV[1] .. ':p' .. version
local page = redis.call('ZSCAN', base .. ':users', ARGV[2], 'COUNT', ARGV[3])
local now = tonumber(ARGV[4])
local members = page[2]
local out = { page[1] }
for i = 1, #members, 2 do
  if tonumber(members[i + 1]) > now then
    out[#out + 1] = members[i]
    out[#out + 1] = redis.call('HGETALL', base .. ':u:' .. members[i])
  end
end
return out
