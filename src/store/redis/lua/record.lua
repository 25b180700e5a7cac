-- record.lua: record the outcomes of many deliveries in one call.
-- ARGV[5] broadcast state HASH key ('' outside a broadcast), ARGV[6] broadcast tally HASH key,
-- ARGV[7] TTL of both in ms, then per outcome:
--   openId, expected state ('' absent or 'r'; 't|<formId>' when a credit was taken),
--   next state ('' none, else 'r' retry, 's' sent, 'f' failed, 'n' no credit),
--   tally field ('' none, 'sent', 'failed', 'noCredit'), errcode to count ('' none),
--   release: formId ('' no release), projection value when the credit is gone, users score,
--   FormIdReleased entry t and d; then the number of audit events n and n pairs (entry t, d).
-- The audit events are appended first, then FormIdReleased (as release.lua does it).
-- In a broadcast an outcome applies only while the user's state is still the expected one:
-- an outcome recorded twice (a retried call) or arriving after the delivery was declared lost
-- by another worker changes nothing, so recording is idempotent and nothing counts twice.
-- Returns the number of outcomes applied.
local state_key, tally_key, ttl = ARGV[5], ARGV[6], ARGV[7]
local applied = 0
local i = 8
while i <= #ARGV do
  local open_id, expect, next_state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local tally_field, errcode = ARGV[i + 3], ARGV[i + 4]
  local release_id, release_value, release_score, release_t, release_d =
    ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local n = tonumber(ARGV[i + 10])
  local first_event = i + 11
  i = i + 11 + 2 * n
  local matches = true
  if state_key ~= '' and next_state ~= '' then
    local state = redis.call('HGET', state_key, open_id)
    if expect == '' then matches = (state == false or state == 'r') else matches = (state == expect) end
  end
  if matches then
    for k = 0, n - 1 do
      append(ARGV[first_event + 2 * k], ARGV[first_event + 2 * k + 1])
    end
    if release_id ~= '' then
      release_credit(open_id, release_id, release_value, release_score, release_t, release_d)
    end
    if state_key ~= '' and next_state ~= '' then
      redis.call('HSET', state_key, open_id, next_state)
      if tally_field ~= '' then redis.call('HINCRBY', tally_key, tally_field, 1) end
      if errcode ~= '' then redis.call('HINCRBY', tally_key, 'e:' .. errcode, 1) end
    end
    applied = applied + 1
  end
end
keep_broadcast(state_key, tally_key, ttl)
save_head()
return applied
