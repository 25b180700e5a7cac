/**
 * The audit endpoints on both stores: paging, NDJSON export (re-imported, it verifies exactly as
 * the store does, also when the log was tampered with), checkpoint, server-side verification
 * within a budget, and who may read.
 */
import assert from "node:assert/strict";
import { auditChunks, auditStore } from "../../../src/audit/audit.ts";
import { readNdjson } from "../../../src/audit/ndjson.ts";
import { createApp } from "../../../src/app.ts";
import { openBackends } from "../../../src/backends.ts";
import { loadConfig } from "../../../src/config/config.ts";
import { systemClock } from "../../../src/shared/clock.ts";
import { MemoryStore } from "../../../src/store/memory/memory.ts";
import { issueSession } from "../../../src/http/middleware/session_token.ts";
import { startService, type StoreKind, TEST_ENV, type TestService } from "../../helpers/service.ts";
import { form, rewriteSegment, T0, writeRounds } from "../../audit/fixture.ts";
import { append } from "../../helpers/store_calls.ts";
import { Redis as IORedis } from "ioredis";

const AUDITOR = { authorization: `Bearer ${TEST_ENV.AUDIT_TOKEN}` };
const ADMIN = { authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}` };
const NDJSON_ACCEPT = { ...AUDITOR, accept: "application/x-ndjson" };

async function withService(kind: StoreKind, fn: (svc: TestService) => Promise<void>) {
  const svc = await startService({ store: kind, env: { SEGMENT_EVENTS: "10" } });
  try {
    await fn(svc);
  } finally {
    await svc.close();
  }
}

async function getJson(url: string, headers: Record<string, string> = AUDITOR) {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

for (const kind of ["memory", "redis"] as StoreKind[]) {
  Deno.test(`${kind}: GET /v1/events pages the log in order`, async () => {
    await withService(kind, async (svc) => {
      await writeRounds(svc.store, 10);
      const first = await getJson(`${svc.url}/v1/events?limit=5`);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.events.map((e: { seq: number }) => e.seq), [1, 2, 3, 4, 5]);
      assert.equal(first.body.next, 5);
      assert.equal(first.body.head.seq, 30);
      const e1 = first.body.events[0];
      assert.deepEqual(Object.keys(e1), ["seq", "id", "type", "at", "data", "prev", "hash"]);
      assert.equal(e1.type, "FormIdCollected");
      assert.equal(e1.at, new Date(T0).toISOString());
      assert.equal(first.body.events[1].prev, e1.hash);
      const last = await getJson(`${svc.url}/v1/events?after=28&limit=5`, ADMIN);
      assert.deepEqual(last.body.events.map((e: { seq: number }) => e.seq), [29, 30]);
      assert.equal(last.body.next, null);
      const beyond = await getJson(`${svc.url}/v1/events?after=30`);
      assert.deepEqual(beyond.body.events, []);
      const all = await getJson(`${svc.url}/v1/events?limit=1000`);
      assert.equal(all.body.events.length, 30, "the default page limit is lifted up to 1000");
      for (const bad of ["after=-1", "after=x", "limit=0", "limit=1001", "after=1.5"]) {
        const res = await getJson(`${svc.url}/v1/events?${bad}`);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error.code, "bad_request");
      }
    });
  });

  Deno.test(`${kind}: the NDJSON export re-imported verifies exactly as the store`, async () => {
    await withService(kind, async (svc) => {
      await writeRounds(svc.store, 10);
      await append(svc.store, [{
        type: "PushFailed",
        data: { pushId: "px", openId: "user1", errcode: 45009, errmsg: "quota", class: "quota" },
      }], T0 + 20_000);
      const res = await fetch(`${svc.url}/v1/events`, { headers: NDJSON_ACCEPT });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/x-ndjson");
      const head = await svc.store.head();
      assert.equal(res.headers.get("x-ledger-head-seq"), String(head.seq));
      assert.equal(res.headers.get("x-ledger-head-hash"), head.hash);
      const now = T0 + 60_000;
      const fromFile = await auditChunks(readNdjson(res.body!), { head, replay: true, now });
      const fromStore = await auditStore(svc.store, { replay: true, now });
      assert.equal(fromFile.verify.ok, true, fromFile.verify.break?.message);
      assert.deepEqual(fromFile.verify.through, fromStore.verify.through);
      assert.equal(fromFile.verify.events, 31);
      assert.deepEqual(fromFile.report, fromStore.report);
      assert.equal(fromStore.comparison?.mismatches, 0);

      const tail = await fetch(`${svc.url}/v1/events?after=25`, { headers: NDJSON_ACCEPT });
      const lines = (await tail.text()).trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((e) => e.seq), [26, 27, 28, 29, 30, 31]);
      const some = await fetch(`${svc.url}/v1/events?after=3&limit=4`, { headers: NDJSON_ACCEPT });
      assert.equal((await some.text()).trim().split("\n").length, 4);
    });
  });

  Deno.test(`${kind}: GET /v1/audit/checkpoint gives the head`, async () => {
    await withService(kind, async (svc) => {
      const empty = await getJson(`${svc.url}/v1/audit/checkpoint`);
      assert.deepEqual(empty.body, { seq: 0, hash: "0".repeat(64), at: null });
      await writeRounds(svc.store, 2);
      const { status, body } = await getJson(`${svc.url}/v1/audit/checkpoint`);
      assert.equal(status, 200);
      const head = await svc.store.head();
      assert.deepEqual(body, { seq: 6, hash: head.hash, at: new Date(T0 + 1000).toISOString() });
    });
  });

  Deno.test(`${kind}: GET /v1/audit/verify verifies within its budget and resumes`, async () => {
    await withService(kind, async (svc) => {
      for (let i = 0; i < 40; i++) {
        const credits = Array.from({ length: 100 }, (_, k) => form(`f${i}.${k}`));
        await svc.store.collect(`user${i}`, credits, T0 + i);
      }
      const head = await svc.store.head();
      assert.equal(head.seq, 4000);
      const whole = await getJson(`${svc.url}/v1/audit/verify`);
      assert.equal(whole.status, 200);
      assert.equal(whole.body.ok, true);
      assert.equal(whole.body.complete, true);
      assert.equal(whole.body.events, 4000);
      assert.deepEqual(whole.body.through, { seq: 4000, hash: head.hash, at: head.at });
      // A 1 ms budget stops after the first page and says where to resume.
      const part = await getJson(`${svc.url}/v1/audit/verify?budgetMs=1`);
      assert.equal(part.body.ok, true);
      assert.equal(part.body.complete, false);
      assert.ok(part.body.through.seq > 0 && part.body.through.seq < 4000);
      const from = `${part.body.through.seq}:${part.body.through.hash}`;
      const rest = await getJson(`${svc.url}/v1/audit/verify?from=${from}`);
      assert.equal(rest.body.complete, true);
      assert.equal(rest.body.events, 4000 - part.body.through.seq);
      assert.equal(rest.body.through.seq, 4000);
      // Starting beyond the head means the log lost events since that checkpoint.
      const beyond = await getJson(`${svc.url}/v1/audit/verify?from=4100:${"b".repeat(64)}`);
      assert.equal(beyond.body.ok, false);
      assert.equal(beyond.body.break.kind, "truncated");
      assert.equal(beyond.body.break.seq, 4001);
      // A wrong recorded checkpoint is a break, located at its seq.
      const wrong = await getJson(`${svc.url}/v1/audit/verify?checkpoint=10:${"a".repeat(64)}`);
      assert.equal(wrong.body.ok, false);
      assert.equal(wrong.body.break.kind, "checkpoint_mismatch");
      assert.equal(wrong.body.break.seq, 10);
      for (const bad of ["from=12", "checkpoint=1:xyz", "budgetMs=0", "budgetMs=999999"]) {
        const res = await getJson(`${svc.url}/v1/audit/verify?${bad}`);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.error.code, "bad_request");
      }
    });
  });

  Deno.test(`${kind}: audit endpoints refuse callers without the auditor or admin token`, async () => {
    await withService(kind, async (svc) => {
      const session = await issueSession(
        "oUser000000000000000000000001",
        TEST_ENV.SESSION_SECRET,
        3600,
        systemClock,
      );
      const callers: Record<string, Record<string, string>> = {
        none: {},
        wrong: { authorization: "Bearer not-the-audit-token-0123" },
        session: { authorization: `Bearer ${session.token}` },
      };
      for (const path of ["/v1/events", "/v1/audit/checkpoint", "/v1/audit/verify"]) {
        for (const [who, headers] of Object.entries(callers)) {
          const res = await getJson(`${svc.url}${path}`, {
            ...headers,
            accept: "application/x-ndjson",
          });
          assert.equal(res.status, 401, `${who} on ${path}`);
          assert.equal(res.body.error.code, "unauthorized");
        }
        assert.equal(await fetch(`${svc.url}${path}`, { headers: ADMIN }).then(drain), 200);
      }
    });
  });
}

Deno.test("an audit endpoint without AUDIT_TOKEN or ADMIN_TOKEN configured says so", async () => {
  const svc = await startService({ store: "memory", env: { AUDIT_TOKEN: "", ADMIN_TOKEN: "" } });
  try {
    const res = await getJson(`${svc.url}/v1/audit/checkpoint`);
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "not_configured");
  } finally {
    await svc.close();
  }
});

Deno.test("redis: a tampered log exported and re-imported breaks at the same seq", async () => {
  await withService("redis", async (svc) => {
    await writeRounds(svc.store, 10);
    const raw = new IORedis(Deno.env.get("TEST_REDIS_URL")!);
    try {
      await rewriteSegment(raw, `${svc.config.prefix}:log:1`, (entries) => {
        entries[4].fields.d = entries[4].fields.d.replace("push4", "push9"); // seq 15
        return entries;
      });
    } finally {
      raw.disconnect();
    }
    const head = await svc.store.head();
    const res = await fetch(`${svc.url}/v1/events`, { headers: NDJSON_ACCEPT });
    const fromFile = await auditChunks(readNdjson(res.body!), { head });
    const fromStore = await auditStore(svc.store);
    const viaHttp = await getJson(`${svc.url}/v1/audit/verify`);
    assert.equal(fromStore.verify.break?.seq, 15);
    assert.equal(fromStore.verify.break?.kind, "hash_mismatch");
    assert.deepEqual(fromFile.verify.break, fromStore.verify.break);
    assert.deepEqual(viaHttp.body.break, fromStore.verify.break);
  });
});

async function drain(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

Deno.test("the NDJSON export reads the log lazily, a few pages ahead of the client", async () => {
  class CountingStore extends MemoryStore {
    reads = 0;
    override readEvents(after: number, limit: number) {
      this.reads++;
      return super.readEvents(after, limit);
    }
  }
  const counted = new CountingStore();
  for (let i = 0; i < 100; i++) {
    await counted.collect(`user${i}`, Array.from({ length: 200 }, (_, k) => form(`f${k}`)), T0);
  }
  counted.reads = 0;
  const config = loadConfig({ ...TEST_ENV });
  const { app } = createApp({
    config,
    backends: { ...openBackends(config), store: counted },
    clock: systemClock,
  });
  const res = await app.request("/v1/events", { headers: NDJSON_ACCEPT });
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.ok(first.value && first.value.length > 0);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(counted.reads <= 4, `${counted.reads} pages read for 20,000 events after one chunk`);
  let lines = new TextDecoder().decode(first.value).split("\n").length - 1;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    lines += new TextDecoder().decode(chunk.value).split("\n").length - 1;
  }
  assert.equal(lines, 20_000);
  assert.equal(counted.reads, 10, "20,000 events in pages of 2,000");
});
