/**
 * Two real instances (main.ts) work one broadcast of 2,000 users; one is killed with SIGKILL
 * early, in the middle, or late. The other finishes it. Every user who held a credit gets exactly
 * one message, except the deliveries the dead instance had in flight, at most its
 * WECHAT_CONCURRENCY (no credit is taken ahead of a call), which end `unknown` (PushFailed -1004, or a timeout); nobody gets two; the
 * log and the simulator agree user by user. The instance killed holds 400 users' chunks (100
 * users, 4 in flight) and sends 8 at a time: what is lost is bounded by the calls, not the chunks.
 */
import assert from "node:assert/strict";
import { auditCredits, type Json, ORDER, readLog, startPushRig } from "./rig.ts";
import { type Instance, startInstance, until } from "./instances.ts";

const USERS = 2_000;
const CONCURRENCY = 8;
const INSTANCE_ENV = {
  WORKER_ENABLED: "on",
  WECHAT_CONCURRENCY: String(CONCURRENCY),
  WECHAT_TIMEOUT_MS: "1000",
  BROADCAST_RECLAIM_MS: "1500",
  BROADCAST_CHUNK_USERS: "100",
  WORKER_CHUNKS_IN_FLIGHT: "4",
};

for (const [point, killAt] of [["early", 400], ["middle", 1_000], ["late", 1_700]] as const) {
  Deno.test(`broadcast (redis): one of two instances killed ${point} (${killAt} sent): each user once, only in-flight sends unknown`, async () => {
    const rig = await startPushRig("redis", {}, 25);
    const instances: Instance[] = [];
    try {
      const users = Array.from({ length: USERS }, (_, i) => `c${point[0]}-${i}`);
      await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
      // The first instance gets going (and holds chunks) before the second joins.
      instances.push(await startInstance(rig, INSTANCE_ENV));
      const created = await rig.call("/v1/broadcasts", ORDER);
      const { broadcastId } = await created.json();
      await until(async () => (await rig.stats()).sendsAccepted > 0, 30_000, "the first sends");
      instances.push(await startInstance(rig, INSTANCE_ENV));
      await until(async () => (await rig.stats()).sendsAccepted >= killAt, 30_000, "sends");
      await instances[0].kill();
      const atKill = (await rig.stats()).sendsAccepted;
      assert.ok(atKill < USERS, `killed mid-broadcast (${atKill} sent)`);

      let status: Json = {};
      await until(
        async () => {
          status = await (await rig.call(`/v1/broadcasts/${broadcastId}`)).json();
          return status.state === "done";
        },
        30_000,
        "the broadcast to finish",
      );
      assert.equal(status.pending, 0);
      const errors = status.errors as Record<string, number>;
      const unknown = (errors["-1004"] ?? 0) + (errors["-1001"] ?? 0);
      assert.equal(status.sent as number + unknown, USERS, JSON.stringify(status));
      // One slot per call, held from the take to the recorded outcome: at most the concurrency.
      assert.ok(unknown <= CONCURRENCY, `${unknown} unknown: more than the calls bound`);

      // User by user: the log's fate and the simulator's count agree.
      const stats = await rig.stats();
      const log = await readLog(rig.service.store);
      const fate = new Map<string, string>();
      for (const e of log) {
        const d = e.data as Json;
        if (e.type === "PushSucceeded") fate.set(d.openId as string, "sent");
        if (e.type === "PushFailed") fate.set(d.openId as string, `failed:${d.class}`);
      }
      for (const openId of users) {
        const got = Object.values(stats.sends[openId] ?? {}).reduce((a, b) => a + b, 0);
        const f = fate.get(openId);
        if (f === "sent") assert.equal(got, 1, `${openId}: logged sent, got ${got}`);
        else {
          assert.equal(f, "failed:unknown", `${openId}: ${f}`);
          assert.ok(got <= 1, `${openId} got ${got} messages`);
        }
      }
      const { unsettled, fates } = auditCredits(log);
      assert.deepEqual(unsettled, [], "every credit taken has an outcome in the log");
      assert.equal(fates.sent, status.sent);
    } finally {
      for (const i of instances) await i.kill();
      await rig.close();
    }
  });
}
