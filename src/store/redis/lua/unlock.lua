-- unlock.lua: release a lock only while it is still ours (it may have expired and been taken).
-- KEYS[1] the lock. ARGV[1] the token it must hold. Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
