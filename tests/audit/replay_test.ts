/**
 * The replay report's numbers equal what the test put in, on both stores; the rebuilt
 * projection equals the live one, and a live projection changed behind the log's back is found.
 */
import assert from "node:assert/strict";
import { auditStore } from "../../src/audit/audit.ts";
import { Replay } from "../../src/audit/replay.ts";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import type { LedgerEvent, StoredEvent } from "../../src/ledger/events.ts";
import { MemoryStore } from "../../src/store/memory/memory.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { DAY, HOUR, T0, tamperRig } from "./fixture.ts";
import { append, consume, release } from "../helpers/store_calls.ts";

const soon = T0 + HOUR;
const later = T0 + DAY;
const f = (formId: string, expiresAt: number): Credit => ({
  formId,
  kind: "form",
  uses: 1,
  expiresAt,
});
const p = (formId: string): Credit => ({ formId, kind: "prepay", uses: 3, expiresAt: later });
const s = (formId: string, templateId: string): Credit => ({
  formId,
  kind: "subscribe",
  templateId,
  uses: 1,
  expiresAt: null,
});

/**
 * Collected: form 5 (f1, f3, f5 expire in an hour), prepay 2 (3 uses each), subscribe 3.
 * Consumed: form f1 f2 f3, prepay p1 p1 p2, subscribe s1 s3. Released: one use of p2.
 * Pushes: 5 sent; failed 2 x 45009 and 1 x -1.
 */
async function putIn(store: LedgerStore): Promise<void> {
  await store.collect("alice", [f("f1", soon), f("f2", later), p("p1")], T0);
  await store.collect("bob", [f("f3", soon), p("p2"), s("s1", "TPL_A")], T0);
  await store.collect("carol", [s("s2", "TPL_A"), s("s3", "TPL_B"), f("f4", later)], T0);
  await store.collect("carol", [f("f5", soon)], T0);
  const t = T0 + 10 * 60_000;
  const taken: (string | undefined)[] = [];
  const take = async (openId: string, templateId?: string, kinds?: Credit["kind"][]) =>
    taken.push(
      (await consume(store, openId, { templateId, kinds, pushId: `p${taken.length}` }, t))
        ?.formId,
    );
  await take("alice");
  await take("alice");
  await take("alice");
  await take("alice");
  await take("bob", "TPL_A");
  await take("bob", "TPL_A");
  await take("bob", "TPL_A", ["subscribe"]);
  await take("carol", "TPL_B", ["subscribe"]);
  assert.deepEqual(taken, ["f1", "f2", "p1", "p1", "f3", "p2", "s1", "s3"]);
  const p2 = { formId: "p2", kind: "prepay" as const, uses: 2, expiresAt: later };
  await release(store, "bob", { credit: p2, pushId: "p5" }, t);
  const pushes: LedgerEvent[] = [];
  for (const pushId of ["p0", "p1", "p2", "p3", "p4"]) {
    pushes.push({
      type: "PushSucceeded",
      data: { pushId, openId: "alice", formId: "f1", templateId: "T" },
    });
  }
  for (const errcode of [45009, -1, 45009]) {
    pushes.push({
      type: "PushFailed",
      data: { pushId: "p5", openId: "bob", errcode, errmsg: "x", class: "transient" },
    });
  }
  await append(store, pushes, t);
}

function stores(): [string, () => Promise<{ store: LedgerStore; close(): Promise<void> }>][] {
  return [
    ["memory", () => {
      const store = new MemoryStore();
      return Promise.resolve({ store, close: () => store.close() });
    }],
    ["redis", () => {
      const rig = tamperRig(7);
      return Promise.resolve({ store: rig.store, close: () => rig.close() });
    }],
  ];
}

for (const [name, open] of stores()) {
  Deno.test(`${name}: the replay report counts exactly what was put in`, async () => {
    const { store, close } = await open();
    try {
      await putIn(store);
      const now = T0 + 2 * HOUR;
      const { verify, report, comparison } = await auditStore(store, { replay: true, now });
      assert.equal(verify.ok, true);
      assert.deepEqual(report!.events, {
        total: 27,
        byType: {
          FormIdCollected: 10,
          FormIdConsumed: 8,
          FormIdReleased: 1,
          PushSucceeded: 5,
          PushFailed: 3,
        },
      });
      assert.deepEqual(report!.credits, {
        form: {
          collected: { credits: 5, uses: 5 },
          consumed: 3,
          released: 0,
          expired: { credits: 1, uses: 1 }, // f5 (f1 and f3 expired spent)
          outstanding: { credits: 1, uses: 1 }, // f4
        },
        prepay: {
          collected: { credits: 2, uses: 6 },
          consumed: 3,
          released: 1,
          expired: { credits: 0, uses: 0 },
          outstanding: { credits: 2, uses: 4 }, // p1 with 1, p2 with 3
        },
        subscribe: {
          collected: { credits: 3, uses: 3 },
          consumed: 2,
          released: 0,
          expired: { credits: 0, uses: 0 },
          outstanding: { credits: 1, uses: 1 }, // s2
        },
      });
      assert.deepEqual(report!.pushes, {
        sent: 5,
        failed: 3,
        failedByErrcode: { "45009": 2, "-1": 1 },
      });
      assert.equal(report!.users, 3);
      assert.deepEqual(report!.anomalies, { count: 0, samples: [] });
      assert.deepEqual(
        { users: comparison?.users, mismatches: comparison?.mismatches },
        { users: 3, mismatches: 0 },
      );

      // Days later the log's own clock has moved on: expired credits leave the fold (pruned)
      // and are counted as expired, with the same totals.
      await append(store, [{
        type: "PushSucceeded",
        data: { pushId: "late", openId: "carol", formId: "s2", templateId: "TPL_A" },
      }], T0 + 3 * DAY);
      const days = await auditStore(store, { replay: true, now: T0 + 3 * DAY });
      assert.deepEqual(days.report!.credits.form.expired, { credits: 2, uses: 2 });
      assert.deepEqual(days.report!.credits.prepay.expired, { credits: 2, uses: 4 });
      assert.deepEqual(days.report!.credits.prepay.outstanding, { credits: 0, uses: 0 });
      assert.deepEqual(days.report!.credits.subscribe.outstanding, { credits: 1, uses: 1 });
      assert.equal(days.report!.users, 1);
      assert.equal(days.comparison?.mismatches, 0);
    } finally {
      await close();
    }
  });
}

Deno.test("redis: a live projection changed behind the log's back is a mismatch", async () => {
  const rig = tamperRig(100);
  try {
    await putIn(rig.store);
    const now = T0 + 2 * HOUR;
    // Credits appear from nowhere: one more use on alice's prepay, a user the log never saw.
    await rig.raw.hset(`${rig.prefix}:p0:u:alice`, "p1", `${later}|3|p|`);
    await rig.raw.hset(`${rig.prefix}:p0:u:mallory`, "free", `${later}|1|f|`);
    await rig.raw.zadd(`${rig.prefix}:p0:users`, later, "mallory");
    // And bob's credits vanish.
    await rig.raw.del(`${rig.prefix}:p0:u:bob`);
    const { verify, comparison } = await auditStore(rig.store, { replay: true, now });
    assert.equal(verify.ok, true, "the log itself is intact");
    assert.equal(comparison?.mismatches, 3);
    const byUser = new Map(comparison!.samples.map((m) => [m.openId, m]));
    assert.deepEqual([...byUser.keys()].sort(), ["alice", "bob", "mallory"]);
    assert.equal(byUser.get("alice")!.rebuilt.sends, 1);
    assert.equal(byUser.get("alice")!.live.sends, 3);
    assert.equal(byUser.get("mallory")!.rebuilt.valid, 0);
    assert.equal(byUser.get("bob")!.live.valid, 0);
    assert.equal(byUser.get("bob")!.rebuilt.sends, 3);
  } finally {
    await rig.close();
  }
});

Deno.test("events appended during a comparison leave their users out, not mismatched", async () => {
  const rig = tamperRig(100);
  try {
    await putIn(rig.store);
    const now = T0 + 2 * HOUR;
    // A store whose projection listing races a collect for carol.
    const racing = {
      readEvents: rig.store.readEvents.bind(rig.store),
      head: rig.store.head.bind(rig.store),
      async projectionPage(cursor: string, count: number, at: number) {
        const page = await rig.store.projectionPage(cursor, count, at);
        await rig.store.collect("carol", [f(`race${cursor}`, later)], now);
        return page;
      },
    };
    const { verify, comparison, report } = await auditStore(racing, { replay: true, now });
    assert.equal(verify.ok, true);
    assert.equal(verify.through.seq, 28, "the appended event is verified too");
    assert.equal(comparison?.mismatches, 0);
    assert.equal(comparison?.skipped, 1);
    assert.equal(report!.events.total, 28);
  } finally {
    await rig.close();
  }
});

Deno.test("a collected or released credit of no known kind is an anomaly, not a held credit", () => {
  const replay = new Replay();
  const event = (seq: number, type: string, data: Record<string, unknown>) =>
    ({
      seq,
      id: `${seq}-0`,
      type,
      at: new Date(T0).toISOString(),
      data,
      prev: "",
      hash: "",
    }) as unknown as StoredEvent;
  const credit = { openId: "o1", formId: "f1", uses: 1, expiresAt: later };
  replay.apply(event(1, "FormIdCollected", { ...credit, kind: "constructor" }));
  replay.apply(event(2, "FormIdReleased", { ...credit, kind: "toString" }));
  replay.apply(event(3, "FormIdCollected", { openId: "x" }));
  const report = replay.report(T0);
  assert.equal(report.anomalies.count, 3);
  assert.match(report.anomalies.samples[0], /seq 1: unknown credit kind constructor/);
  assert.equal(report.users, 0);
  assert.equal(replay.state.size, 0);
  assert.deepEqual(report.events.byType, { FormIdCollected: 2, FormIdReleased: 1 });
});
