/**
 * The shared access token: one refresh for many concurrent sends across two instances, an
 * expired token refreshed once, and a failed token dropped only while it is still the cached one.
 */
import assert from "node:assert/strict";
import { RedisKeyValue } from "../../src/coordination/redis.ts";
import { upstashClient } from "../../src/shared/upstash_client.ts";
import { WeChatClient } from "../../src/wechat/client.ts";
import { AccessTokens } from "../../src/wechat/token.ts";
import { uniquePrefix, upstashFromEnv } from "../helpers/rig.ts";
import { simTokenSettings } from "../helpers/token_settings.ts";
import { startWeChatSim } from "../../tools/wechat_sim.ts";

type Sim = Awaited<ReturnType<typeof startWeChatSim>>;

const clients: WeChatClient[] = [];
/** Closes the pooled connections of every client made so far. */
async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.close()));
}

/** One "instance": its own Redis client, token cache and WeChat client, sharing `prefix`. */
function instance(sim: Sim, prefix: string, mode: "classic" | "stable") {
  const redis = upstashClient(upstashFromEnv());
  const tokens = new AccessTokens(
    new RedisKeyValue(redis, prefix),
    simTokenSettings(sim.url, mode),
  );
  const client = new WeChatClient(tokens, { apiBase: sim.url, timeoutMs: 2_000, concurrency: 64 });
  clients.push(client);
  return { tokens, client };
}

async function control(sim: Sim, path: string, body: unknown) {
  const res = await fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return await res.json();
}

const stats = async (sim: Sim) => await (await fetch(`${sim.url}/__sim/stats?brief=1`)).json();

for (const mode of ["classic", "stable"] as const) {
  Deno.test(`token (${mode}): 50 concurrent sends on two instances cause one refresh`, async () => {
    const sim = await startWeChatSim({ latencyMs: 20 });
    try {
      const prefix = uniquePrefix("token");
      const a = instance(sim, prefix, mode);
      const b = instance(sim, prefix, mode);
      await control(sim, "/__sim/grants", { openid: "u1", templateId: "TPL_SUB", count: 100 });
      const send = (i: number) =>
        (i % 2 ? a : b).client.sendSubscribe({
          touser: "u1",
          templateId: "TPL_SUB",
          data: { thing1: { value: `n${i}` } },
        });
      const first = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i)));
      assert.ok(first.every((r) => r.errcode === 0), JSON.stringify(first.find((r) => r.errcode)));
      assert.equal((await stats(sim)).tokens[mode], 1, "one token fetch for 50 sends");
      assert.equal(a.tokens.fetches + b.tokens.fetches, 1);

      // The token expires at WeChat: all 50 get 42001, one instance refreshes, all retry once.
      await control(sim, "/__sim/expire-token", {});
      const second = await Promise.all(Array.from({ length: 50 }, (_, i) => send(i)));
      assert.ok(second.every((r) => r.errcode === 0 && r.calls === 2));
      const s = await stats(sim);
      assert.equal(s.tokens[mode], 2, "exactly one refresh");
      assert.equal(s.rejections["42001"], 50);
      assert.equal(s.sendsAccepted, 100);
    } finally {
      await closeClients();
      await sim.close();
    }
  });
}

Deno.test("token: a failed token is dropped only while it is still the cached one", async () => {
  const sim = await startWeChatSim();
  try {
    const prefix = uniquePrefix("token");
    const a = instance(sim, prefix, "classic");
    const b = instance(sim, prefix, "classic");
    const old = await a.tokens.get();
    assert.equal(await b.tokens.get(), old, "b reads the shared token");
    await a.tokens.expire(old);
    const fresh = await a.tokens.get();
    assert.notEqual(fresh, old);
    // b's copy is stale; its late report of the old token must not evict a's fresh one.
    await b.tokens.expire(old);
    assert.equal(await b.tokens.get(), fresh);
    assert.equal((await stats(sim)).tokens.classic, 2);
  } finally {
    await closeClients();
    await sim.close();
  }
});

Deno.test("token: a persistent token error is retried once, then fails as class token", async () => {
  const sim = await startWeChatSim();
  try {
    const { client, tokens } = instance(sim, uniquePrefix("token"), "stable");
    await control(sim, "/__sim/grants", { openid: "u1", templateId: "TPL_SUB", count: 1 });
    await control(sim, "/__sim/faults", { rate: 1, kinds: ["token_expired"] });
    const result = await client.sendSubscribe({
      touser: "u1",
      templateId: "TPL_SUB",
      data: { thing1: { value: "x" } },
    });
    assert.deepEqual([result.errcode, result.class, result.calls], [42001, "token", 2]);
    assert.equal(tokens.fetches, 2, "one refresh, no loop");
    // A stable token that WeChat still considers valid comes back unchanged.
    assert.equal((await stats(sim)).tokens.stable, 1);
  } finally {
    await closeClients();
    await sim.close();
  }
});
