import assert from "node:assert/strict";
import { Ratelimit } from "@upstash/ratelimit";
import { type LimitDecision, storeLimiters } from "../../../src/http/middleware/rate_limit.ts";
import { systemClock } from "../../../src/shared/clock.ts";
import { upstashClient } from "../../../src/shared/upstash_client.ts";
import { MemoryStore } from "../../../src/store/memory/memory.ts";
import { createRedisStore } from "../../../src/store/redis/redis.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { startService } from "../../helpers/service.ts";
import { call, login, simCode, startRig, STORES } from "../login_helpers.ts";

const HOUR = "3600";

function assert429(reply: { status: number; headers: Headers; body: { error: { code: string } } }) {
  assert.equal(reply.status, 429);
  assert.equal(reply.body.error.code, "rate_limited");
  const retryAfter = Number(reply.headers.get("retry-after"));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 3600, `${retryAfter}`);
}

for (const store of STORES) {
  Deno.test(`rate limit (${store}): per openId on uploads; a refused upload changes nothing`, async () => {
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "3",
      RATE_LIMIT_PER_IP: "100",
      RATE_LIMIT_WINDOW_SECONDS: HOUR,
    });
    const url = rig.svc.url;
    try {
      const alice = await login(rig, "alice");
      const bob = await login(rig, "bob");
      for (let i = 0; i < 2; i++) {
        const ok = await call(`${url}/v1/formids`, "POST", { formIds: [`a${i}`] }, alice.token);
        assert.equal(ok.status, 200);
      }
      const sub = await call(`${url}/v1/subscriptions`, "POST", {
        results: { T: "accept" },
      }, alice.token);
      assert.equal(sub.status, 200, "subscriptions count against the same limit");
      const head = await rig.svc.store.head();
      assert429(await call(`${url}/v1/formids`, "POST", { formIds: ["a9"] }, alice.token));
      assert429(
        await call(`${url}/v1/subscriptions`, "POST", { results: { T: "accept" } }, alice.token),
      );
      assert.deepEqual(await rig.svc.store.head(), head);
      const other = await call(`${url}/v1/formids`, "POST", { formIds: ["b0"] }, bob.token);
      assert.equal(other.status, 200, "another user has their own count");
      // Reading one's own view is not an upload: not limited.
      assert.equal((await call(`${url}/v1/me/credits`, "GET", undefined, alice.token)).status, 200);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`rate limit (${store}): per client IP on uploads and logins`, async () => {
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "100",
      RATE_LIMIT_PER_IP: "4",
      RATE_LIMIT_WINDOW_SECONDS: HOUR,
      CLIENT_IP_HEADER: "X-Forwarded-For",
      TRUSTED_PROXIES: "127.0.0.0/8, ::1",
    });
    const url = rig.svc.url;
    const from = (ip: string) => ({ "x-forwarded-for": `10.9.9.9, ${ip}` });
    try {
      const users = [await login(rig, "u1"), await login(rig, "u2"), await login(rig, "u3")];
      for (let i = 0; i < 4; i++) {
        const reply = await call(
          `${url}/v1/formids`,
          "POST",
          { formIds: [`f${i}`] },
          users[i % 2].token,
          from("1.1.1.1"),
        );
        assert.equal(reply.status, 200);
      }
      assert429(
        await call(
          `${url}/v1/formids`,
          "POST",
          { formIds: ["f9"] },
          users[2].token,
          from("1.1.1.1"),
        ),
      );
      const elsewhere = await call(
        `${url}/v1/formids`,
        "POST",
        { formIds: ["f9"] },
        users[2].token,
        from("2.2.2.2"),
      );
      assert.equal(elsewhere.status, 200, "the last forwarded address is the client");

      // Logins have their own per-IP count, apart from uploads.
      const loginFrom = async (ip: string) =>
        call(
          `${url}/v1/sessions`,
          "POST",
          { code: (await simCode(rig.sim, "x")).code },
          null,
          from(ip),
        );
      for (let i = 0; i < 4; i++) assert.equal((await loginFrom("3.3.3.3")).status, 200);
      const before = await (await fetch(`${rig.sim.url}/__sim/stats?brief=1`)).json();
      assert429(await loginFrom("3.3.3.3"));
      const after = await (await fetch(`${rig.sim.url}/__sim/stats?brief=1`)).json();
      assert.equal(after.logins, before.logins, "a refused login never reaches WeChat");
    } finally {
      await rig.close();
    }
  });

  Deno.test(`rate limit (${store}): the window ends and uploads go through again`, async () => {
    const rig = await startRig(store, { RATE_LIMIT_PER_USER: "1", RATE_LIMIT_WINDOW_SECONDS: "1" });
    try {
      const { token } = await login(rig, "alice");
      // Start just after a window begins, so both calls fall in the same one.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      const upload = (id: string) =>
        call(`${rig.svc.url}/v1/formids`, "POST", { formIds: [id] }, token);
      assert.equal((await upload("a")).status, 200);
      const refused = await upload("b");
      assert429(refused);
      assert.equal(refused.headers.get("retry-after"), "1");
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
      assert.equal((await upload("b")).status, 200);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`rate limit (${store}): an upload that collects nothing still counts, once`, async () => {
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "3",
      RATE_LIMIT_PER_IP: "100",
      RATE_LIMIT_WINDOW_SECONDS: HOUR,
    });
    const url = rig.svc.url;
    try {
      const { token } = await login(rig, "alice");
      const post = (body: unknown) => call(`${url}/v1/formids`, "POST", body, token);
      assert.equal((await post({ formIds: "f1" })).status, 400, "refused on its face");
      const nothing = await post({ formIds: [""] });
      assert.equal(nothing.status, 200);
      assert.equal(nothing.body.rejected.length, 1, "nothing to collect");
      const ignored = await call(`${url}/v1/subscriptions`, "POST", {
        results: { T: "reject" },
      }, token);
      assert.equal(ignored.status, 200, "a report that accepts nothing");
      const head = await rig.svc.store.head();
      assert429(await post({ formIds: ["f2"] }));
      // Over the limit, even a request refused on its face is answered 429.
      assert429(await post({ formIds: "f1" }));
      assert.deepEqual(await rig.svc.store.head(), head);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`rate limit (${store}): concurrent uploads in one batch: only those over a limit are refused`, async () => {
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "2",
      RATE_LIMIT_PER_IP: "100",
      RATE_LIMIT_WINDOW_SECONDS: HOUR,
    });
    const url = rig.svc.url;
    try {
      const alice = await login(rig, "alice");
      const bob = await login(rig, "bob");
      const replies = await Promise.all([
        ...[0, 1, 2, 3, 4].map((i) =>
          call(`${url}/v1/formids`, "POST", { formIds: [`a${i}`] }, alice.token)
        ),
        call(`${url}/v1/formids`, "POST", { formIds: ["b0", "b1"] }, bob.token),
      ]);
      const statuses = replies.map((r) => r.status);
      assert.deepEqual(statuses.slice(0, 5).sort(), [200, 200, 429, 429, 429]);
      assert.equal(statuses[5], 200);
      for (const refused of replies.filter((r) => r.status === 429)) assert429(refused);
      const aliceHolds = (await rig.svc.ledger.view(alice.openId)).credits.length;
      assert.equal(aliceHolds, 2, "a refused upload collects nothing");
      assert.equal((await rig.svc.ledger.view(bob.openId)).credits.length, 2);
    } finally {
      await rig.close();
    }
  });
}

Deno.test("rate limit (redis): two service instances share the counts", async () => {
  const env = {
    LEDGER_PREFIX: uniquePrefix("rl2"),
    RATE_LIMIT_PER_USER: "3",
    RATE_LIMIT_PER_IP: "100",
    RATE_LIMIT_WINDOW_SECONDS: HOUR,
  };
  const rig = await startRig("redis", env);
  const other = await startService({ store: "redis", env });
  try {
    const { token } = await login(rig, "alice");
    const post = (base: string, id: string) =>
      call(`${base}/v1/formids`, "POST", { formIds: [id] }, token);
    assert.equal((await post(rig.svc.url, "a0")).status, 200);
    assert.equal((await post(other.url, "a1")).status, 200);
    assert.equal((await post(rig.svc.url, "a2")).status, 200);
    assert429(await post(other.url, "a3"));
    assert429(await post(rig.svc.url, "a4"));
  } finally {
    await other.close();
    await rig.close();
  }
});

/** The bridge's count of billed commands so far. */
async function billed(): Promise<number> {
  const { url, token } = upstashFromEnv();
  const res = await fetch(`${url}/_bridge/commands`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await res.json()).total;
}

Deno.test("rate limit: concurrent checks made alone are one script call, each counted once", async () => {
  const prefix = uniquePrefix("rl");
  const store = createRedisStore({ ...upstashFromEnv(), prefix, segmentEvents: 1000 });
  const make = storeLimiters(store, systemClock);
  const spec = { tokens: 5, windowSeconds: 3600 };
  const [perUser, perIp] = [make({ ...spec, limit: "u" }), make({ ...spec, limit: "ip" })];
  const ids = Array.from({ length: 40 }, (_, i) => `user-${i % 4}`);
  // Load the script first (a NOSCRIPT answer would send the batch again as EVAL).
  await make({ ...spec, limit: "warm" }).limit("warm");
  const before = await billed();
  const realFetch = globalThis.fetch;
  let requests = 0;
  globalThis.fetch = (...args) => (requests++, realFetch(...args));
  let byUser: LimitDecision[], byIp: LimitDecision[];
  try {
    [byUser, byIp] = await Promise.all([
      Promise.all(ids.map((id) => perUser.limit(id))),
      Promise.all(ids.map(() => perIp.limit("10.0.0.1"))),
    ]);
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.equal(requests, 1, "80 checks, one HTTP request");
  assert.equal(await billed() - before, 1, "80 checks, one billed command");
  for (let u = 0; u < 4; u++) {
    const mine = byUser.filter((_, i) => ids[i] === `user-${u}`);
    assert.equal(mine.filter((d) => d.success).length, 5, `user-${u}`);
    assert.deepEqual(
      mine.map((d) => d.remaining).sort((a, b) => b - a),
      [4, 3, 2, 1, 0, 0, 0, 0, 0, 0],
    );
  }
  assert.equal(byIp.filter((d) => d.success).length, 5);
  assert.equal((await perIp.limit("10.0.0.1")).success, false);
  assert.equal((await perIp.limit("10.0.0.2")).success, true);
  await store.close();
});

/** Today's limiter as it was configured before (`@upstash/ratelimit`, fixed window). */
function oldLimiter(prefix: string, tokens: number, windowSeconds: number): Ratelimit {
  return new Ratelimit({
    redis: upstashClient(upstashFromEnv()),
    limiter: Ratelimit.fixedWindow(tokens, `${windowSeconds} s`),
    prefix,
    analytics: false,
    timeout: 0,
  });
}

Deno.test("rate limit: the memory store decides exactly as @upstash/ratelimit on Redis", async () => {
  const spec = { limit: "user", tokens: 3, windowSeconds: 3600 };
  const old = oldLimiter(`${uniquePrefix("rl")}:rl:user`, 3, 3600);
  const limiters: ((id: string) => Promise<LimitDecision>)[] = [
    storeLimiters(new MemoryStore(), systemClock)(spec).limit,
    (id) => old.limit(id),
  ];
  const runs: LimitDecision[][] = [];
  for (const limit of limiters) {
    const decisions: LimitDecision[] = [];
    for (const id of ["a", "a", "b", "a", "a", "b", "b", "b", "a"]) {
      const { success, limit: tokens, remaining, reset } = await limit(id);
      decisions.push({ success, limit: tokens, remaining, reset });
    }
    runs.push(decisions);
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.deepEqual(
    runs[0].map((d) => [d.success, d.remaining]),
    [[true, 2], [true, 1], [true, 2], [true, 0], [false, 0], [true, 1], [true, 0], [false, 0], [
      false,
      0,
    ]],
  );
});
