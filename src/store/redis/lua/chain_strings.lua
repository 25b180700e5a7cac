-- chain_strings.lua: the one implementation of the chain strings' layout, prepended to the
-- scripts that store chain hashes: seal.lua and collect.lua (which seals its own events when it
-- can). TypeScript owner: src/store/redis/sealer.ts (it computes the hashes).
-- Constants: STORED_HASH_LENGTH (stored_hash.ts).
-- The hashes go to STRINGs <prefix>:chain:<n> of `chunk` hashes each (the head's chunk field,
-- fixed by the first seal): the hash of event seq at offset ((seq - 1) % chunk) * WIDTH of string
-- floor((seq - 1) / chunk). They only grow by APPEND, and Redis grows a string by doubling its
-- allocation: a string that becomes full is copied once into an exact-size one, so the chain
-- costs WIDTH bytes per event, not up to twice that.
--
-- store_hashes(head_key, prefix, from, hashes, last_hex, chunk, new_chunk) stores the hashes of
-- events from+1 .. from+k (`hashes`: their stored forms, concatenated; `last_hex`: the last one
-- in hex) and moves the head's sealed and hash to them. The caller has checked that `from` is
-- the head's sealed seq and that the k events exist. `chunk` is the head's (nil when the log was
-- never sealed: `new_chunk` is then written). Returns from + k, or nil and the reason when the
-- chain strings are out of step with the head; then nothing is written.
local function store_hashes(head_key, prefix, from, hashes, last_hex, chunk, new_chunk)
  local WIDTH = STORED_HASH_LENGTH
  local count = #hashes / WIDTH
  local new_layout = chunk == nil
  if new_layout then
    if from ~= 0 then return nil, 'sealed log without a chain layout' end
    chunk = new_chunk
  end
  -- Every string the hashes go to holds exactly the hashes before them: checked before writing.
  local first = math.floor(from / chunk)
  for n = first, math.floor((from + count - 1) / chunk) do
    local key = prefix .. ':chain:' .. n
    if redis.call('STRLEN', key) ~= (n == first and (from % chunk) * WIDTH or 0) then
      return nil, 'chain string ' .. key .. ' out of step with the sealed head'
    end
  end
  if new_layout then redis.call('HSET', head_key, 'chunk', chunk) end
  local seq, offset = from + 1, 1
  while offset <= #hashes do
    local n = math.floor((seq - 1) / chunk)
    local take = math.min(count - (seq - from - 1), (n + 1) * chunk - seq + 1)
    local key = prefix .. ':chain:' .. n
    local length = redis.call('APPEND', key, string.sub(hashes, offset, offset + take * WIDTH - 1))
    if length == chunk * WIDTH and take < chunk then
      redis.call('SET', key, redis.call('GET', key))
    end
    seq = seq + take
    offset = offset + take * WIDTH
  end
  redis.call('HSET', head_key, 'sealed', from + count, 'hash', last_hex)
  return from + count
end
