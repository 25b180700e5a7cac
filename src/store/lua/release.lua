-- release.lua: give one use back to a user's credit (FormIdReleased).
-- ARGV[5] openId, ARGV[6] formId, ARGV[7] projection value to write when the credit is gone
-- (its last use was taken), ARGV[8] canonical data JSON, ARGV[9] users score.
-- Returns the event's seq.
local open_id, form_id = ARGV[5], ARGV[6]
local key = user_key(open_id)
local value = redis.call('HGET', key, form_id)
if value then
  local expires, uses, kind, template = parse_credit(value)
  redis.call('HSET', key, form_id, credit_value(expires, uses + 1, kind, template))
else
  redis.call('HSET', key, form_id, ARGV[7])
end
redis.call('ZADD', users_key(), 'GT', ARGV[9], open_id)
local seq = append('FormIdReleased', ARGV[8])
save_head()
return seq
