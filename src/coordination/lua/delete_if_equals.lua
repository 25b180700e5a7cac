-- delete_if_equals.lua: release a lock (or drop a cached value) only while it is still ours.
-- KEYS[1] the key. ARGV[1] the value it must hold. Returns 1 when deleted, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
