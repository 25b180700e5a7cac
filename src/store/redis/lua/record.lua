-- record.lua: record the outcomes of many deliveries in one call.
-- TypeScript owner: src/store/redis/record.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]).
-- ARGV[4] broadcast state HASH key ('' outside a broadcast), ARGV[5] broadcast tally HASH key,
-- then from ARGV[6], per outcome, 13 + 2n arguments:
--   openId, expected state ('': absent or STATE_LETTER.retry; STATE_TAKEN .. formId when a
--   credit was taken), next state ('' none, else a STATE_LETTER), tally field ('' none,
--   'sent', 'failed', 'noCredit'), errcode to count ('' none),
--   lib.lua's release group: formId ('' no release), projection value when the credit is
--   gone, users score, FormIdReleased entry t and d;
--   the push state key ('' none; outside a broadcast only) and its TTL in ms;
--   then the number of audit events n and n pairs (entry t, d).
-- Constants: STATE_LETTER, STATE_TAKEN, STATE_LOST (broadcast_state.ts).
-- In a broadcast an outcome applies only while the user's state is still the expected one:
-- an outcome recorded twice (a retried call) or arriving after the delivery was declared lost
-- by another worker changes nothing, so recording is idempotent and nothing counts twice. A push
-- whose state is kept (take.lua) is held to the same rule through its push state key.
-- Appends: per applied outcome, its audit events, then FormIdReleased when it releases.
-- Returns: the number of outcomes applied.
local state_key, tally_key = ARGV[4], ARGV[5]
local applied = 0
local i = 6
while i <= #ARGV do
  local open_id, expect, next_state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local tally_field, errcode = ARGV[i + 3], ARGV[i + 4]
  local release_id, release_value, release_score, release_t, release_d =
    ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local push_key, push_ttl = ARGV[i + 10], ARGV[i + 11]
  local n = tonumber(ARGV[i + 12])
  local first_event = i + 13
  i = i + 13 + 2 * n
  if state_key ~= '' then push_key = '' end
  local matches = true
  if (state_key ~= '' or push_key ~= '') and next_state ~= '' then
    local state
    if state_key ~= '' then state = redis.call('HGET', state_key, open_id)
    else state = redis.call('GET', push_key) end
    if expect == '' then
      matches = (state == false or state == STATE_LETTER.retry)
    else
      matches = (state == expect)
    end
  end
  if matches then
    for k = 0, n - 1 do
      append(ARGV[first_event + 2 * k], ARGV[first_event + 2 * k + 1])
    end
    if release_id ~= '' then
      release_credit(open_id, release_id, release_value, release_score, release_t, release_d)
    end
    if push_key ~= '' and next_state ~= '' then
      redis.call('SET', push_key, next_state, 'PX', push_ttl)
    end
    if state_key ~= '' and next_state ~= '' then
      redis.call('HSET', state_key, open_id, next_state)
      if tally_field ~= '' then redis.call('HINCRBY', tally_key, tally_field, 1) end
      if errcode ~= '' then redis.call('HINCRBY', tally_key, 'e:' .. errcode, 1) end
    end
    applied = applied + 1
  end
end
keep_broadcast(state_key, tally_key)
save_head()
return applied
