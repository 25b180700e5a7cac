-- seal.lua: stores the chain hashes of the next events, computed by the caller from pending.lua.
-- TypeScript owner: src/store/redis/sealer.ts.
-- KEYS[1] <prefix>:head. ARGV[1] prefix, ARGV[2] the sealed seq the caller started from,
-- ARGV[3] the hashes of events ARGV[2]+1 .. ARGV[2]+k in their stored form
-- (STORED_HASH_LENGTH characters of base64url each, see src/store/redis/stored_hash.ts),
-- concatenated, ARGV[4] the last of them in hex (for the head), ARGV[5] the hashes per chain
-- string, used when the log is first sealed.
-- Constants: STORED_HASH_LENGTH (stored_hash.ts).
-- A compare-and-swap: when another instance sealed first (sealed seq moved), nothing is written.
-- The hashes go to STRINGs <prefix>:chain:<n> of `chunk` hashes each (the head's chunk field,
-- fixed by the first seal): the hash of event seq at offset ((seq - 1) % chunk) * WIDTH of string
-- floor((seq - 1) / chunk). They only grow by APPEND, and Redis grows a string by doubling its
-- allocation: a string that becomes full is copied once into an exact-size one, so the chain
-- costs WIDTH bytes per event, not up to twice that.
-- Appends: nothing to the log; writes chain strings and the head's sealed, hash (and chunk).
-- Returns: the sealed seq after the call.
local WIDTH = STORED_HASH_LENGTH
local prefix, from, hashes, last_hex = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local head = redis.call('HMGET', KEYS[1], 'seq', 'sealed', 'chunk')
local last = tonumber(head[1]) or 0
local sealed = tonumber(head[2]) or 0
local chunk = tonumber(head[3])
local count = #hashes / WIDTH
if sealed ~= from or count == 0 then return sealed end
if from + count > last then return redis.error_reply('seal beyond the head') end
if chunk == nil then
  if sealed ~= 0 then return redis.error_reply('sealed log without a chain layout') end
  chunk = tonumber(ARGV[5])
  redis.call('HSET', KEYS[1], 'chunk', chunk)
end
local seq, offset = from + 1, 1
while offset <= #hashes do
  local n = math.floor((seq - 1) / chunk)
  local take = math.min(count - (seq - from - 1), (n + 1) * chunk - seq + 1)
  local key = prefix .. ':chain:' .. n
  if redis.call('STRLEN', key) ~= ((seq - 1) % chunk) * WIDTH then
    return redis.error_reply('chain string ' .. key .. ' out of step with the sealed head')
  end
  local length = redis.call('APPEND', key, string.sub(hashes, offset, offset + take * WIDTH - 1))
  if length == chunk * WIDTH and take < chunk then
    redis.call('SET', key, redis.call('GET', key))
  end
  seq = seq + take
  offset = offset + take * WIDTH
end
redis.call('HSET', KEYS[1], 'sealed', from + count, 'hash', last_hex)
return from + count
