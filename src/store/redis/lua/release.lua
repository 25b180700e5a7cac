-- release.lua: give one use back to a user's credit (FormIdReleased).
-- ARGV[5] openId, ARGV[6] formId, ARGV[7] projection value to write when the credit is gone
-- (its last use was taken), ARGV[8] users score, ARGV[9] and ARGV[10] the event's entry t and d.
-- Returns the event's seq.
local seq = release_credit(ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10])
save_head()
return seq
