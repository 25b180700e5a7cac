-- credit_value.lua: a stored credit and its place in the credit index, with no key of its own;
-- prepended to the writing scripts (before credits.lua), write_users.lua and drop_users.lua.
-- TypeScript owner: src/store/redis/credit_value.ts (parseCredit, creditValue, indexEntry are
-- the twins). Constants: KIND_LETTER, CREDIT_SEPARATOR, NEVER_SCORE, NO_EXPIRY_SCORE
-- (credit_value.ts),
-- LEGACY_GROUP, TEMPLATE_GROUP_PREFIX (src/ledger/spend_groups.ts).

-- (%x matches the character x itself when x is not alphanumeric.)
local S = '%' .. CREDIT_SEPARATOR
local CREDIT_PATTERN = '^(%d+)' .. S .. '(%d+)' .. S .. '(%a)' .. S .. '(.*)$'
-- A stored credit: expiry text ('0' never), uses left, kind letter, template. The expiry stays
-- text: Lua would write a number of 15 or more digits back in exponent form.
local function parse_credit(value)
  local expires, uses, kind, template = string.match(value, CREDIT_PATTERN)
  return expires, tonumber(uses), kind, template
end

local function credit_value(expires, uses, kind, template)
  return expires .. CREDIT_SEPARATOR .. uses .. CREDIT_SEPARATOR .. kind .. CREDIT_SEPARATOR
    .. template
end

-- A credit's score in the users index (usersScore): its expiry, NO_EXPIRY_SCORE for never.
local function users_score_of(expires)
  if expires == '0' then return NO_EXPIRY_SCORE end
  return tonumber(expires)
end

-- spendRank as a score, and spendGroupOf (src/ledger/spend_groups.ts).
local function rank_of(expires) if expires == '0' then return NEVER_SCORE end return expires end
local function group_of(kind, template)
  if kind == KIND_LETTER.subscribe then return TEMPLATE_GROUP_PREFIX .. template end
  return LEGACY_GROUP
end

-- Every key one user has in the projection version under `base`: the hash, the credit index,
-- the spent index and the group of each live credit (found from the hash's values), and the
-- subscription state (answer.lua): answers, settings, seen keys, and the waiting accepts of
-- each template with an answer.
local function user_keys(base, open_id)
  local hash = base .. 'u:' .. open_id
  local keys = { hash, base .. 'c:' .. open_id, base .. 's:' .. open_id, base .. 'sa:' .. open_id,
    base .. 'ss:' .. open_id, base .. 'sn:' .. open_id }
  for _, template in ipairs(redis.call('HKEYS', base .. 'sa:' .. open_id)) do
    keys[#keys + 1] = base .. 'pc:' .. open_id .. ':' .. template
    keys[#keys + 1] = base .. 'pw:' .. open_id .. ':' .. template
  end
  local seen = {}
  local flat = redis.call('HGETALL', hash)
  for i = 2, #flat, 2 do
    local _, uses, kind, template = parse_credit(flat[i])
    if uses and uses > 0 then
      local group = group_of(kind, template)
      if not seen[group] then
        seen[group] = true
        keys[#keys + 1] = base .. 'g:' .. open_id .. ':' .. group
      end
    end
  end
  return keys
end
