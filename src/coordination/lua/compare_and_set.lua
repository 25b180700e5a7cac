-- compare_and_set.lua: replace a value only while the key still holds the one the caller read.
-- TypeScript owner: src/coordination/redis.ts (RedisKeyValue.compareAndSet).
-- KEYS[1] the key. ARGV[1] '1' when the caller read a value, '0' when it found the key absent;
-- ARGV[2] that value; ARGV[3] '1' to set, '0' to delete; ARGV[4] the new value; ARGV[5] its
-- expiry in ms. Returns 1 when the key held what the caller read (and was changed), else 0.
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
else
  redis.call('DEL', KEYS[1])
end
return 1
