-- drop_users.lua: unlinks every key some users have in an old projection version (never the
-- log). TypeScript owner: src/store/redis/rebuild.ts. Prelude: credit_value.lua.
-- ARGV[1] the version's key prefix "<prefix>:p<version>:", ARGV[2..] openIds.
-- Each user's keys: hash, credit index, spent index and the groups of their live credits
-- (credit_value.lua's user_keys).
-- Appends: nothing. Returns: the number of keys unlinked.
local base, count = ARGV[1], 0
for i = 2, #ARGV do
  count = count + redis.call('UNLINK', unpack(user_keys(base, ARGV[i])))
end
return count
