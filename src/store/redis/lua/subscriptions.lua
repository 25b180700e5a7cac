-- subscriptions.lua: one user's subscription state in the live projection, read-only.
-- TypeScript owner: src/store/redis/subscriptions.ts.
-- KEYS[1] <prefix>:proj. ARGV[1] prefix, ARGV[2] openId, ARGV[3] now.
-- Reads answer.lua's keys: the settings, and per template with an answer the answer, its source
-- and the client's accepts still waiting for WeChat's report.
-- Appends: nothing. Returns: { settings JSON or '', templateId, "<answer>|<source>", waiting, ... }.
local base = ARGV[1] .. ':p' .. (redis.call('GET', KEYS[1]) or '0') .. ':'
local open_id = ARGV[2]
local out = { redis.call('GET', base .. 'ss:' .. open_id) or '' }
local answers = redis.call('HGETALL', base .. 'sa:' .. open_id)
for i = 1, #answers, 2 do
  out[#out + 1] = answers[i]
  out[#out + 1] = answers[i + 1]
  out[#out + 1] = redis.call('ZCOUNT', base .. 'pc:' .. open_id .. ':' .. answers[i],
    '(' .. ARGV[3], '+inf')
end
return out
