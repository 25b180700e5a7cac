-- pending.lua: the events appended but not sealed yet, for the sealer to hash (read-only).
-- TypeScript owner: src/store/redis/sealer.ts.
-- KEYS[1] <prefix>:head. ARGV[1] prefix, ARGV[2] most events to return.
-- Appends: nothing.
-- Returns: { sealed seq, hash of that event ('' when none), head seq, segment size, then per
-- event: id, its field/value list } for events sealed+1 .. min(head seq, sealed + most).
local prefix, most = ARGV[1], tonumber(ARGV[2])
local head = redis.call('HMGET', KEYS[1], 'seq', 'seg', 'sealed', 'hash')
local last = tonumber(head[1]) or 0
local seg = tonumber(head[2]) or 1
local sealed = tonumber(head[3]) or 0
local out = { sealed, head[4] or '', last, seg }
local from, to = sealed + 1, math.min(last, sealed + most)
while from <= to do
  local segment = math.floor((from - 1) / seg)
  local segment_end = math.min(to, (segment + 1) * seg)
  local entries = redis.call('XRANGE', prefix .. ':log:' .. segment, from .. '-0', segment_end .. '-0')
  for _, entry in ipairs(entries) do
    out[#out + 1] = entry[1]
    out[#out + 1] = entry[2]
  end
  from = segment_end + 1
end
return out
