-- queue_touch.lua: a consumer still working an item resets its idle time, so the item is not
-- reclaimed from a live worker. Nothing happens when the item is no longer this consumer's.
-- KEYS[1] the queue's stream. ARGV[1] group, ARGV[2] consumer, ARGV[3] entry id.
-- Returns 1 when touched, 0 otherwise.
local held = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if type(held) ~= 'table' or held.err or #held == 0 then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
