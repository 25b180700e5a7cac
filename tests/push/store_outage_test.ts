/**
 * The store goes away under load and comes back. The Upstash REST endpoint (the bridge process)
 * is killed for 3 s under concurrent pushes, then started again: pushes answer 200 (what WeChat
 * said) or 503 (refused before taking a credit), never 500; every message the simulator
 * accepted has its PushSucceeded in the log within seconds of the recovery (the outbox wrote
 * what could not be written); no credit is spent twice. Then redis-server itself is paused
 * (SIGSTOP) for 3 s under concurrent uploads and pushes: no 500, and once it resumes no credit
 * is lost or counted twice.
 */
import assert from "node:assert/strict";
import { issueSession } from "../../src/http/middleware/session_token.ts";
import { systemClock } from "../../src/shared/clock.ts";
import { TEST_ENV } from "../helpers/service.ts";
import { auditCredits, type Json, ORDER, type PushRig, readLog, startPushRig } from "./rig.ts";
import { startOutageRig } from "./outage_rig.ts";
import { until } from "./instances.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Pushes to each user once with `width` callers; returns each answer's status and body. */
async function pushAll(rig: PushRig, users: string[], width: number, each?: () => Promise<void>) {
  const answers = new Map<string, { status: number; body: Json }>();
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < users.length) {
      const openId = users[next++];
      const res = await rig.call("/v1/push", { openId, ...ORDER });
      answers.set(openId, { status: res.status, body: await res.json() });
      if (res.status === 503) assert.ok(Number(res.headers.get("retry-after")) > 0);
      await each?.();
    }
  }));
  return answers;
}

function sendsOf(stats: { sends: Record<string, Record<string, number>> }, openId: string) {
  return Object.values(stats.sends[openId] ?? {}).reduce((a, b) => a + b, 0);
}

Deno.test("push (redis): the REST endpoint stopped 3 s under concurrent pushes: nothing accepted goes missing from the log", async () => {
  const outage = await startOutageRig();
  const rig = await startPushRig("redis", {
    UPSTASH_REDIS_REST_URL: outage.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: outage.upstash.token,
  }, 200);
  try {
    const users = Array.from({ length: 400 }, (_, i) => `s-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.service.push!.tokens.get();
    let answered = 0;
    let cut: Promise<void> | null = null;
    let held = 0; // most outcomes seen waiting in the outbox
    const answers = await pushAll(rig, users, 24, async () => {
      held = Math.max(held, (await (await rig.call("/healthz")).json()).outcomesWaiting);
      if (++answered !== 80) return;
      cut = (async () => {
        await outage.stopBridge();
        await sleep(3_000);
        await outage.startBridge();
      })();
    });
    await cut;
    for (const { status, body } of answers.values()) {
      // A push either was refused (503) or says what WeChat answered.
      if (status === 200 && body.status !== "sent") assert.equal(typeof body.errcode, "number");
    }
    const statuses = new Set([...answers.values()].map((a) => a.status));
    assert.ok(!statuses.has(500), `statuses: ${[...statuses]}`);
    assert.ok(statuses.has(503), "pushes during the outage were refused");
    assert.ok(held > 0, "outcomes WeChat answered during the outage waited in the outbox");
    // Within seconds of the recovery the outbox is empty...
    const health = async () => await (await rig.call("/healthz")).json();
    await until(async () => (await health()).outcomesWaiting === 0, 10_000, "the outbox");
    // ... and every message WeChat accepted is in the log as sent.
    const stats = await rig.stats();
    const log = await readLog(rig.service.store);
    const sent = new Map<string, number>();
    const consumed = new Map<string, number>();
    for (const e of log) {
      const d = e.data as Json;
      const id = d.openId as string;
      if (e.type === "PushSucceeded") sent.set(id, (sent.get(id) ?? 0) + 1);
      if (e.type === "FormIdConsumed") consumed.set(id, (consumed.get(id) ?? 0) + 1);
      if (e.type === "FormIdReleased") consumed.set(id, consumed.get(id)! - 1);
    }
    let accepted = 0;
    for (const openId of users) {
      const got = sendsOf(stats, openId);
      accepted += got;
      assert.ok(got <= 1, `${openId} got ${got}`);
      assert.equal(sent.get(openId) ?? 0, got, `${openId}: WeChat accepted ${got}, log says`);
      assert.ok((consumed.get(openId) ?? 0) <= 1, `${openId}'s credit spent twice`);
      if (answers.get(openId)!.status === 200 && answers.get(openId)!.body.status === "sent") {
        assert.equal(got, 1);
      }
    }
    assert.ok(accepted > 80, `${accepted} accepted`);
    // A take whose answer the dying endpoint cut is the only way a credit is left taken
    // without an outcome: never more than the pushes in flight at that instant.
    const { unsettled } = auditCredits(log);
    assert.ok(unsettled.length <= 24, `${unsettled.length} credits left taken`);
  } finally {
    await rig.close();
    await outage.close();
  }
});

Deno.test("uploads and pushes (redis): redis-server paused 3 s: no 500, no credit lost or counted twice", async () => {
  const outage = await startOutageRig();
  const rig = await startPushRig("redis", {
    UPSTASH_REDIS_REST_URL: outage.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: outage.upstash.token,
  }, 20);
  try {
    const pushed = Array.from({ length: 150 }, (_, i) => `q-${i}`);
    await rig.giveMany(pushed.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.service.push!.tokens.get();
    const uploaders = Array.from({ length: 40 }, (_, i) => `up-${i}`);
    const statuses: number[] = [];
    const upload = async (openId: string) => {
      const { token } = await issueSession(openId, TEST_ENV.SESSION_SECRET, 600, systemClock);
      const formIds = Array.from({ length: 5 }, (_, k) => `${openId}-form-${k}`);
      for (;;) { // as the client does: a 503 keeps the formIds and sends them again
        const res = await fetch(`${rig.service.url}/v1/formids`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ formIds }),
        });
        statuses.push(res.status);
        await res.body?.cancel();
        if (res.status !== 503) return;
        await sleep(200);
      }
    };
    const paused = (async () => {
      await sleep(150);
      outage.pauseRedis();
      await sleep(3_000);
      outage.resumeRedis();
    })();
    const [answers] = await Promise.all([
      pushAll(rig, pushed, 10, () => sleep(10)),
      (async () => {
        for (const u of uploaders) {
          await upload(u);
          await sleep(50);
        }
      })(),
      paused,
    ]);
    const all = [...statuses, ...[...answers.values()].map((a) => a.status)];
    assert.ok(!all.includes(500), `statuses: ${[...new Set(all)]}`);
    for (const u of uploaders) {
      const view = await rig.service.ledger.view(u);
      assert.equal(view.valid, 5, `${u} holds ${view.valid} credits`);
    }
    const health = async () => await (await rig.call("/healthz")).json();
    await until(async () => (await health()).outcomesWaiting === 0, 10_000, "the outbox");
    const stats = await rig.stats();
    const log = await readLog(rig.service.store);
    const { unsettled, fates } = auditCredits(log);
    assert.deepEqual(unsettled, []);
    let accepted = 0;
    for (const openId of pushed) {
      const got = sendsOf(stats, openId);
      assert.ok(got <= 1, `${openId} got ${got}`);
      accepted += got;
    }
    assert.equal(fates.sent ?? 0, accepted, "the log's sends are the simulator's");
  } finally {
    outage.resumeRedis();
    await rig.close();
    await outage.close();
  }
});
