/**
 * Upstash bills (and rate-limits) per command: a broadcast must cost at most 0.1 Redis commands
 * per delivery, counted as Upstash counts them (every command of a pipeline; a script call is one).
 */
import assert from "node:assert/strict";
import { upstashFromEnv } from "../helpers/rig.ts";
import { ORDER, startPushRig } from "./rig.ts";

Deno.test("broadcast (redis): at most 0.1 Upstash commands per delivery", async () => {
  const rig = await startPushRig("redis", { BROADCAST_CHUNK_USERS: "250" }, 5);
  const bridge = upstashFromEnv().url;
  const realFetch = globalThis.fetch;
  let commands = 0;
  try {
    const users = Array.from({ length: 1_000 }, (_, i) => `c-${i}`);
    await rig.giveMany(users.map((openId) => ({ openId, formId: `f-${openId}` })));
    await rig.service.push!.tokens.get();
    globalThis.fetch = (input, init) => {
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (url.startsWith(bridge) && typeof init?.body === "string") {
        const body = JSON.parse(init.body);
        commands += url.endsWith("/pipeline") || url.endsWith("/multi-exec") ? body.length : 1;
      }
      return realFetch(input, init);
    };
    const created = await rig.call("/v1/broadcasts", ORDER);
    const { broadcastId } = await created.json();
    await rig.service.push!.worker.step();
    const status = await rig.service.push!.broadcasts.status(broadcastId);
    globalThis.fetch = realFetch;
    assert.equal(status?.sent, 1_000);
    assert.ok(commands > 0, "the counter sees the store's requests");
    assert.ok(commands / 1_000 <= 0.1, `${commands} commands for 1,000 deliveries`);
  } finally {
    globalThis.fetch = realFetch;
    await rig.close();
  }
});
