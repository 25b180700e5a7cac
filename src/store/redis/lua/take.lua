-- take.lua: take one use of a credit for each of many deliveries, in one call.
-- TypeScript owner: src/store/redis/take.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]),
-- credit_value.lua, credits.lua.
-- ARGV[4] broadcast state HASH key ('' for deliveries outside a broadcast), ARGV[5] broadcast
-- tally HASH key, ARGV[6] broadcastId, ARGV[7] the number g of spend groups
-- to look in, then g pairs: group, the KIND_LETTERs to keep there ('' all; spendGroupsOf),
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
-- Appends: FormIdConsumed per taken use, PushFailed per lost delivery.
-- Returns: triples per delivery: { TAKE_REPLY.taken, formId, value before the use },
-- { TAKE_REPLY.none, '', '' } no credit, { TAKE_REPLY.done, '', '' } done,
-- { TAKE_REPLY.lost, formId, '' } lost.
local state_key, tally_key, broadcast_id = ARGV[4], ARGV[5], ARGV[6]
local groups = {}
local first = 8 + 2 * tonumber(ARGV[7])
for k = 8, first - 1 do groups[#groups + 1] = ARGV[k] end
local out = {}

for i = first, #ARGV, 2 do
  local open_id, push_id = ARGV[i], ARGV[i + 1]
  local state = false
  if state_key ~= '' then state = redis.call('HGET', state_key, open_id) end
  if state == false or state == STATE_LETTER.retry then
    local form_id, value = take_credit(open_id, groups, push_id)
    if form_id then
      if state_key ~= '' then redis.call('HSET', state_key, open_id, STATE_TAKEN .. form_id) end
      out[#out + 1] = TAKE_REPLY.taken; out[#out + 1] = form_id; out[#out + 1] = value
    else
      out[#out + 1] = TAKE_REPLY.none; out[#out + 1] = ''; out[#out + 1] = ''
    end
  elseif string.sub(state, 1, #STATE_TAKEN) == STATE_TAKEN then
    local form_id = string.sub(state, #STATE_TAKEN + 1)
    redis.call('HSET', state_key, open_id, STATE_LOST)
    for field in string.gmatch(LOST_COUNTS, '%S+') do
      redis.call('HINCRBY', tally_key, field, 1)
    end
    -- Optional fields read back as absent when empty: an empty one goes to JSON as it is.
    local d = broadcast_id ~= '' and form_id ~= '' and positional({ broadcast_id, 'unknown',
      tostring(LOST_ERRCODE), LOST_ERRMSG, form_id, open_id, push_id })
    if d then
      append(ENTRY_CODE.PushFailed, d)
    else
      append('PushFailed', '{"broadcastId":' .. json_string(broadcast_id)
        .. ',"class":"unknown","errcode":' .. LOST_ERRCODE .. ',"errmsg":'
        .. json_string(LOST_ERRMSG) .. ',"formId":' .. json_string(form_id) .. ',"openId":'
        .. json_string(open_id) .. ',"pushId":' .. json_string(push_id) .. '}')
    end
    out[#out + 1] = TAKE_REPLY.lost; out[#out + 1] = form_id; out[#out + 1] = ''
  else
    out[#out + 1] = TAKE_REPLY.done; out[#out + 1] = ''; out[#out + 1] = ''
  end
end
keep_broadcast(state_key, tally_key)
save_head()
return out
