-- take.lua: take one use of a credit for each of many deliveries, in one call.
-- TypeScript owner: src/store/redis/take.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]),
-- credit_value.lua, credits.lua.
-- ARGV[4] broadcast state HASH key ('' for deliveries outside a broadcast), ARGV[5] broadcast
-- tally HASH key, ARGV[6] broadcastId, ARGV[7] push state key prefix ('' none; outside a
-- broadcast only), ARGV[8] its TTL in ms, ARGV[9] the number g of spend groups to look in,
-- then g pairs: group, the KIND_LETTERs to keep there ('' all; spendGroupsOf),
-- then pairs: openId, pushId.
-- Constants: STATE_LETTER, STATE_TAKEN, STATE_LOST (broadcast_state.ts), LOST_ERRCODE,
-- LOST_ERRMSG (LOST_DELIVERY in src/ledger/delivery.ts), LOST_COUNTS, TAKE_REPLY (take.ts).
-- Each taken use appends FormIdConsumed (credits.lua's take_credit: the first valid credit in
-- spend order among the groups' heads, expired heads pruned on the way).
-- The twin of takeStep (src/ledger/delivery_rules.ts): in a broadcast each user's state
-- decides first: absent or STATE_LETTER.retry: take;
-- STATE_TAKEN .. formId (taken by a worker that was lost before recording an outcome): the
-- delivery may or may not have reached WeChat, so it is never retried: the state becomes
-- STATE_LOST, the tally counts it failed (LOST_ERRCODE) and PushFailed (class unknown) is
-- appended; anything else (a final state, or STATE_LOST): the user is done.
-- Outside a broadcast, given a push state key prefix, the same states decide, kept per pushId in
-- STRING prefix .. pushId (for the TTL), with no tally.
-- Appends: FormIdConsumed per taken use, PushFailed per lost delivery.
-- Returns: triples per delivery: { TAKE_REPLY.taken, formId, value before the use },
-- { TAKE_REPLY.none, '', '' } no credit, { TAKE_REPLY.done, '', '' } done,
-- { TAKE_REPLY.lost, formId, '' } lost.
local state_key, tally_key, broadcast_id = ARGV[4], ARGV[5], ARGV[6]
local push_prefix, push_ttl = ARGV[7], ARGV[8]
if state_key ~= '' then push_prefix = '' end
local groups = {}
local first = 10 + 2 * tonumber(ARGV[9])
for k = 10, first - 1 do groups[#groups + 1] = ARGV[k] end
local out = {}

for i = first, #ARGV, 2 do
  local open_id, push_id = ARGV[i], ARGV[i + 1]
  local function keep(value)
    if state_key ~= '' then redis.call('HSET', state_key, open_id, value)
    elseif push_prefix ~= '' then redis.call('SET', push_prefix .. push_id, value, 'PX', push_ttl)
    end
  end
  local state = false
  if state_key ~= '' then state = redis.call('HGET', state_key, open_id)
  elseif push_prefix ~= '' then state = redis.call('GET', push_prefix .. push_id) end
  if state == false or state == STATE_LETTER.retry then
    local form_id, value = take_credit(open_id, groups, push_id)
    if form_id then
      keep(STATE_TAKEN .. form_id)
      out[#out + 1] = TAKE_REPLY.taken; out[#out + 1] = form_id; out[#out + 1] = value
    else
      out[#out + 1] = TAKE_REPLY.none; out[#out + 1] = ''; out[#out + 1] = ''
    end
  elseif string.sub(state, 1, #STATE_TAKEN) == STATE_TAKEN then
    local form_id = string.sub(state, #STATE_TAKEN + 1)
    keep(STATE_LOST)
    if state_key ~= '' then
      for field in string.gmatch(LOST_COUNTS, '%S+') do
        redis.call('HINCRBY', tally_key, field, 1)
      end
    end
    -- Optional fields read back as absent when empty: outside a broadcast broadcastId is absent
    -- (an empty positional field); a formId present but empty goes to JSON as it is.
    local d = form_id ~= '' and positional({ broadcast_id, 'unknown',
      tostring(LOST_ERRCODE), LOST_ERRMSG, form_id, open_id, push_id })
    if d then
      append(ENTRY_CODE.PushFailed, d)
    else
      local bc = broadcast_id ~= '' and ('"broadcastId":' .. json_string(broadcast_id) .. ',') or ''
      append('PushFailed', '{' .. bc .. '"class":"unknown","errcode":' .. LOST_ERRCODE
        .. ',"errmsg":' .. json_string(LOST_ERRMSG) .. ',"formId":' .. json_string(form_id)
        .. ',"openId":' .. json_string(open_id) .. ',"pushId":' .. json_string(push_id) .. '}')
    end
    out[#out + 1] = TAKE_REPLY.lost; out[#out + 1] = form_id; out[#out + 1] = ''
  else
    out[#out + 1] = TAKE_REPLY.done; out[#out + 1] = ''; out[#out + 1] = ''
  end
end
keep_broadcast(state_key, tally_key)
save_head()
return out
