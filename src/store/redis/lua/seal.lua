-- seal.lua: stores the chain hashes of the next events, computed by the caller from pending.lua.
-- TypeScript owner: src/store/redis/sealer.ts. Prelude: chain_strings.lua (the layout).
-- KEYS[1] <prefix>:head. ARGV[1] prefix, ARGV[2] the sealed seq the caller started from,
-- ARGV[3] the hashes of events ARGV[2]+1 .. ARGV[2]+k in their stored form
-- (STORED_HASH_LENGTH characters of base64url each, see src/store/redis/stored_hash.ts),
-- concatenated, ARGV[4] the last of them in hex (for the head), ARGV[5] the hashes per chain
-- string, used when the log is first sealed.
-- Constants: STORED_HASH_LENGTH (stored_hash.ts).
-- A compare-and-swap: when another instance sealed first (sealed seq moved), nothing is written.
-- Appends: nothing to the log; writes chain strings and the head's sealed, hash (and chunk).
-- Returns: the sealed seq after the call.
local prefix, from, hashes, last_hex = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local head = redis.call('HMGET', KEYS[1], 'seq', 'sealed', 'chunk')
local last = tonumber(head[1]) or 0
local sealed = tonumber(head[2]) or 0
local count = #hashes / STORED_HASH_LENGTH
if sealed ~= from or count == 0 then return sealed end
if from + count > last then return redis.error_reply('seal beyond the head') end
local now, err = store_hashes(KEYS[1], prefix, from, hashes, last_hex, tonumber(head[3]),
  tonumber(ARGV[5]))
if not now then return redis.error_reply(err) end
return now
