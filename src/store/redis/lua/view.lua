-- view.lua: one user's projection hash in the live projection, read-only.
-- TypeScript owner: src/store/redis/projection_read.ts.
-- KEYS[1] <prefix>:proj. ARGV[1] prefix, ARGV[2] openId.
-- Appends: nothing. Returns: HGETALL's flat list (formId, credit value, ...).
local version = redis.call('GET', KEYS[1]) or '0'
return redis.call('HGETALL', ARGV[1] .. ':p' .. version .. ':u:' .. ARGV[2])
