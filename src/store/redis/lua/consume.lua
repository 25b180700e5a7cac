-- consume.lua: take one use of the user's valid credit that expires soonest.
-- ARGV[5] openId, ARGV[6] templateId ('' for none), ARGV[7] kinds allowed ('f','p','s' letters),
-- ARGV[8] pushId. A subscribe credit ('s') qualifies only for its own template.
-- Expired entries met on the way are dropped (they no longer matter, not even for dedupe).
-- Appends FormIdConsumed. Returns {formId, value before the use} or nil when none qualifies.
local open_id, template, kinds, push_id = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local form_id, value = take_credit(open_id, template, kinds, push_id)
if form_id == nil then return nil end
save_head()
return { form_id, value }
