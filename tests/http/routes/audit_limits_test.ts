/**
 * Audits cannot starve the service: server-side verifications and NDJSON exports are limited
 * per token and overall (429 beyond), a verification of the embedded store lets other requests
 * through while it runs, and an export nobody reads stops reading the store and gives its place
 * back when the client goes away.
 */
import assert from "node:assert/strict";
import type { Credit } from "../../../src/ledger/credit_rules.ts";
import { startService, TEST_ENV, type TestService } from "../../helpers/service.ts";

const EVENTS = 200_000;

/** Fills the service's store with `EVENTS` collected credits (1,000 users). */
async function fill(svc: TestService): Promise<void> {
  const now = Date.now();
  for (let batch = 0; batch < EVENTS / 1_000; batch++) {
    const credits: Credit[] = [];
    for (let i = 0; i < 1_000; i++) {
      credits.push({
        formId: `f${batch}-${i}`,
        kind: "form",
        uses: 1,
        expiresAt: now + 86_400_000,
      });
    }
    await svc.store.collectMany([{ openId: `o-user-${batch % 1_000}`, credits }], now);
  }
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

Deno.test("audit limits (memory): concurrent verifications past the limit get 429, and /healthz stays fast meanwhile", async () => {
  const svc = await startService({
    store: "memory",
    env: { AUDIT_CONCURRENCY_PER_TOKEN: "2", AUDIT_CONCURRENCY: "3" },
  });
  try {
    await fill(svc);
    let polling = true;
    let slowest = 0;
    const poller = (async () => {
      while (polling) {
        const started = performance.now();
        const res = await fetch(`${svc.url}/healthz`);
        await res.body?.cancel();
        slowest = Math.max(slowest, performance.now() - started);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const verify = (token: string) =>
      fetch(`${svc.url}/v1/audit/verify?budgetMs=25000`, { headers: auth(token) }).then(
        async (res) => ({ status: res.status, body: await res.json() }),
      );
    const replies = await Promise.all([
      ...Array.from({ length: 5 }, () => verify(TEST_ENV.AUDIT_TOKEN)),
      ...Array.from({ length: 3 }, () => verify(TEST_ENV.ADMIN_TOKEN)),
    ]);
    polling = false;
    await poller;
    const auditor = replies.slice(0, 5).map((r) => r.status).sort();
    assert.deepEqual(auditor, [200, 200, 429, 429, 429], "two per token");
    const admin = replies.slice(5).map((r) => r.status).sort();
    assert.deepEqual(admin, [200, 429, 429], "three overall");
    for (const reply of replies.filter((r) => r.status === 200)) {
      assert.equal(reply.body.ok, true);
      assert.equal(reply.body.events, EVENTS);
    }
    const refused = replies.find((r) => r.status === 429)!;
    assert.equal(refused.body.error.code, "too_many_concurrent");
    assert.ok(slowest < 100, `/healthz took ${slowest.toFixed(0)} ms during the audits`);
    // Once they are done, a verification is admitted again.
    assert.equal((await verify(TEST_ENV.AUDIT_TOKEN)).status, 200);
  } finally {
    await svc.close();
  }
});

Deno.test("audit limits (memory): an export nobody reads stops reading the store, and gives its place back when the client goes away", async () => {
  const svc = await startService({ store: "memory", env: { AUDIT_CONCURRENCY_PER_TOKEN: "1" } });
  try {
    await fill(svc);
    let read = 0;
    const readEvents = svc.store.readEvents.bind(svc.store);
    svc.store.readEvents = async (after, limit) => {
      const events = await readEvents(after, limit);
      read += events.length;
      return events;
    };
    const port = Number(new URL(svc.url).port);
    const conn = await Deno.connect({ port, hostname: "127.0.0.1" });
    await conn.write(new TextEncoder().encode(
      `GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: application/x-ndjson\r\n` +
        `Authorization: Bearer ${TEST_ENV.AUDIT_TOKEN}\r\n\r\n`,
    ));
    // The client reads one buffer and then nothing more.
    const buffer = new Uint8Array(4096);
    assert.ok((await conn.read(buffer))! > 0);
    await new Promise((r) => setTimeout(r, 500));
    const whileStalled = read;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(read, whileStalled, "no store reads while the client does not read");
    assert.ok(read < EVENTS / 4, `read ${read} of ${EVENTS} events for a client that reads none`);
    const second = await fetch(`${svc.url}/v1/events`, {
      headers: { ...auth(TEST_ENV.AUDIT_TOKEN), accept: "application/x-ndjson" },
    });
    assert.equal(second.status, 429, "the stalled export still holds the token's place");
    await second.body?.cancel();

    conn.close();
    let admitted = 0;
    for (let i = 0; i < 50 && admitted !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const res = await fetch(`${svc.url}/v1/events?limit=10`, {
        headers: { ...auth(TEST_ENV.AUDIT_TOKEN), accept: "application/x-ndjson" },
      });
      admitted = res.status;
      await res.text();
    }
    assert.equal(admitted, 200, "the place is given back once the client has gone");
  } finally {
    await svc.close();
  }
});
