-- templates.lua: make a list the account's template registry. TypeScript owner:
-- src/store/redis/subscriptions.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]),
-- credit_value.lua, credits.lua.
-- ARGV[4] the templates' canonical JSON (canonicalTemplates), ARGV[5..6] the TemplatesSynced
-- entry t and d. The registry is <prefix>:p<version>:tpl, a STRING of that JSON.
-- Appends: TemplatesSynced, only when the list differs from the registry's.
-- Returns: 1 when it changed the registry, 0 when it was the same.
local key = BASE .. 'tpl'
if redis.call('GET', key) == ARGV[4] then return 0 end
redis.call('SET', key, ARGV[4])
append(ARGV[5], ARGV[6])
save_head()
return 1
