-- consume.lua: take one use of the user's valid credit that expires soonest.
-- ARGV[5] openId, ARGV[6] templateId ('' for none), ARGV[7] kinds allowed ('f','p','s' letters),
-- ARGV[8] pushId. A subscribe credit ('s') qualifies only for its own template.
-- Expired entries met on the way are dropped (they no longer matter, not even for dedupe).
-- Appends FormIdConsumed. Returns {formId, value before the use} or nil when none qualifies.
local open_id, template, kinds, push_id = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local key = user_key(open_id)
local entries = redis.call('HGETALL', key)
local best_id, best_value, best_rank
for i = 1, #entries, 2 do
  local id, value = entries[i], entries[i + 1]
  local expires, uses, kind, credit_template = parse_credit(value)
  if expires ~= 0 and expires <= NOW then
    redis.call('HDEL', key, id)
  elseif uses > 0 and string.find(kinds, kind, 1, true)
    and (kind ~= 's' or credit_template == template) then
    local rank = expires == 0 and NO_EXPIRY_SCORE or expires
    if best_id == nil or rank < best_rank or (rank == best_rank and byte_less(id, best_id)) then
      best_id, best_value, best_rank = id, value, rank
    end
  end
end
if best_id == nil then return nil end
local expires, uses, kind, credit_template = parse_credit(best_value)
if uses == 1 and expires == 0 then
  redis.call('HDEL', key, best_id)
else
  redis.call('HSET', key, best_id, credit_value(expires, uses - 1, kind, credit_template))
end
append('FormIdConsumed', '{"formId":' .. json_string(best_id) .. ',"openId":' .. json_string(open_id)
  .. ',"pushId":' .. json_string(push_id) .. '}')
save_head()
return { best_id, best_value }
