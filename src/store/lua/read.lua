-- read.lua: a page of the log across segment streams, read-only.
-- KEYS[1] <prefix>:head. ARGV[1] prefix, ARGV[2] after (seq), ARGV[3] limit.
-- Returns { prev hash of the first event ('' at the start), then per event: id, t, a, d, h }.
-- An entry missing from a stream is simply absent: the reader sees the gap in seq.
local prefix, after, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local head = redis.call('HMGET', KEYS[1], 'seq', 'seg')
local last = tonumber(head[1]) or 0
local seg = tonumber(head[2]) or 1
local out = { '' }

local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end

if after > 0 and after <= last then
  local id = after .. '-0'
  local entry = redis.call('XRANGE', prefix .. ':log:' .. math.floor((after - 1) / seg), id, id)[1]
  if entry then out[1] = field(entry[2], 'h') end
end
local from = after + 1
local to = math.min(last, after + limit)
while from <= to do
  local segment = math.floor((from - 1) / seg)
  local segment_end = math.min(to, (segment + 1) * seg)
  local entries = redis.call('XRANGE', prefix .. ':log:' .. segment, from .. '-0', segment_end .. '-0')
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    out[#out + 1] = entry[1]
    out[#out + 1] = field(fields, 't')
    out[#out + 1] = field(fields, 'a')
    out[#out + 1] = field(fields, 'd')
    out[#out + 1] = field(fields, 'h')
  end
  from = segment_end + 1
end
return out
