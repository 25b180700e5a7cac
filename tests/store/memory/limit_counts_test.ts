import assert from "node:assert/strict";
import { LimitCounts } from "../../../src/store/memory/limit_counts.ts";

Deno.test("memory limit counts: a flood of identifiers stays bounded and shares one overflow window", () => {
  const counts = new LimitCounts(100);
  const now = 1_000_000;
  const check = (id: string) => ({ limit: "ip", id, tokens: 3, windowMs: 60_000 });
  // 100 addresses fill the table; each has its own count.
  for (let i = 0; i < 100; i++) {
    assert.equal(counts.count([check(`10.0.0.${i}`)], now)[0].success, true);
  }
  assert.equal(counts.size, 100);
  // 1,000 more addresses: the table grows by one overflow window, which they share.
  const decisions = [];
  for (let i = 0; i < 1_000; i++) decisions.push(counts.count([check(`172.16.${i}`)], now)[0]);
  assert.ok(counts.size <= 101, `size ${counts.size}`);
  assert.deepEqual(decisions.slice(0, 4).map((d) => d.success), [true, true, true, false]);
  // Known addresses keep their own counts.
  assert.equal(counts.count([check("10.0.0.1")], now)[0].remaining, 1);
  // Once the window has passed, the old windows are swept and new addresses count alone again.
  const later = now + 120_000;
  assert.equal(counts.count([check("192.168.0.1")], later)[0].remaining, 2);
  assert.ok(counts.size <= 2, `size ${counts.size} after the sweep`);
});
