-- view.lua: one user's live credits in the live projection, read-only.
-- TypeScript owner: src/store/redis/projection_read.ts. Constants: NOT_INDEXED (log_writer.ts).
-- KEYS[1] <prefix>:proj. ARGV[1] prefix, ARGV[2] openId, ARGV[3] now.
-- Reads the user's credit index (credits.lua) from the first rank after now, then those
-- credits' values: a view costs its live credits (bounded by the caps), never the whole hash.
-- Appends: nothing. Returns: formId, credit value, ... in spend order.
local base = ARGV[1] .. ':p' .. (redis.call('GET', KEYS[1]) or '0') .. ':'
-- A version an older release wrote (lib.lua): a users index and no marker.
if redis.call('EXISTS', base .. 'indexed') == 0 and redis.call('EXISTS', base .. 'users') == 1 then
  return redis.error_reply(NOT_INDEXED)
end
local ids = redis.call('ZRANGEBYSCORE', base .. 'c:' .. ARGV[2], '(' .. ARGV[3], '+inf')
local out = {}
-- HMGET in slices: unpack is bounded by Lua's stack (LUAI_MAXCSTACK, 8000).
for s = 1, #ids, 4000 do
  local last = math.min(s + 3999, #ids)
  local values = redis.call('HMGET', base .. 'u:' .. ARGV[2], unpack(ids, s, last))
  for k = s, last do
    local value = values[k - s + 1]
    if value then
      out[#out + 1] = ids[k]
      out[#out + 1] = value
    end
  end
end
return out
