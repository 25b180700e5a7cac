-- take.lua: take one use of a credit for each of many deliveries, in one call.
-- ARGV[5] broadcast state HASH key ('' for deliveries outside a broadcast), ARGV[6] broadcast
-- tally HASH key, ARGV[7] TTL of both in ms, ARGV[8] broadcastId, ARGV[9] errmsg of an
-- interrupted delivery, ARGV[10] templateId ('' for none), ARGV[11] kinds allowed ('f','p','s'),
-- then pairs: openId, pushId.
-- Each taken use appends FormIdConsumed, exactly as consume.lua does (soonest expiry first,
-- expired entries dropped on the way, a subscribe credit only for its own template).
-- In a broadcast each user's state decides first: absent or 'r' (released for a retry): take;
-- 't|<formId>' (taken by a worker that was lost before recording an outcome): the delivery
-- may or may not have reached WeChat, so it is never retried: the state becomes 'u', the
-- tally counts it failed (errcode -1004) and PushFailed (class unknown) is appended;
-- anything else ('s' sent, 'f' failed, 'n' no credit, 'u'): the user is done.
-- Returns triples per delivery: { 't', formId, value before the use } taken,
-- { 'n', '', '' } no credit, { 'd', '', '' } done, { 'l', formId, '' } lost.
local state_key, tally_key, ttl, broadcast_id = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local lost_message, template, kinds = ARGV[9], ARGV[10], ARGV[11]
local out = {}

for i = 12, #ARGV, 2 do
  local open_id, push_id = ARGV[i], ARGV[i + 1]
  local state = false
  if state_key ~= '' then state = redis.call('HGET', state_key, open_id) end
  if state == false or state == 'r' then
    local form_id, value = take_credit(open_id, template, kinds, push_id)
    if form_id then
      if state_key ~= '' then redis.call('HSET', state_key, open_id, 't|' .. form_id) end
      out[#out + 1] = 't'; out[#out + 1] = form_id; out[#out + 1] = value
    else
      out[#out + 1] = 'n'; out[#out + 1] = ''; out[#out + 1] = ''
    end
  elseif string.sub(state, 1, 2) == 't|' then
    local form_id = string.sub(state, 3)
    redis.call('HSET', state_key, open_id, 'u')
    redis.call('HINCRBY', tally_key, 'failed', 1)
    redis.call('HINCRBY', tally_key, 'e:-1004', 1)
    -- Optional fields read back as absent when empty: an empty one goes to JSON as it is.
    local d = broadcast_id ~= '' and form_id ~= '' and positional({ broadcast_id, 'unknown', '-1004', lost_message,
      form_id, open_id, push_id })
    if d then
      append('F', d)
    else
      append('PushFailed', '{"broadcastId":' .. json_string(broadcast_id)
        .. ',"class":"unknown","errcode":-1004,"errmsg":' .. json_string(lost_message)
        .. ',"formId":' .. json_string(form_id) .. ',"openId":' .. json_string(open_id)
        .. ',"pushId":' .. json_string(push_id) .. '}')
    end
    out[#out + 1] = 'l'; out[#out + 1] = form_id; out[#out + 1] = ''
  else
    out[#out + 1] = 'd'; out[#out + 1] = ''; out[#out + 1] = ''
  end
end
keep_broadcast(state_key, tally_key, ttl)
save_head()
return out
