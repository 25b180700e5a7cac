/**
 * Upstash bills (and caps) per command: an upload of 5 formIds must cost at most 0.1 billed
 * commands at 64 concurrent uploads, its two rate limits included, counted by the bridge as
 * Upstash counts them (every command of a pipeline; a failed EVALSHA and its EVAL are two). A
 * subscription report's limits are counted in its answer's script call: no command of their own.
 */
import assert from "node:assert/strict";
import { issueSession } from "../../src/http/middleware/session_token.ts";
import { ManualClock, systemClock } from "../../src/shared/clock.ts";
import { upstashFromEnv } from "../helpers/rig.ts";
import { startService, TEST_ENV } from "../helpers/service.ts";

const CONCURRENT = 64;
const PER_WORKER = 20;

/** The bridge's count of billed commands so far (`GET /_bridge/commands`). */
async function billed(): Promise<{ total: number; byName: Record<string, number> }> {
  const { url, token } = upstashFromEnv();
  const res = await fetch(`${url}/_bridge/commands`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test("uploads (redis): at most 0.1 Upstash commands per upload at 64 concurrent, limits included", async () => {
  const svc = await startService({
    store: "redis",
    env: { RATE_LIMIT_PER_USER: "1000", RATE_LIMIT_PER_IP: "100000" },
  });
  try {
    const tokens = await Promise.all(
      Array.from(
        { length: 200 },
        async (_, u) =>
          (await issueSession(`oCmd${u}`, TEST_ENV.SESSION_SECRET, 3600, systemClock)).token,
      ),
    );
    let n = 0;
    const upload = async (token: string) => {
      const i = n++;
      const formIds = Array.from({ length: 5 }, (_, k) => `f-${i}-${k}`);
      const res = await fetch(`${svc.url}/v1/formids`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ formIds }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.accepted, 5);
    };
    // Loads the scripts (a first EVALSHA fails with NOSCRIPT and is sent again as EVAL).
    await upload(tokens[0]);
    const before = await billed();
    await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, w) => {
        for (let k = 0; k < PER_WORKER; k++) await upload(tokens[(w * PER_WORKER + k) % 200]);
      }),
    );
    const after = await billed();
    const uploads = CONCURRENT * PER_WORKER;
    const commands = after.total - before.total;
    assert.ok(commands > 0, "the counter sees the service's commands");
    assert.ok(
      commands / uploads <= 0.1,
      `${commands} commands for ${uploads} uploads: ${JSON.stringify(after.byName)}`,
    );
    assert.equal((await svc.store.head()).seq, (uploads + 1) * 5);
  } finally {
    await svc.close();
  }
});

Deno.test("subscription reports (redis): their rate limits cost no command of their own", async () => {
  // A frozen clock: the registry's cached read and the limits' window stay put between calls.
  const clock = new ManualClock(Date.now());
  const svc = await startService({
    store: "redis",
    clock,
    env: { RATE_LIMIT_PER_USER: "1000", RATE_LIMIT_PER_IP: "100000" },
  });
  try {
    const { token } = await issueSession("oSubCmd", TEST_ENV.SESSION_SECRET, 3600, clock);
    const report = async (reportId: string) => {
      const res = await fetch(`${svc.url}/v1/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ results: { T: "accept" }, reportId }),
      });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.accepted, 1);
    };
    const answer = async (key: string) => {
      const items = [{ templateId: "T", answer: "accept", key, longTerm: false, revoke: false }];
      const [result] = await svc.ledger.answer({
        openId: "oSubDirect",
        source: "client",
        items,
        caps: svc.config.creditCaps,
        windowMs: null,
      });
      assert.equal(result.outcome, "credited");
    };
    // Loads the scripts and the registry's read.
    await report("warm");
    await answer("sub:warm:T");
    const cost = async (calls: () => Promise<void>) => {
      const before = (await billed()).total;
      await calls();
      return (await billed()).total - before;
    };
    const reports = await cost(async () => {
      for (let i = 0; i < 10; i++) await report(`r${i}`);
    });
    const answers = await cost(async () => {
      for (let i = 0; i < 10; i++) await answer(`sub:a${i}:T`);
    });
    assert.ok(answers > 0, "the counter sees the service's commands");
    assert.equal(reports, answers, "a report costs what its answer alone costs, limits included");
    // They were counted: 1 + 10 reports of this user's.
    const [count] = await svc.store.countLimits(
      [{ limit: "user", id: "oSubCmd", tokens: 1000, windowMs: 60_000 }],
      clock.now(),
    );
    assert.equal(count.remaining, 1000 - 12);
  } finally {
    await svc.close();
  }
});
