-- collect.lua: add credits to users, one FormIdCollected event per new credit. One call may
-- carry many uploads (coalesced by the ledger); the whole call is one atomic step.
-- TypeScript owner: src/store/redis/collect.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]),
-- credit_value.lua, credits.lua, fixed_window.lua, chain_strings.lua. Constants: REFUSED
-- (collect.ts), STORED_HASH_LENGTH (stored_hash.ts).
-- ARGV[4..8] a speculated seal: the caller's guess that every credit will be appended, in ARGV
-- order, right after the sealed head it last saw. ARGV[4] that head's seq ('' for no guess),
-- ARGV[5] its hash in hex ('' when the seq is 0), ARGV[6] the chain hashes of the guessed events
-- (that seq + 1 ..., one per credit, `at` = ARGV[2]) in stored form, concatenated, ARGV[7] the
-- last of them in hex, ARGV[8] the hashes per chain string, used when the log is first sealed:
-- seal.lua's arguments.
-- ARGV[9] the number c of rate-limit checks, then 4 per check: its upload's number (from 1),
-- the count's key (limits.ts), the limit, the window's length in ms.
-- ARGV[10 + 4c..], per upload: openId, credit count n, the caps (live credits per user, per
-- template; '' for none), then 4 per credit: formId, projection value (credit_value.ts), entry
-- t and d (entry.ts).
-- Rate limits first: each check counts its upload's request (count_request), refused or not;
-- an upload whose count is over any of its limits collects nothing.
-- The twin of the memory store's collectMany: a formId the user holds unexpired (spent or not,
-- or earlier in this call) is a duplicate (isDuplicate); else, with caps, a credit that would
-- take the user's live credits (unspent, unexpired: ZCOUNT of the index) to more than the
-- user's cap, or a subscribe credit its template's, is refused (capRefusal, the user's cap
-- first); a refused credit changes nothing. Each upload first prunes some expired credits.
-- Appends: FormIdCollected per new credit (the caller's t and d).
-- Seals them in the same call (store_hashes, as seal.lua would) when the guess held: the head's
-- seq and sealed were both ARGV[4] and its hash ARGV[5] before the call (nothing unsealed,
-- nothing appended since the caller looked), and every credit was appended (none a duplicate,
-- refused or over a limit), so the guessed seqs are the real ones. Otherwise the hashes are
-- ignored and the caller seals as before.
-- Returns: the sealed seq and hash before the call (for the caller to seal the new events
-- without reading them back), the sealed seq after the call when this call sealed its events
-- (0 when it did not), then each check's count after it, then one integer per credit of the
-- uploads not over a limit, uploads in order: its seq when collected, 0 when a duplicate,
-- REFUSED.user_full or REFUSED.template_full when refused.
local sealed = redis.call('HMGET', KEYS[1], 'sealed', 'hash', 'chunk')
local sealed_seq = tonumber(sealed[1]) or 0
local result = { sealed_seq, sealed[2] or '', 0 }
local guess_from = tonumber(ARGV[4])
local guess_holds = guess_from ~= nil and guess_from == sealed_seq and guess_from == head_seq
  and ARGV[5] == (sealed[2] or '')
local limited = {}
local checks_end = 9 + tonumber(ARGV[9]) * 4
for k = 10, checks_end, 4 do
  local count = count_request(ARGV[k + 1], ARGV[k + 3])
  if count > tonumber(ARGV[k + 2]) then limited[tonumber(ARGV[k])] = true end
  result[#result + 1] = count
end
local i = checks_end + 1
local upload = 0
while i <= #ARGV do
  upload = upload + 1
  local open_id = ARGV[i]
  local last = i + 3 + tonumber(ARGV[i + 1]) * 4
  -- Over a rate limit: none of its credits is looked at.
  local first = limited[upload] and last + 1 or i + 4
  local cap_user, cap_template = tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  prune(open_id, credits_key(open_id))
  prune(open_id, spent_key(open_id))
  local user_live = cap_user and live_count(credits_key(open_id))
  local template_live = {}
  local best_score = 0
  for j = first, last, 4 do
    local id, value = ARGV[j], ARGV[j + 1]
    local expires, uses, kind, template = parse_credit(value)
    local held = redis.call('HGET', user_key(open_id), id)
    local code = 0
    if not (held and not expired((parse_credit(held)))) then
      -- The template's live credits, counted once per upload and then kept up to date.
      local t_live = nil
      if cap_template and kind == SUBSCRIBE then
        t_live = template_live[template] or live_count(group_key(open_id, group_of(kind, template)))
        template_live[template] = t_live
      end
      if cap_user and user_live >= cap_user then
        code = REFUSED.user_full
      elseif t_live and t_live >= cap_template then
        code = REFUSED.template_full
      else
        put_credit(open_id, id, value, held)
        code = append(ARGV[j + 2], ARGV[j + 3])
        local score = users_score_of(expires)
        if score > best_score then best_score = score end
        if uses > 0 and not expired(expires) then
          if cap_user then user_live = user_live + 1 end
          if t_live then template_live[template] = t_live + 1 end
        end
      end
    end
    result[#result + 1] = code
  end
  if best_score > 0 then
    redis.call('ZADD', users_key(), 'GT', best_score, open_id)
  end
  i = last + 1
end
save_head()
if guess_holds and appended > 0 and appended == #ARGV[6] / STORED_HASH_LENGTH then
  -- Chain strings out of step: no seal here; the caller's seal.lua reports it.
  local now = store_hashes(KEYS[1], PREFIX, guess_from, ARGV[6], ARGV[7], tonumber(sealed[3]),
    tonumber(ARGV[8]))
  if now then result[3] = now end
end
return result
