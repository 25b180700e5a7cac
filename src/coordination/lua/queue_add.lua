-- queue_add.lua: append work items to a queue's stream and make the queue active.
-- KEYS[1] the queue's stream, KEYS[2] the SET of active queue names.
-- ARGV[1] consumer group, ARGV[2] queue name, ARGV[3..] payloads (one entry each, field p).
-- The group is created at the stream's start when missing. Returns the number of entries added.
local made = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(made) == 'table' and made.err and not string.find(made.err, 'BUSYGROUP', 1, true) then
  return redis.error_reply(made.err)
end
for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], '*', 'p', ARGV[i])
end
redis.call('SADD', KEYS[2], ARGV[2])
return #ARGV - 2
