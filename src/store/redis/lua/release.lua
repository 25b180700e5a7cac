-- release.lua: give one use back to a user's credit (FormIdReleased).
-- TypeScript owner: src/store/redis/release.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]).
-- ARGV[4] openId, then lib.lua's release_credit group: ARGV[5] formId, ARGV[6] projection
-- value to write when the credit is gone (its last use was taken), ARGV[7] users index score,
-- ARGV[8] and ARGV[9] the FormIdReleased entry's t and d.
-- Appends: FormIdReleased.
-- Returns: the event's seq.
local seq = release_credit(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
save_head()
return seq
