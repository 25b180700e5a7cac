-- swap.lua: make a rebuilt projection live, if the log has not moved since it was built.
-- TypeScript owner: src/store/redis/rebuild.ts.
-- KEYS[1] <prefix>:head, KEYS[2] <prefix>:proj. ARGV[1] seq the rebuild covered, ARGV[2] version.
-- Appends: nothing.
-- Returns: 0 when swapped, else the current head seq (the caller folds the rest and tries again).
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq')) or 0
if seq ~= tonumber(ARGV[1]) then return seq end
redis.call('SET', KEYS[2], ARGV[2])
return 0
