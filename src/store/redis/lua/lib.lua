-- lib.lua: prepended to every script that appends to the log (then credits.lua, then the
-- script). TypeScript owner: src/store/redis/log_writer.ts (it hands over the constants and
-- builds the arguments below; each writing script's own ARGV follow them, from ARGV[4]).
--
-- KEYS[1] <prefix>:head   HASH seq, at, seg (and sealed, hash, chunk: see seal.lua)
-- KEYS[2] <prefix>:proj   STRING the live projection version ("0" when absent)
-- ARGV[1] prefix, ARGV[2] now (epoch ms), ARGV[3] segment size of a new log
-- Constants: FIELD_SEPARATOR, ENTRY_FIELD, ENTRY_CODE (entry.ts), BROADCAST_STATE_TTL_MS
-- (src/ledger/delivery.ts), NOT_INDEXED (projection_read.ts), and credits.lua's.
--
-- append(t, d) adds one event to the current segment stream <prefix>:log:<n> with entry id
-- "<seq>-0" and one field ENTRY_FIELD = t FIELD_SEPARATOR a FIELD_SEPARATOR d, where a is the
-- time (epoch ms) and t and d the event's type and data as src/store/redis/entry.ts encodes
-- them (a type code and positional fields, or the type's name and its canonical JSON data).
-- Its chain hash is not computed here (SHA-256 in Lua costs ~120 us per event, Redis's whole
-- budget): the writing instance seals the new events right after this script returns
-- (seal.lua). The head is written once, by save_head(), at the end of the script.
--
-- A projection version keeps the credit index (credits.lua) when <base>:indexed exists: the
-- first write to a version without a users index (a new ledger) creates it, a rebuild writes it
-- into the version it builds. A version an older release wrote (a users index, no marker) has
-- no credit index: every script then stops with NOT_INDEXED, the error that says to run
-- `deno task rebuild` once.

local PREFIX = ARGV[1]
local NOW = tonumber(ARGV[2])
local NOW_TEXT = ARGV[2]

local head = redis.call('HMGET', KEYS[1], 'seq', 'seg')
local head_seq = tonumber(head[1]) or 0
local seg_size = tonumber(head[2]) or tonumber(ARGV[3])
local appended = 0
local proj_version = redis.call('GET', KEYS[2]) or '0'
-- <prefix>:p<version>: the live projection's keys
local BASE = PREFIX .. ':p' .. proj_version .. ':'

if redis.call('EXISTS', BASE .. 'indexed') == 0 then
  if redis.call('EXISTS', BASE .. 'users') == 1 then return redis.error_reply(NOT_INDEXED) end
  redis.call('SET', BASE .. 'indexed', '1')
end

local function users_key()
  return BASE .. 'users'
end

local byte = string.byte

-- A JSON string literal escaped exactly as JavaScript's JSON.stringify escapes it.
local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
  ['\r'] = '\\r', ['\t'] = '\\t' }
local function json_string(s)
  local escaped = string.gsub(s, '[%z\1-\31"\\]', function(c)
    return ESCAPES[c] or string.format('\\u%04x', byte(c))
  end)
  return '"' .. escaped .. '"'
end

-- `fields` joined as positional entry data (src/store/redis/entry.ts), or nil when a field holds the
-- separator and the event must be stored as JSON instead.
local function positional(fields)
  for _, field in ipairs(fields) do
    if string.find(field, FIELD_SEPARATOR, 1, true) then return nil end
  end
  return table.concat(fields, FIELD_SEPARATOR)
end

-- Byte order, as JavaScript orders ASCII strings (Lua's < follows the server's locale).
local function byte_less(x, y)
  for i = 1, math.min(#x, #y) do
    local p, q = byte(x, i), byte(y, i)
    if p ~= q then return p < q end
  end
  return #x < #y
end

local function append(t, d)
  local seq = head_seq + 1
  local segment = math.floor((seq - 1) / seg_size)
  redis.call('XADD', PREFIX .. ':log:' .. segment, seq .. '-0', ENTRY_FIELD,
    t .. FIELD_SEPARATOR .. ARGV[2] .. FIELD_SEPARATOR .. d)
  head_seq = seq
  appended = appended + 1
  return seq
end

local function save_head()
  if appended > 0 then
    redis.call('HSET', KEYS[1], 'seq', head_seq, 'at', ARGV[2], 'seg', seg_size)
  end
end

-- Keeps a broadcast's per-user state and tally (when there is a broadcast) for
-- BROADCAST_STATE_TTL_MS more.
local function keep_broadcast(state_key, tally_key)
  if state_key == '' then return end
  redis.call('PEXPIRE', state_key, BROADCAST_STATE_TTL_MS)
  if redis.call('EXISTS', tally_key) == 1 then
    redis.call('PEXPIRE', tally_key, BROADCAST_STATE_TTL_MS)
  end
end
