-- collect.lua: add credits to users, one FormIdCollected event per new credit. One call may
-- carry many uploads (coalesced by the ledger); the whole call is one atomic step.
-- TypeScript owner: src/store/redis/collect.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]).
-- ARGV[4..], per upload: openId, credit count n, then 5 per credit: formId, projection value
-- (credit_value.ts), users index score, entry t and d (entry.ts).
-- A formId the user already has (valid, spent, or earlier in this call) is a duplicate.
-- Appends: FormIdCollected per new credit (the caller's t and d).
-- Returns: the sealed seq and hash before the call (for the caller to seal the new events
-- without reading them back), then one integer per credit, uploads in order: its seq when
-- collected, 0 when a duplicate.
local sealed = redis.call('HMGET', KEYS[1], 'sealed', 'hash')
local result = { tonumber(sealed[1]) or 0, sealed[2] or '' }
local i = 4
while i <= #ARGV do
  local open_id = ARGV[i]
  local last = i + 1 + tonumber(ARGV[i + 1]) * 5
  local key = user_key(open_id)
  local best_score = 0
  for j = i + 2, last, 5 do
    if redis.call('HSETNX', key, ARGV[j], ARGV[j + 1]) == 1 then
      result[#result + 1] = append(ARGV[j + 3], ARGV[j + 4])
      local score = tonumber(ARGV[j + 2])
      if score > best_score then best_score = score end
    else
      result[#result + 1] = 0
    end
  end
  if best_score > 0 then
    redis.call('ZADD', users_key(), 'GT', best_score, open_id)
  end
  i = last + 1
end
save_head()
return result
