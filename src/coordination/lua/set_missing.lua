-- set_missing.lua: set each key that is absent, in order, in one atomic step (a batch of
-- `SET key value PX ms NX`). TypeScript owner: src/coordination/redis.ts (RedisKeyValue.setMissing).
-- KEYS[i] the i-th key. ARGV[2i - 1] its value, ARGV[2i] its time to live in ms.
-- Returns per key 1 when it was set, 0 when it existed (and was left as it was).
local out = {}
for i = 1, #KEYS do
  local set = redis.call('SET', KEYS[i], ARGV[2 * i - 1], 'PX', ARGV[2 * i], 'NX')
  out[i] = set and 1 or 0
end
return out
