-- tally.lua: a broadcast's counters, read-only. KEYS[1] the tally HASH.
-- Returns HGETALL's flat list: sent, failed, noCredit and e:<errcode> counts.
return redis.call('HGETALL', KEYS[1])
