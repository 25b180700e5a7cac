-- answer.lua: many reports of subscription answers (each the client's report, or an event push
-- from WeChat; for one user each), in one atomic step, report after report in order.
-- TypeScript owner: src/store/redis/answer.ts (the event push's answers are coalesced by the
-- ledger: many users' pushes cost one call).
-- Prelude: lib.lua (KEYS[1..2], ARGV[1..3]), credit_value.lua, credits.lua, fixed_window.lua.
-- Constants: ACCEPT (the accepting answers, as a set), OUTCOME (answer.ts).
-- From ARGV[4], per report: openId, source (client | wechat), now + the confirmation window
-- ('' without the event push), seen until (now + SEEN_MS), a standing credit's expiry ('0'
-- never), a provisional credit's expiry, the caps (live credits per user, per template; ''
-- none), the settings' canonical JSON data ('' none), its SubscribeSettingsReported entry t and
-- d; the number c of rate-limit checks, then 3 per check: the count's key (limits.ts), the
-- limit, the window's length in ms; the number n of items, then 5 per item: templateId, answer,
-- key, long-term ('1' or ''), revoke ('1' or '').
-- Rate limits first, as collect.lua counts an upload's: each check counts its report
-- (count_request), refused or not; a report over any of its limits records nothing (the other
-- reports of the call are not affected).
-- The twin of answerStep (src/ledger/answer_rules.ts), which documents the rules. Per user,
-- under BASE (keys.ts): sa:<openId> HASH templateId -> "<answer>|<source>" (CREDIT_SEPARATOR); ss:<openId> STRING
-- the settings' JSON data; sn:<openId> ZSET key -> remembered until; pc:<openId>:<templateId>
-- and pw:<openId>:<templateId> ZSET formId -> waits until (client's accepts waiting for
-- WeChat's report, and WeChat's waiting for the client's).
-- Appends: SubscribeSettingsReported when the settings changed; per item SubscriptionAnswered
-- (only with the event push), then FormIdCollected, CreditConfirmed or CreditsVoided.
-- Returns: the sealed seq and hash before the call, the log's last seq before it; per report, each check's count after it,
-- then (unless over a limit) per item, the outcome and the credit's formId ('' none); then the
-- appended events, so that the caller seals them without reading them back: their number k and
-- 2k strings, each event's entry t and d in order (k is -1, and nothing follows, when an event
-- was appended outside this script's own appends: the caller then reads the tail to seal).
local sealed = redis.call('HMGET', KEYS[1], 'sealed', 'hash')
local out = { tonumber(sealed[1]) or 0, sealed[2] or '', head_seq }

-- The events this script appends, kept for the reply (credits.lua's void_template appends
-- through lib.lua's append directly: `appended` then counts more than `kept` holds).
local kept = {}
local append_to_log = append
local function append(t, d)
  kept[#kept + 1] = t
  kept[#kept + 1] = d
  return append_to_log(t, d)
end

-- The report being applied (set by the loop at the end).
local open_id, source, window_end, seen_until, standing, provisional
local cap_user, cap_template, recorded, answers_key, settings_key, seen_key, settings

local function waiting_key(side, template)
  return BASE .. (side == 'client' and 'pc:' or 'pw:') .. open_id .. ':' .. template
end

-- keepsAccept: the user keeps this template as "always accept".
local function keeps_accept(template)
  if not settings or settings.mainSwitch ~= true then return false end
  local items = settings.itemSettings
  return type(items) == 'table' and items[template] == 'accept'
end

local function answered(template, answer, key, form_id, wait_until)
  if not recorded then return end
  local json = '{"answer":' .. json_string(answer)
  if form_id then json = json .. ',"formId":' .. json_string(form_id) end
  json = json .. ',"key":' .. json_string(key) .. ',"openId":' .. json_string(open_id)
    .. ',"source":' .. json_string(source) .. ',"templateId":' .. json_string(template)
  if form_id and wait_until then json = json .. ',"until":' .. wait_until end
  append('SubscriptionAnswered', json .. '}')
end

-- Mints a credit of `template` unless a cap refuses it (then only the answer is recorded).
local function mint(template, answer, key, form_id, expires, outcome, wait_until)
  prune(open_id, credits_key(open_id))
  local group = group_key(open_id, group_of(SUBSCRIBE, template))
  prune(open_id, group)
  if cap_user and live_count(credits_key(open_id)) >= cap_user then
    answered(template, answer, key)
    return OUTCOME.user_full, ''
  end
  if cap_template and live_count(group) >= cap_template then
    answered(template, answer, key)
    return OUTCOME.template_full, ''
  end
  answered(template, answer, key, form_id, wait_until)
  local value = credit_value(expires, 1, SUBSCRIBE, template)
  put_credit(open_id, form_id, value, redis.call('HGET', user_key(open_id), form_id))
  local shown = expires == '0' and '' or expires
  local d = positional({ shown, form_id, 'subscribe', open_id, template, '1' })
  if d then
    append(ENTRY_CODE.FormIdCollected, d)
  else
    append('FormIdCollected', '{"expiresAt":' .. (expires == '0' and 'null' or expires)
      .. ',"formId":' .. json_string(form_id) .. ',"kind":"subscribe","openId":'
      .. json_string(open_id) .. ',"templateId":' .. json_string(template) .. ',"uses":1}')
  end
  redis.call('ZADD', users_key(), 'GT', users_score_of(expires), open_id)
  if wait_until then redis.call('ZADD', waiting_key(source, template), wait_until, form_id) end
  return outcome, form_id
end

-- A provisional credit WeChat confirmed: its expiry becomes the standing one (a spent one that
-- would then never expire is dropped, as a take drops it).
local function confirm_expiry(form_id, expires)
  local key = user_key(open_id)
  local value = redis.call('HGET', key, form_id)
  if not value then return end
  local old, uses, kind, template = parse_credit(value)
  unindex_credit(open_id, form_id, uses, kind, template)
  if uses == 0 and expires == '0' then
    redis.call('HDEL', key, form_id)
    return
  end
  redis.call('HSET', key, form_id, credit_value(expires, uses, kind, template))
  index_credit(open_id, form_id, expires, uses, kind, template)
  if uses > 0 then redis.call('ZADD', users_key(), 'GT', users_score_of(expires), open_id) end
end

local function answer_item(template, answer, key, long_term, revoke)
  local seen = tonumber(redis.call('ZSCORE', seen_key, key))
  if seen and seen > NOW then return OUTCOME.duplicate, '' end
  local held = redis.call('HGET', user_key(open_id), key)
  if held and not expired((parse_credit(held))) then return OUTCOME.duplicate, '' end
  if recorded then
    redis.call('ZADD', seen_key, seen_until, key)
    redis.call('HSET', answers_key, template, answer .. CREDIT_SEPARATOR .. source)
  end
  if revoke then
    answered(template, answer, key)
    if void_template(open_id, template, 'revoked') > 0 then return OUTCOME.voided, '' end
    return OUTCOME.answered, ''
  end
  if not ACCEPT[answer] then
    answered(template, answer, key)
    return OUTCOME.answered, ''
  end
  if long_term then
    local form_id = LONG_TERM_PREFIX .. template
    local held = redis.call('HGET', user_key(open_id), form_id)
    if held and not expired((parse_credit(held))) then
      answered(template, answer, key)
      return OUTCOME.active, form_id
    end
    return mint(template, answer, key, form_id, '0', OUTCOME.credited)
  end
  if window_end == '' then return mint(template, answer, key, key, standing, OUTCOME.credited) end
  local other_side = source == 'client' and 'wechat' or 'client'
  local other_key = waiting_key(other_side, template)
  redis.call('ZREMRANGEBYSCORE', other_key, '-inf', NOW_TEXT)
  local other = redis.call('ZRANGEBYSCORE', other_key, '(' .. NOW_TEXT, '+inf', 'LIMIT', 0, 1)[1]
  if other then
    redis.call('ZREM', other_key, other)
    answered(template, answer, key)
    local json = '{"by":' .. json_string(source)
    if source == 'wechat' then
      json = json .. ',"expiresAt":' .. (standing == '0' and 'null' or standing)
      confirm_expiry(other, standing)
    end
    append('CreditConfirmed', json .. ',"formId":' .. json_string(other) .. ',"openId":'
      .. json_string(open_id) .. ',"templateId":' .. json_string(template) .. '}')
    return OUTCOME.confirmed, other
  end
  if source == 'wechat' or keeps_accept(template) then
    return mint(template, answer, key, key, standing, OUTCOME.credited, window_end)
  end
  return mint(template, answer, key, key, provisional, OUTCOME.provisional, window_end)
end

-- One report from ARGV[i]: its outputs added to `out`; answers the index after it.
local function apply_report(i)
  open_id, source, window_end, seen_until = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  standing, provisional = ARGV[i + 4], ARGV[i + 5]
  cap_user, cap_template = tonumber(ARGV[i + 6]), tonumber(ARGV[i + 7])
  -- Without the event push only credits are appended (answerStep's `recorded`).
  recorded = window_end ~= ''
  answers_key = BASE .. 'sa:' .. open_id
  settings_key = BASE .. 'ss:' .. open_id
  seen_key = BASE .. 'sn:' .. open_id
  local settings_json, settings_t, settings_d = ARGV[i + 8], ARGV[i + 9], ARGV[i + 10]
  local checks_end = i + 11 + tonumber(ARGV[i + 11]) * 3
  local limited = false
  for k = i + 12, checks_end, 3 do
    local count = count_request(ARGV[k], ARGV[k + 2])
    if count > tonumber(ARGV[k + 1]) then limited = true end
    out[#out + 1] = count
  end
  local items_end = checks_end + 1 + tonumber(ARGV[checks_end + 1]) * 5
  if limited then return items_end + 1 end

  if settings_json ~= '' and redis.call('GET', settings_key) ~= settings_json then
    redis.call('SET', settings_key, settings_json)
    append(settings_t, settings_d)
  end
  settings = redis.call('GET', settings_key)
  settings = settings and cjson.decode(settings)

  redis.call('ZREMRANGEBYSCORE', seen_key, '-inf', NOW_TEXT)
  for k = checks_end + 2, items_end, 5 do
    local outcome, form_id = answer_item(ARGV[k], ARGV[k + 1], ARGV[k + 2], ARGV[k + 3] == '1',
      ARGV[k + 4] == '1')
    out[#out + 1] = outcome
    out[#out + 1] = form_id
  end
  -- A user with subscription state is in the users index (a past score lists nothing), so that
  -- a rebuild's drop finds their keys.
  if recorded or settings_json ~= '' then redis.call('ZADD', users_key(), 'GT', 1, open_id) end
  return items_end + 1
end

local i = 4
while i <= #ARGV do i = apply_report(i) end
save_head()
if #kept == 2 * appended then
  out[#out + 1] = appended
  for k = 1, #kept do out[#out + 1] = kept[k] end
else
  out[#out + 1] = -1
end
return out
