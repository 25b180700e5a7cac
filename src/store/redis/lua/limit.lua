-- limit.lua: counts one request against each of a few rate limits, in one atomic step (requests
-- that do not collect: logins, credit views, uploads with nothing to collect).
-- TypeScript owner: src/store/redis/limits.ts. Prelude: fixed_window.lua.
-- KEYS[k] a window's count <prefix>:rl:<limit>:<id>:<window> (STRING, an integer)
-- ARGV[k] that window's length in ms
-- Returns: each count after this request, in order (the decisions are made in TypeScript).

local counts = {}
for k = 1, #KEYS do
  counts[k] = count_request(KEYS[k], ARGV[k])
end
return counts
