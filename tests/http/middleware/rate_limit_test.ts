import assert from "node:assert/strict";
import {
  type LimitDecision,
  memoryLimiter,
  type RateLimiter,
  redisLimiters,
} from "../../../src/http/middleware/rate_limit.ts";
import { upstashClient } from "../../../src/shared/upstash_client.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
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
}

Deno.test("rate limit: concurrent checks (one pipelined request) are each counted once", async () => {
  const spec = { prefix: uniquePrefix("rl"), tokens: 5, windowSeconds: 3600 };
  const make = redisLimiters(upstashClient(upstashFromEnv()));
  const [perUser, perIp] = [make({ ...spec, prefix: `${spec.prefix}:u` }), make(spec)];
  const ids = Array.from({ length: 40 }, (_, i) => `user-${i % 4}`);
  // Load the script first (a NOSCRIPT answer would send the batch again as EVAL).
  await make({ ...spec, prefix: `${spec.prefix}:warm` }).limit("warm");
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
});

Deno.test("rate limit: the memory limiter decides exactly as @upstash/ratelimit on Redis", async () => {
  const spec = { prefix: uniquePrefix("rl"), tokens: 3, windowSeconds: 3600 };
  const limiters: RateLimiter[] = [
    memoryLimiter(spec),
    redisLimiters(upstashClient(upstashFromEnv()))(spec),
  ];
  const runs: LimitDecision[][] = [];
  for (const limiter of limiters) {
    const decisions: LimitDecision[] = [];
    for (const id of ["a", "a", "b", "a", "a", "b", "b", "b", "a"]) {
      decisions.push(await limiter.limit(id));
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
