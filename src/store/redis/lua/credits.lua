-- credits.lua: a user's credits in the live projection and their index; prepended after
-- lib.lua and credit_value.lua to every writing script. TypeScript owner:
-- src/store/redis/log_writer.ts. Constants: PRUNE_BATCH, WALK_PAGE (log_writer.ts),
-- LONG_TERM_PREFIX (src/ledger/credit_rules.ts).
--
-- Per user, under BASE (<prefix>:p<version>:), src/store/redis/keys.ts:
--   u:<openId>          HASH formId -> "<expiresAt ms, 0 = never>|<uses left>|<kind>|<template>"
--                       (live credits, and spent ones with an expiry until it passes: dedupe)
--   c:<openId>          ZSET formId -> spend rank: every live (unspent) credit
--   g:<openId>:<group>  ZSET formId -> spend rank: the live credits of one spend group
--   s:<openId>          ZSET formId -> expiry: spent credits still kept for dedupe
-- The spend rank is the expiry, NEVER_SCORE for a credit that never expires (spendRank); Redis
-- orders equal scores by the member's bytes, so a group's first member whose rank is after now
-- is the credit pickCredit chooses among them (src/ledger/credit_rules.ts, spend_groups.ts).
-- Expired entries stay until a take meets them at a group's head or a collect prunes them,
-- PRUNE_BATCH at a time; a rank after now is what makes a credit valid, never the pruning.

local SUBSCRIBE = KIND_LETTER.subscribe

local function user_key(open_id) return BASE .. 'u:' .. open_id end
local function credits_key(open_id) return BASE .. 'c:' .. open_id end
local function spent_key(open_id) return BASE .. 's:' .. open_id end
local function group_key(open_id, group) return BASE .. 'g:' .. open_id .. ':' .. group end

local function expired(expires) return expires ~= '0' and tonumber(expires) <= NOW end

-- Puts a credit in the index as live (uses > 0), or as spent (uses 0, with an expiry).
local function index_credit(open_id, id, expires, uses, kind, template)
  if uses > 0 then
    local rank = rank_of(expires)
    redis.call('ZADD', credits_key(open_id), rank, id)
    redis.call('ZADD', group_key(open_id, group_of(kind, template)), rank, id)
  elseif expires ~= '0' then
    redis.call('ZADD', spent_key(open_id), expires, id)
  end
end

local function unindex_credit(open_id, id, uses, kind, template)
  if uses > 0 then
    redis.call('ZREM', credits_key(open_id), id)
    redis.call('ZREM', group_key(open_id, group_of(kind, template)), id)
  else
    redis.call('ZREM', spent_key(open_id), id)
  end
end

-- Removes a credit whose stored value is `value` from the hash and the index.
local function forget_credit(open_id, id, value)
  local _, uses, kind, template = parse_credit(value)
  unindex_credit(open_id, id, uses, kind, template)
  redis.call('HDEL', user_key(open_id), id)
end

-- Drops up to PRUNE_BATCH expired credits at the head of the user's index `key` (c:, s: or a
-- group: every one of them is scored so that expired means a score up to now).
local function prune(open_id, key)
  local gone = redis.call('ZRANGEBYSCORE', key, '-inf', NOW_TEXT, 'LIMIT', 0, PRUNE_BATCH)
  for _, id in ipairs(gone) do
    local value = redis.call('HGET', user_key(open_id), id)
    if value then forget_credit(open_id, id, value) else redis.call('ZREM', key, id) end
  end
end

-- The user's live credits at now, in all or in one group: ZCOUNT of ranks after now.
local function live_count(key)
  return redis.call('ZCOUNT', key, '(' .. NOW_TEXT, '+inf')
end

-- Writes a new credit (`value`) into the hash and the index, replacing `held`, the value of an
-- expired credit of the same formId (false when none).
local function put_credit(open_id, id, value, held)
  if held then forget_credit(open_id, id, held) end
  redis.call('HSET', user_key(open_id), id, value)
  local expires, uses, kind, template = parse_credit(value)
  index_credit(open_id, id, expires, uses, kind, template)
end

-- The first valid credit of one group (after pruning its expired head): id and rank. `kinds`
-- ('' any) keeps only those KIND_LETTERs: the group is then walked WALK_PAGE at a time.
local function group_head(open_id, group, kinds)
  local key = group_key(open_id, group)
  -- The index is in rank order and expired ranks come first: a live (or no) first entry means
  -- nothing to prune, which saves a ZRANGEBYSCORE per group on most takes.
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[1] == nil then return nil end
  if tonumber(first[2]) > NOW and kinds == '' then return first[1], tonumber(first[2]) end
  if tonumber(first[2]) <= NOW then prune(open_id, key) end
  local after = '(' .. NOW_TEXT
  if kinds == '' then
    local head = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if head[1] == nil then return nil end
    return head[1], tonumber(head[2])
  end
  local offset = 0
  while true do
    local page = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'WITHSCORES', 'LIMIT', offset,
      WALK_PAGE)
    if page[1] == nil then return nil end
    for i = 1, #page, 2 do
      local _, _, kind = parse_credit(redis.call('HGET', user_key(open_id), page[i]) or '')
      if kind and string.find(kinds, kind, 1, true) then return page[i], tonumber(page[i + 1]) end
    end
    offset = offset + WALK_PAGE
  end
end

-- Marks a credit's last use taken (by a send, or a void): out of the live index; kept as spent
-- for duplicate detection until it expires; a never-expiring one is dropped (its id is minted by
-- the server, never uploaded again).
local function spend_credit(open_id, key, id, expires, uses, kind, template)
  unindex_credit(open_id, id, uses, kind, template)
  if expires == '0' then
    redis.call('HDEL', key, id)
  else
    redis.call('HSET', key, id, credit_value(expires, 0, kind, template))
    index_credit(open_id, id, expires, 0, kind, template)
  end
end

-- Takes one use of the user's valid credit that comes first in spend order among the heads of
-- `groups` (pairs: group, kind letters or ''; spendGroupsOf), and appends FormIdConsumed.
-- Returns formId, value before the use; nil when none.
local function take_credit(open_id, groups, push_id)
  local best_id, best_rank
  for i = 1, #groups, 2 do
    local id, rank = group_head(open_id, groups[i], groups[i + 1])
    if id and (best_id == nil or rank < best_rank or (rank == best_rank and byte_less(id, best_id)))
    then
      best_id, best_rank = id, rank
    end
  end
  if best_id == nil then return nil end
  local key = user_key(open_id)
  local value = redis.call('HGET', key, best_id)
  local expires, uses, kind, template = parse_credit(value)
  -- A long-term subscription is never used up: no event, nothing changes (isLongTerm).
  if kind == SUBSCRIBE and string.sub(best_id, 1, #LONG_TERM_PREFIX) == LONG_TERM_PREFIX then
    return best_id, value
  end
  if uses == 1 then
    spend_credit(open_id, key, best_id, expires, uses, kind, template)
  else
    redis.call('HSET', key, best_id, credit_value(expires, uses - 1, kind, template))
  end
  local d = positional({ best_id, open_id, push_id })
  if d then
    append(ENTRY_CODE.FormIdConsumed, d)
  else
    append('FormIdConsumed', '{"formId":' .. json_string(best_id) .. ',"openId":'
      .. json_string(open_id) .. ',"pushId":' .. json_string(push_id) .. '}')
  end
  return best_id, value
end

-- Gives one use back to a user's credit and appends FormIdReleased (entry `t`, `d`). `gone_value`
-- is the projection value to write when the credit was removed (its last use was taken).
-- Returns the event's seq.
local function release_credit(open_id, form_id, gone_value, t, d)
  local key = user_key(open_id)
  local value = redis.call('HGET', key, form_id)
  local expires, uses, kind, template
  if value then
    expires, uses, kind, template = parse_credit(value)
    redis.call('HSET', key, form_id, credit_value(expires, uses + 1, kind, template))
    if uses == 0 then
      unindex_credit(open_id, form_id, 0, kind, template)
      index_credit(open_id, form_id, expires, 1, kind, template)
    end
  else
    redis.call('HSET', key, form_id, gone_value)
    expires, uses, kind, template = parse_credit(gone_value)
    index_credit(open_id, form_id, expires, uses, kind, template)
  end
  redis.call('ZADD', users_key(), 'GT', users_score_of(expires), open_id)
  return append(t, d)
end

-- Voids the user's live credits of one template (liveOfTemplate: its group, in spend order) as
-- if every use left were taken, and appends one CreditsVoided; nothing when none is live.
-- Returns the number voided.
local function void_template(open_id, template, reason)
  local group = group_key(open_id, group_of(SUBSCRIBE, template))
  local ids = redis.call('ZRANGEBYSCORE', group, '(' .. NOW_TEXT, '+inf')
  if #ids == 0 then return 0 end
  local key = user_key(open_id)
  local quoted = {}
  for k, id in ipairs(ids) do
    local expires, uses, kind = parse_credit(redis.call('HGET', key, id))
    spend_credit(open_id, key, id, expires, uses, kind, template)
    quoted[k] = json_string(id)
  end
  append('CreditsVoided', '{"formIds":[' .. table.concat(quoted, ',') .. '],"openId":'
    .. json_string(open_id) .. ',"reason":' .. json_string(reason) .. ',"templateId":'
    .. json_string(template) .. '}')
  return #ids
end
