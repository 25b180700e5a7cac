-- tally.lua: a broadcast's counters, read-only. TypeScript owner: src/store/redis/tally.ts.
-- KEYS[1] the tally HASH <prefix>:bc:<broadcastId>:tally. No ARGV.
-- Appends: nothing. Returns: HGETALL's flat list: sent, failed, noCredit and e:<errcode> counts.
return redis.call('HGETALL', KEYS[1])
