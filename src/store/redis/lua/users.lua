-- users.lua: a ZSCAN page of the live projection's users index, read-only.
-- TypeScript owner: src/store/redis/projection_read.ts.
-- KEYS[1] <prefix>:proj. ARGV[1] prefix, ARGV[2] cursor, ARGV[3] count.
-- Appends: nothing. Returns: { next cursor, openId, score, openId, score, ... }.
local version = redis.call('GET', KEYS[1]) or '0'
local page = redis.call('ZSCAN', ARGV[1] .. ':p' .. version .. ':users', ARGV[2], 'COUNT', ARGV[3])
local out = { page[1] }
for i = 1, #page[2] do out[#out + 1] = page[2][i] end
return out
