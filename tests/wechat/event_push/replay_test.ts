/** The in-memory replay guard: refuses a second claim, forgets on expiry or release, stays bounded. */
import assert from "node:assert/strict";
import { ManualClock } from "../../../src/shared/clock.ts";
import { MemoryReplayGuard } from "../../../src/wechat/event_push/replay.ts";

Deno.test("a key is claimed once until it expires", async () => {
  const clock = new ManualClock(1_000_000);
  const guard = new MemoryReplayGuard({ clock });
  assert.equal(await guard.claim("a", 1_300_000), true);
  assert.equal(await guard.claim("a", 1_300_000), false);
  assert.equal(await guard.claim("b", 1_300_000), true);
  clock.advance(299_999);
  assert.equal(await guard.claim("a", 1_600_000), false);
  clock.advance(1);
  assert.equal(await guard.claim("a", 1_600_000), true, "expired keys may be claimed again");
});

Deno.test("release lets the same key be claimed again (a failed push's retry)", async () => {
  const guard = new MemoryReplayGuard({ clock: new ManualClock(0) });
  assert.equal(await guard.claim("k", 10_000), true);
  await guard.release("k");
  assert.equal(await guard.claim("k", 10_000), true);
  assert.equal(await guard.claim("k", 10_000), false);
  await guard.release("never-claimed"); // harmless
});

Deno.test("memory stays bounded: expired keys are swept, then the oldest are forgotten", async () => {
  const clock = new ManualClock(0);
  const guard = new MemoryReplayGuard({ clock, maxEntries: 100 });
  for (let i = 0; i < 100; i++) assert.equal(await guard.claim(`old${i}`, 1_000), true);
  assert.equal(guard.size, 100);
  clock.advance(1_000);
  assert.equal(await guard.claim("fresh", 5_000), true);
  assert.equal(guard.size, 1, "all expired keys swept");
  for (let i = 0; i < 250; i++) await guard.claim(`k${i}`, 5_000);
  assert.equal(guard.size, 100);
  assert.equal(await guard.claim("k249", 5_000), false, "recent keys are still refused");
  assert.equal(await guard.claim("fresh", 5_000), true, "the oldest was forgotten at the bound");
});
