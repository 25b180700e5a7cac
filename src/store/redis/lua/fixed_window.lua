-- fixed_window.lua: prepended to the scripts that count rate limits (limit.lua, collect.lua,
-- answer.lua).
-- The rule's TypeScript half: src/ledger/limits.ts (the window's key and the decision); its
-- memory twin: src/store/memory/limit_counts.ts.
--
-- count_request(key, window_ms) counts one request in the count `key` names (one fixed window
-- of one limit, <prefix>:rl:<limit>:<id>:<window>) and returns the count after it: INCR, and on
-- the window's first request PEXPIRE the window's length, as @upstash/ratelimit's fixedWindow
-- does (the count outlives its window by less than one window).

local function count_request(key, window_ms)
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('PEXPIRE', key, window_ms) end
  return count
end
