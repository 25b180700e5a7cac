/**
 * A worker killed mid-broadcast: a real service process (main.ts) works a broadcast and is
 * SIGKILLed while chunks are in flight; a second instance reclaims its chunks (XAUTOCLAIM) and
 * finishes. No user gets two messages, and the log still accounts for every credit: the
 * deliveries the dead worker had taken are recorded as failed with class unknown (they may or
 * may not have reached WeChat), never sent again.
 */
import assert from "node:assert/strict";
import { upstashFromEnv } from "../helpers/rig.ts";
import { auditCredits, type Json, ORDER, readLog, SIM_ENV, startPushRig } from "./rig.ts";

Deno.test("broadcast (redis): a worker killed mid-broadcast; a second instance finishes it, no duplicates", async () => {
  const rig = await startPushRig(
    "redis",
    { BROADCAST_RECLAIM_MS: "2500", WORKER_POLL_MS: "50" },
    40,
  );
  let child: Deno.ChildProcess | null = null;
  try {
    const users = Array.from({ length: 2_000 }, (_, i) => `k-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    const created = await rig.call("/v1/broadcasts", ORDER);
    const { broadcastId } = await created.json();

    const { url, token } = upstashFromEnv();
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
      env: {
        ...SIM_ENV,
        PORT: "0",
        UPSTASH_REDIS_REST_URL: url,
        UPSTASH_REDIS_REST_TOKEN: token,
        LEDGER_PREFIX: rig.service.config.prefix,
        WECHAT_API_BASE: rig.sim.url,
        WORKER_ENABLED: "on",
        WORKER_POLL_MS: "50",
        BROADCAST_CHUNK_USERS: "100",
        WORKER_CHUNKS_IN_FLIGHT: "4",
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Let it deliver part of the broadcast, then kill it without warning.
    const deadline = Date.now() + 60_000;
    while ((await rig.stats()).sendsAccepted < 500) {
      if (Date.now() > deadline) throw new Error("the first worker never got going");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await child.status;
    child = null;
    const acceptedAtKill = (await rig.stats()).sendsAccepted;
    assert.ok(acceptedAtKill < 2_000, "killed mid-broadcast");

    rig.service.push!.worker.start();
    let status: Json = {};
    for (const end = Date.now() + 60_000; Date.now() < end;) {
      status = await (await rig.call(`/v1/broadcasts/${broadcastId}`)).json();
      if (status.state === "done") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status.state, "done", JSON.stringify(status));
    assert.equal(status.total, 2_000);
    assert.equal(status.pending, 0);
    const lost = (status.errors as Record<string, number>)["-1004"] ?? 0;
    assert.equal(status.sent as number + lost, 2_000, JSON.stringify(status));
    assert.ok(lost > 0, "the killed worker had deliveries in flight");

    const stats = await rig.stats();
    for (const openId of users) {
      const sends = Object.values(stats.sends[openId] ?? {}).reduce((a, b) => a + b, 0);
      assert.ok(sends <= 1, `${openId} got ${sends} messages`);
    }
    // Lost deliveries may have reached WeChat before the kill: never more than were lost.
    assert.ok(stats.sendsAccepted >= (status.sent as number));
    assert.ok(stats.sendsAccepted <= (status.sent as number) + lost);

    const log = await readLog(rig.service.store);
    const { unsettled, fates } = auditCredits(log);
    assert.deepEqual(unsettled, [], "every credit taken has an outcome in the log");
    assert.equal(fates.sent, status.sent);
    assert.equal(fates["failed:unknown"], lost);
  } finally {
    if (child) {
      child.kill("SIGKILL");
      await child.status;
    }
    await rig.close();
  }
});
