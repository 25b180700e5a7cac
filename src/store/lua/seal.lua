-- seal.lua: stores the chain hashes of the next events, computed by the caller from pending.lua.
-- KEYS[1] <prefix>:head. ARGV[1] prefix, ARGV[2] the sealed seq the caller started from,
-- ARGV[3] the hashes of events ARGV[2]+1 .. ARGV[2]+k, 64 hex characters each, concatenated.
-- A compare-and-swap: when another instance sealed first (sealed seq moved), nothing is written.
-- Each segment's hashes go to the STRING <prefix>:chain:<segment> (APPEND only), the hash of
-- event seq at offset ((seq - 1) % seg) * 64. Returns the sealed seq after the call.
local prefix, from, hashes = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local head = redis.call('HMGET', KEYS[1], 'seq', 'seg', 'sealed')
local last = tonumber(head[1]) or 0
local seg = tonumber(head[2]) or 1
local sealed = tonumber(head[3]) or 0
local count = #hashes / 64
if sealed ~= from or count == 0 then return sealed end
if from + count > last then return redis.error_reply('seal beyond the head') end
local seq, offset = from + 1, 1
while offset <= #hashes do
  local segment = math.floor((seq - 1) / seg)
  local take = math.min(count - (seq - from - 1), (segment + 1) * seg - seq + 1)
  local key = prefix .. ':chain:' .. segment
  if redis.call('STRLEN', key) ~= ((seq - 1) % seg) * 64 then
    return redis.error_reply('chain string ' .. key .. ' out of step with the sealed head')
  end
  redis.call('APPEND', key, string.sub(hashes, offset, offset + take * 64 - 1))
  seq = seq + take
  offset = offset + take * 64
end
redis.call('HSET', KEYS[1], 'sealed', from + count, 'hash', string.sub(hashes, -64))
return from + count
