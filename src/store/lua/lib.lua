-- lib.lua: prepended to every script that appends to the log (see src/store/scripts.ts).
--
-- KEYS[1] <prefix>:head   HASH seq, hash, at, seg: the log's head and its segment size
-- KEYS[2] <prefix>:proj   STRING the live projection version ("0" when absent)
-- ARGV[1] prefix, ARGV[2] now (epoch ms), ARGV[3] now as ISO-8601, ARGV[4] default segment size
--
-- append(type, data_json) adds one event to the current segment stream <prefix>:log:<n> with
-- entry id "<seq>-0" and fields t (type), a (epoch ms), d (canonical data JSON), h (hash), where
-- hash = SHA-256(prev hash as 32 raw bytes .. canonical event), as documented in src/audit/chain.ts.
-- The head is written once, by save_head(), at the end of the script.

local PREFIX = ARGV[1]
local NOW = tonumber(ARGV[2])
local AT_ISO = ARGV[3]
local GENESIS = string.rep('0', 64)
local NO_EXPIRY_SCORE = 253402300799999 -- 9999-12-31, the users index score of a never-expiring credit

local head = redis.call('HMGET', KEYS[1], 'seq', 'hash', 'seg')
local head_seq = tonumber(head[1]) or 0
local head_hash = head[2] or GENESIS
local seg_size = tonumber(head[3]) or tonumber(ARGV[4])
local appended = 0
local proj_version = redis.call('GET', KEYS[2]) or '0'

local function user_key(open_id)
  return PREFIX .. ':p' .. proj_version .. ':u:' .. open_id
end

local function users_key()
  return PREFIX .. ':p' .. proj_version .. ':users'
end

-- SHA-256 over a byte string, lowercase hex. Redis Lua has only SHA-1 built in.
-- Every appended event is hashed, so this is written for Lua 5.1's interpreter, where a call
-- into the bit library costs far more than arithmetic: words are kept as unsigned numbers,
-- rotations and shifts are done with % and /, sums are normalised with % 2^32 only when read,
-- and bit.* is called only where XOR and AND are unavoidable (5 calls per round).
local band, bxor, tohex = bit.band, bit.bxor, bit.tohex
local byte, char, srep = string.byte, string.char, string.rep
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local M32 = 4294967296
local W = {}

local function sha256(msg)
  local len = #msg
  local pad = 64 - ((len + 9) % 64)
  if pad == 64 then pad = 0 end
  local bits = len * 8
  msg = msg .. '\128' .. srep('\0', pad) .. char(0, 0, 0, 0,
    (bits - bits % 16777216) / 16777216 % 256, (bits - bits % 65536) / 65536 % 256,
    (bits - bits % 256) / 256 % 256, bits % 256)
  local h0, h1, h2, h3 = 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a
  local h4, h5, h6, h7 = 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
  for i = 1, #msg, 64 do
    for j = 0, 15 do
      local b1, b2, b3, b4 = byte(msg, i + j * 4, i + j * 4 + 3)
      W[j] = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    end
    for j = 16, 63 do
      local x, y = W[j - 15], W[j - 2]
      local x7, x18, x3 = x % 128, x % 262144, x % 8
      local y17, y19, y10 = y % 131072, y % 524288, y % 1024
      W[j] = (W[j - 16] + W[j - 7]
        + bxor((x - x7) / 128 + x7 * 33554432, (x - x18) / 262144 + x18 * 16384, (x - x3) / 8)
        + bxor((y - y17) / 131072 + y17 * 32768, (y - y19) / 524288 + y19 * 8192, (y - y10) / 1024)
      ) % M32
    end
    local a, b, c, d, e, f, g, h = h0, h1, h2, h3, h4, h5, h6, h7
    for j = 0, 63 do
      e = e % M32
      local e6, e11, e25 = e % 64, e % 2048, e % 33554432
      local t1 = h + K[j + 1] + W[j]
        + bxor((e - e6) / 64 + e6 * 67108864, (e - e11) / 2048 + e11 * 2097152, (e - e25) / 33554432 + e25 * 128)
        + band(e, f) + band(4294967295 - e, g)
      a = a % M32
      local a2, a13, a22 = a % 4, a % 8192, a % 4194304
      -- Maj(a, b, c) = (a + b + c - (a ^ b ^ c)) / 2: per bit, the sum is the XOR plus twice the carry.
      local t2 = bxor((a - a2) / 4 + a2 * 1073741824, (a - a13) / 8192 + a13 * 524288, (a - a22) / 4194304 + a22 * 1024)
        + (a + b + c - bxor(a, b, c) % M32) / 2
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2
    end
    h0 = (h0 + a) % M32; h1 = (h1 + b) % M32; h2 = (h2 + c) % M32; h3 = (h3 + d) % M32
    h4 = (h4 + e) % M32; h5 = (h5 + f) % M32; h6 = (h6 + g) % M32; h7 = (h7 + h) % M32
  end
  return tohex(h0) .. tohex(h1) .. tohex(h2) .. tohex(h3) .. tohex(h4) .. tohex(h5) .. tohex(h6) .. tohex(h7)
end

-- 64 hex characters -> the 32 bytes they spell.
local function hex_bytes(hex)
  return (string.gsub(hex, '%x%x', function(pair) return char(tonumber(pair, 16)) end))
end

-- A JSON string literal escaped exactly as JavaScript's JSON.stringify escapes it.
local ESCAPES = { ['"'] = '\\"', ['\\'] = '\\\\', ['\b'] = '\\b', ['\f'] = '\\f', ['\n'] = '\\n',
  ['\r'] = '\\r', ['\t'] = '\\t' }
local function json_string(s)
  local escaped = string.gsub(s, '[%z\1-\31"\\]', function(c)
    return ESCAPES[c] or string.format('\\u%04x', byte(c))
  end)
  return '"' .. escaped .. '"'
end

-- Byte order, as JavaScript orders ASCII strings (Lua's < follows the server's locale).
local function byte_less(x, y)
  for i = 1, math.min(#x, #y) do
    local p, q = byte(x, i), byte(y, i)
    if p ~= q then return p < q end
  end
  return #x < #y
end

local function append(event_type, data_json)
  local seq = head_seq + 1
  local canonical = '{"at":"' .. AT_ISO .. '","data":' .. data_json .. ',"seq":' .. seq
    .. ',"type":"' .. event_type .. '"}'
  local hash = sha256(hex_bytes(head_hash) .. canonical)
  local segment = math.floor((seq - 1) / seg_size)
  redis.call('XADD', PREFIX .. ':log:' .. segment, seq .. '-0',
    't', event_type, 'a', ARGV[2], 'd', data_json, 'h', hash)
  head_seq = seq
  head_hash = hash
  appended = appended + 1
  return seq
end

local function save_head()
  if appended > 0 then
    redis.call('HSET', KEYS[1], 'seq', head_seq, 'hash', head_hash, 'at', ARGV[2], 'seg', seg_size)
  end
end

-- A credit in a user's projection hash: "<expiresAt ms, 0 = never>|<uses left>|<f|p|s>|<templateId>"
local function parse_credit(value)
  local expires, uses, kind, template = string.match(value, '^(%d+)|(%d+)|(%a)|(.*)$')
  return tonumber(expires), tonumber(uses), kind, template
end

local function credit_value(expires, uses, kind, template)
  return expires .. '|' .. uses .. '|' .. kind .. '|' .. template
end

-- Takes one use of the user's valid credit that expires soonest (a subscribe credit only for
-- its own template; `kinds` holds the allowed letters f, p, s), dropping expired entries met on
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
      and (kind ~= 's' or credit_template == template) then
      local rank = expires == 0 and NO_EXPIRY_SCORE or expires
      if best_id == nil or rank < best_rank or (rank == best_rank and byte_less(id, best_id)) then
        best_id, best_value, best_rank = id, value, rank
      end
    end
  end
  if best_id == nil then return nil end
  local expires, uses, kind, credit_template = parse_credit(best_value)
  if uses == 1 and expires == 0 then
    redis.call('HDEL', key, best_id)
  else
    redis.call('HSET', key, best_id, credit_value(expires, uses - 1, kind, credit_template))
  end
  append('FormIdConsumed', '{"formId":' .. json_string(best_id) .. ',"openId":'
    .. json_string(open_id) .. ',"pushId":' .. json_string(push_id) .. '}')
  return best_id, best_value
end

-- Gives one use back to a user's credit and appends FormIdReleased (`data_json`). `gone_value`
-- is the projection value to write when the credit was removed (its last use was taken), and
-- `score` its users index score. Returns the event's seq.
local function release_credit(open_id, form_id, gone_value, score, data_json)
  local key = user_key(open_id)
  local value = redis.call('HGET', key, form_id)
  if value then
    local expires, uses, kind, template = parse_credit(value)
    redis.call('HSET', key, form_id, credit_value(expires, uses + 1, kind, template))
  else
    redis.call('HSET', key, form_id, gone_value)
  end
  redis.call('ZADD', users_key(), 'GT', score, open_id)
  return append('FormIdReleased', data_json)
end

