/**
 * Broadcasts against the simulator over HTTP: 5,000 users with 10% injected transient faults
 * worked by two instances reach every user who had a credit exactly once; quota stops a
 * broadcast with every credit returned; named audiences count users without credits.
 */
import assert from "node:assert/strict";
import { startService } from "../helpers/service.ts";
import {
  auditCredits,
  type Json,
  ORDER,
  type PushRig,
  readLog,
  SIM_ENV,
  startPushRig,
} from "./rig.ts";

async function waitForEnd(rig: PushRig, id: string, timeoutMs = 120_000): Promise<Json> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await rig.call(`/v1/broadcasts/${id}`);
    const status = await res.json() as Json;
    if (status.state !== "running") return status;
    if (Date.now() > deadline) {
      throw new Error(`broadcast still running: ${JSON.stringify(status)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function create(rig: PushRig, body: Json): Promise<string> {
  const res = await rig.call("/v1/broadcasts", body);
  assert.equal(res.status, 202);
  return (await res.json()).broadcastId as string;
}

Deno.test("broadcast (redis): 5,000 users, 10% transient faults, two instances: each user reached exactly once", async () => {
  const env = { PUSH_MAX_ATTEMPTS: "8", BROADCAST_CHUNK_USERS: "200", WORKER_POLL_MS: "50" };
  const rig = await startPushRig("redis", env, 2);
  const second = await startService({
    store: "redis",
    env: {
      ...SIM_ENV,
      ...env,
      WECHAT_API_BASE: rig.sim.url,
      PUSH_RETRY_BASE_MS: "5",
      LEDGER_PREFIX: rig.service.config.prefix,
    },
  });
  try {
    const users = Array.from({ length: 5_000 }, (_, i) => `user-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.simControl("/__sim/faults", {
      rate: 0.1,
      kinds: ["busy", "freq", "http500"],
      seed: 3,
    });
    const id = await create(rig, ORDER);
    rig.service.push!.worker.start();
    second.push!.worker.start();
    const status = await waitForEnd(rig, id);
    assert.deepEqual(
      [status.state, status.total, status.sent, status.failed, status.noCredit, status.pending],
      ["done", 5_000, 5_000, 0, 0, 0],
    );
    assert.deepEqual(status.errors, {});
    const stats = await rig.stats();
    assert.equal(stats.sendsAccepted, 5_000);
    for (const openId of users) {
      assert.deepEqual(stats.sends[openId], { [`f-${openId}`]: 1 }, openId);
    }
    const faults = Object.values(stats.faults).reduce((a, b) => a + b, 0);
    assert.ok(faults > 300, `faults were injected (${faults})`);
    const log = await readLog(rig.service.store);
    const { unsettled, fates } = auditCredits(log);
    assert.deepEqual(unsettled, []);
    assert.equal(fates.sent, 5_000);
    assert.equal(fates.released, faults, "every faulted attempt returned its credit");
    assert.ok(
      log.filter((e) => e.type === "PushSucceeded").every((e) =>
        (e.data as Json).broadcastId === id
      ),
    );
  } finally {
    await second.push?.worker.stop();
    await second.close();
    await rig.close();
  }
});

Deno.test("broadcast (redis): quota (45009) stops it, says so, and returns every credit", async () => {
  const rig = await startPushRig("redis", {
    BROADCAST_CHUNK_USERS: "10",
    WORKER_CHUNKS_IN_FLIGHT: "1",
  });
  try {
    const users = Array.from({ length: 50 }, (_, i) => `q-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.simControl("/__sim/faults", { rate: 1, kinds: ["quota"] });
    const id = await create(rig, { ...ORDER, openIds: users });
    await rig.service.push!.worker.step();
    const status = await waitForEnd(rig, id);
    assert.equal(status.state, "stopped");
    assert.equal(status.reason, "quota");
    assert.equal(status.failed, 10, "the first chunk hit the quota");
    assert.deepEqual(status.errors, { "45009": 10 });
    assert.equal(status.pending, 40);
    for (const openId of users) {
      assert.equal((await rig.service.ledger.view(openId)).valid, 1, `${openId} keeps its credit`);
    }
    assert.equal((await rig.stats()).sendsAccepted, 0);
  } finally {
    await rig.close();
  }
});

for (const store of ["redis", "memory"] as const) {
  Deno.test(`broadcast (${store}): named users, duplicates, no credit, spent and subscribe credits`, async () => {
    const rig = await startPushRig(store, { BROADCAST_CHUNK_USERS: "3" });
    try {
      await rig.give("a", "f-a");
      await rig.give("b", "s-b", "subscribe", "TPL_SUB");
      await rig.service.ledger.collect("c", [{ formId: "f-c-bogus", kind: "form" }]);
      await rig.simControl("/__sim/users", { openid: "c" });
      await rig.give("d", "f-d-1");
      await rig.give("d", "f-d-2");
      const id = await create(rig, {
        templateId: "TPL_SUB",
        data: { thing1: { value: "sale" } },
        openIds: ["a", "b", "c", "d", "e", "a", "d"],
      });
      await rig.service.push!.worker.step();
      const status = await waitForEnd(rig, id);
      assert.deepEqual(
        [status.state, status.total, status.sent, status.failed, status.noCredit, status.pending],
        ["done", 5, 3, 1, 1, 0],
      );
      assert.deepEqual(status.errors, { "41028": 1 });
      const stats = await rig.stats();
      assert.deepEqual(stats.sends.a, { "f-a": 1 });
      assert.deepEqual(stats.sends.b, { "grant:TPL_SUB": 1 });
      assert.deepEqual(stats.sends.d, { "f-d-1": 1 }, "one message per user per broadcast");
      assert.equal((await rig.service.ledger.view("d")).valid, 1);
      assert.deepEqual(auditCredits(await readLog(rig.service.store)).unsettled, []);
      const audited = await fetch(`${rig.service.url}/v1/broadcasts/${id}`, {
        headers: { authorization: `Bearer ${rig.service.config.auditToken}` },
      });
      assert.equal(audited.status, 200, "auditors may read progress");
      assert.equal((await audited.json()).sent, 3);
      const forged = await fetch(`${rig.service.url}/v1/broadcasts`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${rig.service.config.auditToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(ORDER),
      });
      assert.equal(forged.status, 403, "auditors may not broadcast");
      await forged.body?.cancel();
      const missing = await rig.call("/v1/broadcasts/bnope");
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error.code, "not_found");
    } finally {
      await rig.close();
    }
  });
}

Deno.test("broadcast (memory): 500 users with 10% faults, exactly once", async () => {
  const rig = await startPushRig("memory", { PUSH_MAX_ATTEMPTS: "8", BROADCAST_CHUNK_USERS: "50" });
  try {
    const users = Array.from({ length: 500 }, (_, i) => `m-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.simControl("/__sim/faults", { rate: 0.1, kinds: ["busy", "http500"], seed: 5 });
    const id = await create(rig, ORDER);
    await rig.service.push!.worker.step();
    const status = await waitForEnd(rig, id);
    assert.deepEqual([status.state, status.sent, status.pending], ["done", 500, 0]);
    const stats = await rig.stats();
    assert.equal(stats.sendsAccepted, 500);
    assert.ok(users.every((u) => stats.sends[u]?.[`f-${u}`] === 1));
  } finally {
    await rig.close();
  }
});

Deno.test("broadcast (redis): a chunk slower than the reclaim time stays with its live worker", async () => {
  const env = {
    BROADCAST_RECLAIM_MS: "600",
    WECHAT_TIMEOUT_MS: "500",
    PUSH_RETRY_BASE_MS: "200",
    PUSH_MAX_ATTEMPTS: "10",
    BROADCAST_CHUNK_USERS: "20",
    WORKER_CHUNKS_IN_FLIGHT: "1",
  };
  const rig = await startPushRig("redis", env, 150);
  const second = await startService({
    store: "redis",
    env: {
      ...SIM_ENV,
      ...env,
      WECHAT_API_BASE: rig.sim.url,
      LEDGER_PREFIX: rig.service.config.prefix,
    },
  });
  try {
    const users = Array.from({ length: 40 }, (_, i) => `slow-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.simControl("/__sim/faults", { rate: 0.5, kinds: ["busy"], seed: 11 });
    const id = await create(rig, ORDER);
    const started = Date.now();
    await Promise.all([rig.service.push!.worker.step(), second.push!.worker.step()]);
    assert.ok(Date.now() - started > 1_200, "chunks took longer than the reclaim time");
    const status = await waitForEnd(rig, id);
    assert.deepEqual([status.state, status.sent, status.failed], ["done", 40, 0]);
    const stats = await rig.stats();
    assert.ok(users.every((u) => stats.sends[u]?.[`f-${u}`] === 1));
  } finally {
    await second.close();
    await rig.close();
  }
});

Deno.test("broadcast (memory): a step with a passed deadline takes no work (the cron path)", async () => {
  const rig = await startPushRig("memory", {
    BROADCAST_CHUNK_USERS: "5",
    WORKER_CHUNKS_IN_FLIGHT: "1",
  });
  try {
    const users = Array.from({ length: 20 }, (_, i) => `cron-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    const id = await create(rig, ORDER);
    const worker = rig.service.push!.worker;
    assert.deepEqual(await worker.step(Date.now() - 1), { chunks: 0, deliveries: 0 });
    assert.equal((await (await rig.call(`/v1/broadcasts/${id}`)).json()).pending, 20);
    assert.deepEqual(await worker.step(Date.now() + 50_000), { chunks: 4, deliveries: 20 });
    assert.equal((await waitForEnd(rig, id)).state, "done");
  } finally {
    await rig.close();
  }
});
