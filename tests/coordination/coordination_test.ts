/**
 * The key-value store and work queue behave alike in memory and on Redis: NX locks with expiry,
 * compare-and-delete, and a consumer group that hands each item to one consumer, reclaims items
 * a consumer held too long, and forgets acknowledged and dropped work.
 */
import assert from "node:assert/strict";
import type { KeyValue, WorkQueue } from "../../src/coordination/coordination.ts";
import { MemoryKeyValue, MemoryWorkQueue } from "../../src/coordination/memory.ts";
import { RedisKeyValue, RedisWorkQueue } from "../../src/coordination/redis.ts";
import { upstashClient } from "../../src/shared/upstash_client.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";

function redisPair(): { kv: KeyValue; queue: WorkQueue } {
  const prefix = uniquePrefix("kv");
  const redis = upstashClient(upstashFromEnv());
  return { kv: new RedisKeyValue(redis, prefix), queue: new RedisWorkQueue(redis, prefix) };
}

const kinds = {
  memory: () => ({ kv: new MemoryKeyValue(), queue: new MemoryWorkQueue() }),
  redis: redisPair,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const [name, make] of Object.entries(kinds)) {
  Deno.test(`kv (${name}): NX lock with expiry and compare-and-delete release`, async () => {
    const { kv } = make();
    assert.equal(await kv.get("lock"), null);
    assert.equal(await kv.set("lock", "me", { nx: true, px: 150 }), true);
    assert.equal(await kv.set("lock", "you", { nx: true, px: 150 }), false);
    assert.equal(await kv.deleteIfEquals("lock", "you"), false, "not yours to release");
    assert.equal(await kv.get("lock"), "me");
    await sleep(200);
    assert.equal(await kv.get("lock"), null, "expired");
    assert.equal(await kv.set("lock", "you", { nx: true, px: 5_000 }), true);
    assert.equal(await kv.deleteIfEquals("lock", "you"), true);
    assert.equal(await kv.set("plain", "v1"), true);
    assert.equal(await kv.set("plain", "v2"), true);
    assert.equal(await kv.get("plain"), "v2");
    await kv.del("plain");
    assert.equal(await kv.get("plain"), null);
  });

  Deno.test(`kv (${name}): setMissing sets the absent keys in order, each with its expiry`, async () => {
    const { kv } = make();
    assert.equal(await kv.set("held", "old", { px: 5_000 }), true);
    assert.deepEqual(await kv.setMissing([]), []);
    assert.deepEqual(
      await kv.setMissing([
        { key: "a", value: "1", px: 150 },
        { key: "held", value: "new", px: 5_000 },
        { key: "b", value: "2", px: 5_000 },
        { key: "a", value: "again", px: 5_000 },
      ]),
      [true, false, true, false],
    );
    assert.equal(await kv.get("held"), "old", "an existing key is left as it was");
    assert.equal(await kv.get("a"), "1", "a key listed twice is set by its first entry");
    await sleep(200);
    assert.equal(await kv.get("a"), null, "expired");
    assert.equal(await kv.get("b"), "2");
    assert.deepEqual(await kv.setMissing([{ key: "a", value: "3", px: 5_000 }]), [true]);
    await kv.del("a", "b", "held");
  });

  Deno.test(`work queue (${name}): one consumer per item, reclaim after idle, ack, drop`, async () => {
    const { queue } = make();
    await queue.add("b1", ["c1", "c2", "c3"]);
    await queue.add("b2", ["d1"]);
    const a = await queue.next("alice", 2, 10_000);
    assert.equal(a.length, 2);
    assert.ok(a.every((item) => !item.reclaimed));
    const b = await queue.next("bob", 10, 10_000);
    const seen = [...a, ...b].map((item) => item.payload).sort();
    assert.deepEqual(seen, ["c1", "c2", "c3", "d1"], "every item handed out once");
    assert.deepEqual(await queue.next("carol", 10, 10_000), []);
    for (const item of b) await queue.ack(item);
    // alice dies holding her two items: after the idle time they go to the next consumer.
    await sleep(150);
    const reclaimed = await queue.next("carol", 10, 100);
    assert.deepEqual(reclaimed.map((item) => item.payload).sort(), a.map((i) => i.payload).sort());
    assert.ok(reclaimed.every((item) => item.reclaimed));
    assert.deepEqual(await queue.next("dave", 10, 100_000), [], "held again by carol");
    // A live consumer's touch keeps its item from being reclaimed; a stranger's touch does nothing.
    await sleep(150);
    assert.equal(await queue.touch(reclaimed[1], "carol"), true);
    assert.equal(await queue.touch(reclaimed[1], "mallory"), false);
    assert.deepEqual(await queue.next("dave", 10, 100).then((i) => i.map((x) => x.payload)), [
      reclaimed[0].payload,
    ]);
    await sleep(150);
    const retaken = await queue.next("carol", 10, 100);
    assert.deepEqual(retaken.map((x) => x.payload).sort(), reclaimed.map((x) => x.payload).sort());
    await queue.ack(reclaimed[0]);
    await sleep(150);
    const again = await queue.next("erin", 10, 100);
    assert.deepEqual(again.map((i) => i.payload), [reclaimed[1].payload], "acked items stay done");
    await queue.drop("b1");
    await queue.drop("b2");
    await sleep(150);
    assert.deepEqual(await queue.next("frank", 10, 100), [], "dropped queues are gone");
  });
}

for (const [name, make] of Object.entries(kinds)) {
  Deno.test(`kv (${name}): compareAndSet changes a key only while it holds what was read`, async () => {
    const { kv } = make();
    assert.equal(await kv.compareAndSet("k", "x", "y", 5_000), false, "absent is not x");
    assert.equal(await kv.compareAndSet("k", null, "v1", 150), true, "absent as read");
    assert.equal(await kv.compareAndSet("k", null, "v2", 5_000), false, "no longer absent");
    assert.equal(await kv.compareAndSet("k", "v0", "v2", 5_000), false, "not what it holds");
    assert.equal(await kv.get("k"), "v1");
    assert.equal(await kv.compareAndSet("k", "v1", "v2", 150), true);
    assert.equal(await kv.get("k"), "v2");
    await sleep(200);
    assert.equal(await kv.get("k"), null, "each write sets its expiry");
    assert.equal(await kv.compareAndSet("k", null, "v3", 5_000), true);
    assert.equal(await kv.compareAndSet("k", "v3", null, 5_000), true, "null deletes");
    assert.equal(await kv.get("k"), null);
    // Concurrent read-modify-writes, each retried on a lost race: no increment is lost.
    const bump = async () => {
      for (;;) {
        const raw = await kv.get("n");
        if (await kv.compareAndSet("n", raw, String(Number(raw ?? 0) + 1), 5_000)) return;
      }
    };
    await Promise.all(Array.from({ length: 25 }, bump));
    assert.equal(await kv.get("n"), "25");
  });
}
