-- append.lua: append events that leave the projection alone (push audit events).
-- TypeScript owner: src/store/redis/append.ts. Prelude: lib.lua (KEYS[1..2], ARGV[1..3]).
-- ARGV[4..] pairs: entry t and d (entry.ts).
-- Appends: the events, in order.
-- Returns: their seqs.
local seqs = {}
for i = 4, #ARGV, 2 do
  seqs[#seqs + 1] = append(ARGV[i], ARGV[i + 1])
end
save_head()
return seqs
