-- consume.lua: take one use of the user's valid credit that expires soonest.
-- TypeScript owner: src/store/redis/consume.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]).
-- ARGV[4] openId, ARGV[5] templateId ('' for none), ARGV[6] the KIND_LETTERs allowed,
-- ARGV[7] pushId. A subscribe credit qualifies only for its own template.
-- Expired entries met on the way are dropped (they no longer matter, not even for dedupe).
-- Appends: FormIdConsumed when a credit is taken.
-- Returns: { formId, value before the use }, or nil when none qualifies.
local form_id, value = take_credit(ARGV[4], ARGV[5], ARGV[6], ARGV[7])
if form_id == nil then return nil end
save_head()
return { form_id, value }
