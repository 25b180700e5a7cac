-- registry.lua: the live projection's template registry, read-only.
-- TypeScript owner: src/store/redis/subscriptions.ts.
-- KEYS[1] <prefix>:proj. ARGV[1] prefix.
-- Appends: nothing. Returns: the registry's JSON, or false when no sync ever happened.
return redis.call('GET', ARGV[1] .. ':p' .. (redis.call('GET', KEYS[1]) or '0') .. ':tpl')
