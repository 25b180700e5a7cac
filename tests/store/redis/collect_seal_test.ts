/**
 * A collect seals its own events in the same script call when the sealer's last known head
 * still holds and every credit is new: one command per batch, the head fully sealed when the
 * call returns. A duplicate, a refused or limited upload, another instance's write or an
 * unsealed tail falls back to a seal of its own (one more command), and the chain stays valid,
 * with concurrent writers too. Real redis, through the Upstash REST bridge.
 */
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { auditStore } from "../../../src/audit/audit.ts";
import { auditPassed } from "../../../src/audit/format.ts";
import type { Credit } from "../../../src/ledger/credit_rules.ts";
import type { CollectRequest } from "../../../src/ledger/store.ts";
import { ledgerKeys } from "../../../src/store/redis/keys.ts";
import { createRedisStore, type RedisStore } from "../../../src/store/redis/redis.ts";
import { STORED_HASH_LENGTH } from "../../../src/store/redis/stored_hash.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { appendUnsealed } from "./unsealed_write.ts";

const T0 = Date.UTC(2026, 10, 25, 12);

const credit = (formId: string): Credit => ({
  formId,
  kind: "form",
  uses: 1,
  expiresAt: T0 + 86_400_000,
});

/** The bridge's count of billed commands so far (test modules run one at a time). */
async function billed(): Promise<number> {
  const { url, token } = upstashFromEnv();
  const res = await fetch(`${url}/_bridge/commands`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()).total;
}

/** The commands `call` costs, and its result. */
async function commandsOf<T>(call: () => Promise<T>): Promise<[number, T]> {
  const before = await billed();
  const result = await call();
  return [(await billed()) - before, result];
}

/** The head's seq and sealed seq, as stored. */
async function headOf(raw: Redis, prefix: string): Promise<{ seq: number; sealed: number }> {
  const [seq, sealed] = await raw.hmget(ledgerKeys(prefix).head, "seq", "sealed") as unknown as [
    string | null,
    string | null,
  ];
  return { seq: Number(seq ?? 0), sealed: Number(sealed ?? 0) };
}

/** The whole log verifies from genesis to the head, every event sealed. */
async function assertVerified(store: RedisStore, raw: Redis, prefix: string): Promise<void> {
  const head = await headOf(raw, prefix);
  assert.equal(head.sealed, head.seq, "every event sealed");
  assert.equal(await store.unsealed(), 0);
  const audit = await auditStore(store, { pageSize: 7 });
  assert.ok(auditPassed(audit), JSON.stringify(audit.verify));
  assert.equal(audit.verify.events, head.seq);
}

function setup(name: string, options: { chainChunk?: number } = {}) {
  const prefix = uniquePrefix(name);
  const open = () =>
    createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 4, ...options });
  const raw = new Redis({ ...upstashFromEnv(), automaticDeserialization: false });
  return { prefix, open, raw };
}

Deno.test("collect: a batch of new credits is sealed by its own script call, one command", async () => {
  const { prefix, open, raw } = setup("inline", { chainChunk: 3 });
  const store = open();
  try {
    // The first call loads the script (NOSCRIPT, then EVAL) and seals a fresh log in-call.
    await store.collect("w", [credit("w0")], T0);
    assert.deepEqual(await headOf(raw, prefix), { seq: 1, sealed: 1 });
    const uploads: CollectRequest[] = [
      { openId: "a", credits: [credit("a0"), credit("a1"), credit("a2")] },
      { openId: "b", credits: [credit("b0"), credit("b1")] },
    ];
    const [commands, results] = await commandsOf(() => store.collectMany(uploads, T0 + 1));
    assert.equal(commands, 1, "the collect call alone: no seal round trip");
    assert.deepEqual(results.map((r) => r.accepted.length), [3, 2]);
    // Sealed when the call answered, across chain strings (3 hashes each) and log segments.
    assert.deepEqual(await headOf(raw, prefix), { seq: 6, sealed: 6 });
    const keys = ledgerKeys(prefix);
    const lengths = await Promise.all([0, 1].map((n) => raw.strlen(keys.chain(n))));
    assert.deepEqual(lengths, [3, 3].map((n) => n * STORED_HASH_LENGTH));
    // The next batch chains from the head this one sealed.
    const [again] = await commandsOf(() => store.collect("c", [credit("c0")], T0 + 2));
    assert.equal(again, 1);
    await assertVerified(store, raw, prefix);
  } finally {
    await store.close();
  }
});

Deno.test("collect: a duplicate, a refused or limited upload, or an unsealed tail falls back to a seal of its own", async () => {
  const { prefix, open, raw } = setup("fallback");
  const store = open();
  try {
    await store.collect("u", [credit("a"), credit("b")], T0);
    // A duplicate: its seq is not appended, so the guessed seqs are wrong after it.
    const [dup, duplicated] = await commandsOf(() =>
      store.collect("u", [credit("a"), credit("c")], T0 + 1)
    );
    assert.deepEqual(duplicated.duplicates, ["a"]);
    assert.ok(dup >= 2, `collect then seal: ${dup} commands`);
    await assertVerified(store, raw, prefix);

    // A credit over the user's cap.
    const caps = { perUser: 4, perTemplate: 10 };
    const [refused, [capped]] = await commandsOf(() =>
      store.collectMany([{ openId: "u", credits: [credit("d"), credit("e")], caps }], T0 + 2)
    );
    assert.deepEqual(capped.refused, [{ formId: "e", reason: "user_full" }]);
    assert.equal(refused, 2);
    await assertVerified(store, raw, prefix);

    // An upload over its rate limit, beside one that is not.
    const limits = [{ limit: "user", id: "v", tokens: 0, windowMs: 60_000 }];
    const [limited, results] = await commandsOf(() =>
      store.collectMany([
        { openId: "v", credits: [credit("v0")], limits },
        { openId: "w", credits: [credit("w0")] },
      ], T0 + 3)
    );
    assert.equal(results[0].limits?.[0].success, false);
    assert.deepEqual(results.map((r) => r.accepted), [[], ["w0"]]);
    assert.equal(limited, 2);
    await assertVerified(store, raw, prefix);

    // All new again: sealed in the call.
    const [inline] = await commandsOf(() => store.collect("x", [credit("x0")], T0 + 4));
    assert.equal(inline, 1);

    // Another writer appended and did not seal (record.lua called directly): an unsealed tail.
    await appendUnsealed(raw, prefix, T0 + 5);
    const before = await headOf(raw, prefix);
    assert.equal(before.sealed, before.seq - 1);
    const [tail] = await commandsOf(() => store.collect("y", [credit("y0")], T0 + 6));
    assert.ok(tail >= 2, `collect then seal: ${tail} commands`);
    await assertVerified(store, raw, prefix);
  } finally {
    await store.close();
  }
});

Deno.test("collect: after another instance wrote, the guess fails once and the chain stays whole", async () => {
  const { prefix, open, raw } = setup("other");
  const [first, second] = [open(), open()];
  try {
    await first.collect("a", [credit("a0"), credit("a1")], T0);
    assert.equal(
      (await commandsOf(() => first.collect("a", [credit("a2")], T0 + 1)))[0],
      1,
    );
    // The second instance has never seen the head: it falls back (and learns the head).
    await second.collect("b", [credit("b0")], T0 + 2);
    assert.equal((await commandsOf(() => second.collect("b", [credit("b1")], T0 + 3)))[0], 1);
    // The first instance's known head is stale now: one collect and one seal.
    const [stale] = await commandsOf(() => first.collect("a", [credit("a3")], T0 + 4));
    assert.equal(stale, 2);
    assert.equal((await commandsOf(() => first.collect("a", [credit("a4")], T0 + 5)))[0], 1);
    await assertVerified(first, raw, prefix);
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("collect: two instances collecting in parallel keep the chain valid", async () => {
  const { prefix, open, raw } = setup("parallel", { chainChunk: 10 });
  const stores = [open(), open()];
  try {
    await Promise.all(stores.map(async (store, s) => {
      for (let round = 0; round < 15; round++) {
        const uploads = Array.from({ length: 3 }, (_, u) => ({
          openId: `s${s}u${u}`,
          // Every fifth upload repeats a formId: a duplicate in the batch.
          credits: [credit(`f${round}`), credit(`f${round - ((round + u) % 5 === 0 ? 1 : 0)}`)],
        }));
        await Promise.all([
          store.collectMany(uploads, T0 + round),
          store.collect(`s${s}solo`, [credit(`g${round}`)], T0 + round),
        ]);
      }
    }));
    const head = await headOf(raw, prefix);
    assert.ok(head.seq > 2 * 15 * 4, `${head.seq} events`);
    await assertVerified(stores[0], raw, prefix);
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
});

Deno.test("collect: a call sent while another is in flight chains its guess from that one's", async () => {
  const { prefix, open, raw } = setup("chained", { chainChunk: 4 });
  const store = open();
  try {
    await store.collect("w", [credit("w0")], T0); // loads the script, learns the head
    // Two calls in flight at once (the ledger's coalescer sends two): both seal in-call.
    const [both] = await commandsOf(() =>
      Promise.all([
        store.collect("a", [credit("a0"), credit("a1"), credit("a2")], T0 + 1),
        store.collect("b", [credit("b0"), credit("b1")], T0 + 1),
      ])
    );
    assert.equal(both, 2, "two collect calls, no seal round trip");
    assert.deepEqual(await headOf(raw, prefix), { seq: 6, sealed: 6 });
    await assertVerified(store, raw, prefix);

    // The first guess fails (a duplicate): the call chained after it fails too, and both seal
    // after; the next call alone guesses right again.
    const [failed, results] = await commandsOf(() =>
      Promise.all([
        store.collect("a", [credit("a0"), credit("a3")], T0 + 2),
        store.collect("c", [credit("c0")], T0 + 2),
      ])
    );
    assert.deepEqual(results.map((r) => r.accepted), [["a3"], ["c0"]]);
    assert.ok(failed >= 3, `two collects and their seals: ${failed} commands`);
    await assertVerified(store, raw, prefix);
    assert.equal((await commandsOf(() => store.collect("d", [credit("d0")], T0 + 3)))[0], 1);
    await assertVerified(store, raw, prefix);
  } finally {
    await store.close();
  }
});
