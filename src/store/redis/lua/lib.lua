-- lib.lua: prepended to every script that appends to the log. TypeScript owner:
-- src/store/redis/log_writer.ts (it hands over the constants and builds the arguments below;
-- each writing script's own ARGV follow them, from ARGV[4]).
--
-- KEYS[1] <prefix>:head   HASH seq, at, seg (and sealed, hash, chunk: see seal.lua)
-- KEYS[2] <prefix>:proj   STRING the live projection version ("0" when absent)
-- ARGV[1] prefix, ARGV[2] now (epoch ms), ARGV[3] segment size of a new log
-- Constants: NEVER_RANK (src/ledger/credit_rules.ts), NO_EXPIRY_SCORE, KIND_LETTER, CREDIT_SEPARATOR (credit_value.ts), FIELD_SEPARATOR,
-- ENTRY_FIELD, ENTRY_CODE (entry.ts), BROADCAST_STATE_TTL_MS (src/ledger/delivery.ts).
--
-- append(t, d) adds one event to the current segment stream <prefix>:log:<n> with entry id
-- "<seq>-0" and one field ENTRY_FIELD = t FIELD_SEPARATOR a FIELD_SEPARATOR d, where a is the
-- time (epoch ms) and t and d the event's type and data as src/store/redis/entry.ts encodes
-- them (a type code and positional fields, or the type's name and its canonical JSON data).
-- Its chain hash is not computed here (SHA-256 in Lua costs ~120 us per event, Redis's whole
-- budget): the writing instance seals the new events right after this script returns
-- (seal.lua). The head is written once, by save_head(), at the end of the script.

local PREFIX = ARGV[1]
local NOW = tonumber(ARGV[2])
local SUBSCRIBE = KIND_LETTER.subscribe

local head = redis.call('HMGET', KEYS[1], 'seq', 'seg')
local head_seq = tonumber(head[1]) or 0
local seg_size = tonumber(head[2]) or tonumber(ARGV[3])
local appended = 0
local proj_version = redis.call('GET', KEYS[2]) or '0'

local function user_key(open_id)
  return PREFIX .. ':p' .. proj_version .. ':u:' .. open_id
end

local function users_key()
  return PREFIX .. ':p' .. proj_version .. ':users'
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

-- A credit in a user's projection hash (src/store/redis/credit_value.ts):
-- "<expiresAt ms, 0 = never>|<uses left>|<kind letter>|<templateId>", | = CREDIT_SEPARATOR.
-- (%x matches the character x itself when x is not alphanumeric.)
local S = '%' .. CREDIT_SEPARATOR
local CREDIT_PATTERN = '^(%d+)' .. S .. '(%d+)' .. S .. '(%a)' .. S .. '(.*)$'
-- Returns the expiry as a number and as stored: a number of 15 or more digits (past the year
-- 5138) would be written back by Lua in exponent form, so values are rebuilt from the text.
local function parse_credit(value)
  local expires, uses, kind, template = string.match(value, CREDIT_PATTERN)
  return tonumber(expires), tonumber(uses), kind, template, expires
end

-- `expires` is the stored text (parse_credit's fifth result).
local function credit_value(expires, uses, kind, template)
  return expires .. CREDIT_SEPARATOR .. uses .. CREDIT_SEPARATOR .. kind .. CREDIT_SEPARATOR
    .. template
end

-- Takes one use of the user's valid credit that expires soonest (a subscribe credit only for
-- its own template; `kinds` holds the allowed KIND_LETTERs), dropping expired entries met on
-- the way, and appends FormIdConsumed. Returns formId, value before the use; nil when none.
local function take_credit(open_id, template, kinds, push_id)
  local key = user_key(open_id)
  local entries = redis.call('HGETALL', key)
  local best_id, best_value, best_rank
  for i = 1, #entries, 2 do
    local id, value = entries[i], entries[i + 1]
    local expires, uses, kind, credit_template = parse_credit(value)
    if expires ~= 0 and expires <= NOW then
      redis.call('HDEL', key, id)
    elseif uses > 0 and string.find(kinds, kind, 1, true)
      and (kind ~= SUBSCRIBE or credit_template == template) then
      local rank = expires == 0 and NEVER_RANK or expires
      if best_id == nil or rank < best_rank or (rank == best_rank and byte_less(id, best_id)) then
        best_id, best_value, best_rank = id, value, rank
      end
    end
  end
  if best_id == nil then return nil end
  local expires, uses, kind, credit_template, expires_text = parse_credit(best_value)
  if uses == 1 and expires == 0 then
    redis.call('HDEL', key, best_id)
  else
    redis.call('HSET', key, best_id, credit_value(expires_text, uses - 1, kind, credit_template))
  end
  local d = positional({ best_id, open_id, push_id })
  if d then
    append(ENTRY_CODE.FormIdConsumed, d)
  else
    append('FormIdConsumed', '{"formId":' .. json_string(best_id) .. ',"openId":'
      .. json_string(open_id) .. ',"pushId":' .. json_string(push_id) .. '}')
  end
  return best_id, best_value
end

-- Gives one use back to a user's credit and appends FormIdReleased (entry `t`, `d`). `gone_value`
-- is the projection value to write when the credit was removed (its last use was taken), and
-- `score` its users index score. Returns the event's seq.
local function release_credit(open_id, form_id, gone_value, score, t, d)
  local key = user_key(open_id)
  local value = redis.call('HGET', key, form_id)
  if value then
    local _, uses, kind, template, expires_text = parse_credit(value)
    redis.call('HSET', key, form_id, credit_value(expires_text, uses + 1, kind, template))
  else
    redis.call('HSET', key, form_id, gone_value)
  end
  redis.call('ZADD', users_key(), 'GT', score, open_id)
  return append(t, d)
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
