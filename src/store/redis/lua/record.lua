-- record.lua: record the outcomes of many deliveries in one call.
-- TypeScript owner: src/store/redis/record.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]),
-- credit_value.lua, credits.lua.
-- ARGV[4] broadcast state HASH key ('' outside a broadcast), ARGV[5] broadcast tally HASH key,
-- then from ARGV[6], per outcome, 13 + m + 2n arguments:
--   openId, expected state ('': absent or STATE_LETTER.retry; STATE_TAKEN .. formId when a
--   credit was taken), next state ('' none, else a STATE_LETTER: afterOutcome's state), the
--   number m of tally fields to count and the m fields (afterOutcome's counts),
--   the release group: formId ('' no release), projection value when the credit is gone,
--   FormIdReleased entry t and d (credits.lua's release_credit);
--   the push state key ('' none; outside a broadcast only) and its TTL in ms;
--   then the number of audit events n and n pairs (entry t, d);
--   then the void: templateId ('' none) and reason (credits.lua's void_template: WeChat holds
--   none).
-- Constants: STATE_LETTER, STATE_TAKEN, STATE_LOST (broadcast_state.ts).
-- The twin of outcomeApplies and afterOutcome (src/ledger/delivery_rules.ts): in a broadcast
-- an outcome applies only while the user's state is still the expected one: an outcome
-- recorded twice (a retried call) or arriving after the delivery was declared lost by another
-- worker changes nothing, so recording is idempotent and nothing counts twice. A push whose
-- state is kept (take.lua) is held to the same rule through its push state key (no tally).
-- Appends: per applied outcome, its audit events, then FormIdReleased when it releases, then
-- CreditsVoided when it voids a template's live credits.
-- Returns: the number of outcomes applied.
local state_key, tally_key = ARGV[4], ARGV[5]
local applied = 0
local i = 6
while i <= #ARGV do
  local open_id, expect, next_state = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local m = tonumber(ARGV[i + 3])
  local first_count = i + 4
  i = first_count + m
  local release_id, release_value, release_t, release_d = ARGV[i], ARGV[i + 1], ARGV[i + 2],
    ARGV[i + 3]
  local push_key, push_ttl = ARGV[i + 4], ARGV[i + 5]
  local n = tonumber(ARGV[i + 6])
  local first_event = i + 7
  i = first_event + 2 * n
  local void_template_id, void_reason = ARGV[i], ARGV[i + 1]
  i = i + 2
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
      release_credit(open_id, release_id, release_value, release_t, release_d)
    end
    if void_template_id ~= '' then void_template(open_id, void_template_id, void_reason) end
    if push_key ~= '' and next_state ~= '' then
      redis.call('SET', push_key, next_state, 'PX', push_ttl)
    end
    if state_key ~= '' and next_state ~= '' then
      redis.call('HSET', state_key, open_id, next_state)
      for k = first_count, first_count + m - 1 do
        redis.call('HINCRBY', tally_key, ARGV[k], 1)
      end
    end
    applied = applied + 1
  end
end
keep_broadcast(state_key, tally_key)
save_head()
return applied
