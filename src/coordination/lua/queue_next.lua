-- queue_next.lua: hand a consumer up to COUNT items over every active queue, in one call.
-- KEYS[1] the SET of active queue names.
-- ARGV[1] stream key prefix (stream = prefix .. name .. ':work'), ARGV[2] group,
-- ARGV[3] consumer, ARGV[4] count, ARGV[5] min idle ms before an item is reclaimed.
-- Items pending with another consumer for longer than the idle time are claimed first
-- (XAUTOCLAIM), then new ones are read (XREADGROUP ... >). Read-only for the entries themselves.
-- Returns flat quadruples { name, entry id, payload, reclaimed ('1' or '0'), ... }.
local want = tonumber(ARGV[4])
local out = {}

local function payload(fields)
  for i = 1, #fields, 2 do
    if fields[i] == 'p' then return fields[i + 1] end
  end
  return ''
end

for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if want <= 0 then break end
  local key = ARGV[1] .. name .. ':work'
  local claimed = redis.pcall('XAUTOCLAIM', key, ARGV[2], ARGV[3], ARGV[5], '0-0', 'COUNT', want)
  if type(claimed) == 'table' and not claimed.err then
    for _, entry in ipairs(claimed[2]) do
      if entry and entry[2] then
        out[#out + 1] = name
        out[#out + 1] = entry[1]
        out[#out + 1] = payload(entry[2])
        out[#out + 1] = '1'
        want = want - 1
      end
    end
  end
  if want > 0 then
    local read = redis.pcall('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', want, 'STREAMS', key, '>')
    if type(read) == 'table' and not read.err and read[1] then
      for _, entry in ipairs(read[1][2]) do
        out[#out + 1] = name
        out[#out + 1] = entry[1]
        out[#out + 1] = payload(entry[2])
        out[#out + 1] = '0'
        want = want - 1
      end
    end
  end
end
return out
