-- collect.lua: add a batch of credits to one user, one FormIdCollected event per new credit.
-- ARGV[5] openId, then 5 per credit: formId, projection value, users score, entry t and d.
-- A formId the user already has (valid, spent or repeated in the batch) is a duplicate.
-- Returns one integer per credit: its seq when collected, 0 when a duplicate.
local open_id = ARGV[5]
local key = user_key(open_id)
local result = {}
local best_score = 0
for i = 6, #ARGV, 5 do
  if redis.call('HSETNX', key, ARGV[i], ARGV[i + 1]) == 1 then
    result[#result + 1] = append(ARGV[i + 3], ARGV[i + 4])
    local score = tonumber(ARGV[i + 2])
    if score > best_score then best_score = score end
  else
    result[#result + 1] = 0
  end
end
if best_score > 0 then
  redis.call('ZADD', users_key(), 'GT', best_score, open_id)
end
save_head()
return result
