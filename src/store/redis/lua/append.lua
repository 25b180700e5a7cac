-- append.lua: append events that leave the projection alone (push audit events).
-- ARGV[5..] pairs: entry t and d (src/store/redis/entry.ts). Returns the seqs.
local seqs = {}
for i = 5, #ARGV, 2 do
  seqs[#seqs + 1] = append(ARGV[i], ARGV[i + 1])
end
save_head()
return seqs
