/**
 * The replay guard on the key-value store (Redis through the Upstash bridge, and memory):
 * a key is claimed once until it expires or is released, and concurrent claims share one
 * `setMissing` call, each with its own answer.
 */
import assert from "node:assert/strict";
import type { KeyValue, MissingEntry } from "../../src/coordination/coordination.ts";
import { MemoryKeyValue } from "../../src/coordination/memory.ts";
import { RedisKeyValue } from "../../src/coordination/redis.ts";
import { KeyValueReplayGuard } from "../../src/coordination/replay_guard.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { upstashClient } from "../../src/shared/upstash_client.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";

/** The real store, with its batched calls counted. */
function counted(kv: KeyValue): { kv: KeyValue; calls: MissingEntry[][] } {
  const calls: MissingEntry[][] = [];
  const setMissing = kv.setMissing.bind(kv);
  kv.setMissing = (entries) => {
    calls.push(entries);
    return setMissing(entries);
  };
  return { kv, calls };
}

const kinds = {
  memory: () => new MemoryKeyValue(),
  redis: () => new RedisKeyValue(upstashClient(upstashFromEnv()), uniquePrefix("guard")),
};

for (const [name, make] of Object.entries(kinds)) {
  Deno.test(`replay guard (${name}): concurrent claims share one call; each key is claimed once`, async () => {
    const { kv, calls } = counted(make());
    const guard = new KeyValueReplayGuard(kv, systemClock);
    const until = Date.now() + 60_000;
    const keys = Array.from({ length: 20 }, (_, i) => `1714036504:n${i % 15}:sig${i % 15}`);
    const claimed = await Promise.all(keys.map((key) => guard.claim(key, until)));
    assert.deepEqual(claimed, keys.map((_, i) => i < 15), "a replay inside the batch is refused");
    assert.equal(calls.length, 1, "twenty concurrent claims, one call");
    assert.equal(calls[0].length, 20);
    assert.ok(calls[0].every((e) => e.px > 59_000 && e.px <= 60_000), "kept until `until`");
    // Later claims of the same keys are replays, until a key is released.
    assert.deepEqual(
      await Promise.all([guard.claim(keys[0], until), guard.claim(keys[1], until)]),
      [false, false],
    );
    await guard.release(keys[0]);
    assert.equal(await guard.claim(keys[0], until), true);
    // A claim kept for a moment only is forgotten when it expires.
    assert.equal(await guard.claim("short", Date.now() + 100), true);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await guard.claim("short", Date.now() + 100), true);
    await kv.del(...keys.map((k) => `wxpush:${k}`), "wxpush:short");
  });
}
