import assert from "node:assert/strict";
import { sign } from "hono/jwt";
import { issueSession } from "../../../src/http/middleware/session_token.ts";
import { ManualClock } from "../../../src/shared/clock.ts";
import type { CollectRequest } from "../../../src/ledger/store.ts";
import { TEST_ENV } from "../../helpers/service.ts";
import { ADMIN, AUDITOR, call, login, type Rig, startRig, STORES } from "../login_helpers.ts";

const T0 = Date.UTC(2026, 5, 1, 12);
const DAY = 86_400_000;
const PLACEHOLDERS = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];

async function withRig(
  store: "memory" | "redis",
  fn: (rig: Rig, clock: ManualClock) => Promise<void>,
) {
  const clock = new ManualClock(T0);
  const rig = await startRig(store, {}, clock);
  try {
    await fn(rig, clock);
  } finally {
    await rig.close();
  }
}

const upload = (rig: Rig, body: unknown, token: string | null, headers = {}) =>
  call(`${rig.svc.url}/v1/formids`, "POST", body, token, headers);

for (const store of STORES) {
  Deno.test(`formids (${store}): accepted, duplicate, rejected and expired in one upload`, () =>
    withRig(store, async (rig) => {
      const { token, openId } = await login(rig, "alice");
      const first = await upload(rig, { formIds: ["f1", "f2", { formId: "f3" }] }, token);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, { accepted: 3, duplicates: 0, rejected: [] });

      const headBefore = await rig.svc.store.head();
      const second = await upload(rig, {
        formIds: [
          "f1", // duplicate of the first upload
          "f4",
          "f4", // repeated within the batch
          ...PLACEHOLDERS,
          "",
          "x".repeat(129),
          "tab\there",
          "中文",
          42,
          { formId: "f5", openId: "someone-else" },
          { formId: "f6", collectedAt: "yesterday" },
          { formId: "f7", collectedAt: T0 - 8 * DAY },
          { formId: "f8", collectedAt: T0 - 6 * DAY },
          "x".repeat(128),
        ],
      }, token);
      assert.equal(second.status, 200);
      assert.equal(second.body.accepted, 3, "f4, f8 and the 128-character id");
      assert.equal(second.body.duplicates, 2);
      assert.deepEqual(second.body.rejected, [
        { formId: PLACEHOLDERS[0], index: 3, reason: "placeholder" },
        { formId: PLACEHOLDERS[1], index: 4, reason: "placeholder" },
        { formId: "", index: 5, reason: "invalid_format" },
        { formId: "x".repeat(129), index: 6, reason: "invalid_format" },
        { formId: "tab\there", index: 7, reason: "invalid_format" },
        { formId: "中文", index: 8, reason: "invalid_format" },
        { formId: null, index: 9, reason: "invalid_item" },
        { formId: "f5", index: 10, reason: "invalid_item" },
        { formId: "f6", index: 11, reason: "invalid_collected_at" },
        { formId: "f7", index: 12, reason: "expired" },
      ]);
      const headAfter = await rig.svc.store.head();
      assert.equal(headAfter.seq, headBefore.seq + 3, "one event per accepted credit");

      const view = await rig.svc.ledger.view(openId);
      assert.deepEqual(
        view.credits.map((c) => c.formId).sort(),
        ["f1", "f2", "f3", "f4", "f8", "x".repeat(128)],
      );
      assert.ok(view.credits.every((c) => c.kind === "form" && c.uses === 1));
    }));

  Deno.test(`formids (${store}): expiry is the server's: min(collectedAt, now) + TTL - safety`, () =>
    withRig(store, async (rig) => {
      const { token, openId } = await login(rig, "alice");
      const reply = await upload(rig, {
        formIds: [
          { formId: "old", collectedAt: T0 - 2 * DAY, expiresAt: T0 + 365 * DAY },
          { formId: "future", collectedAt: T0 + 3 * DAY },
          { formId: "edge", collectedAt: T0 - 7 * DAY + 3_600_000 },
          { formId: "live", collectedAt: T0 - 7 * DAY + 3_600_001 },
          "plain",
        ],
      }, token);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.accepted, 4);
      assert.deepEqual(reply.body.rejected, [{ formId: "edge", index: 2, reason: "expired" }]);
      const expiry = Object.fromEntries(
        (await rig.svc.ledger.view(openId)).credits.map((c) => [c.formId, c.expiresAt]),
      );
      const life = 7 * DAY - 3_600_000;
      assert.equal(expiry.old, T0 - 2 * DAY + life, "the client's expiresAt is ignored");
      assert.equal(expiry.future, T0 + life, "a collectedAt in the future counts as now");
      assert.equal(expiry.plain, T0 + life);
      assert.equal(expiry.live, T0 + 1);
    }));

  Deno.test(`formids (${store}): malformed requests are refused whole and change nothing`, () =>
    withRig(store, async (rig) => {
      const { token } = await login(rig, "alice");
      const head = await rig.svc.store.head();
      const cases: [unknown, Record<string, string>, number, string][] = [
        ["{formIds: [", {}, 400, "invalid_json"],
        ["", {}, 400, "invalid_json"],
        ['["f1"]', {}, 400, "invalid_body"],
        ["null", {}, 400, "invalid_body"],
        [{ formIds: "f1" }, {}, 400, "invalid_form_ids"],
        [{ formIds: [] }, {}, 400, "invalid_form_ids"],
        [{}, {}, 400, "invalid_form_ids"],
        [{ formIds: Array.from({ length: 101 }, (_, i) => `f${i}`) }, {}, 400, "invalid_form_ids"],
        [{ formIds: ["f1"], openId: "o-other" }, {}, 400, "unknown_field"],
        [{ formIds: ["f1"] }, { "content-type": "text/plain" }, 415, "unsupported_media_type"],
        [
          { formIds: ["f1"] },
          { "content-type": "application/x-www-form-urlencoded" },
          415,
          "unsupported_media_type",
        ],
        [
          { formIds: ["f1"] },
          { "content-type": "application/json; charset=latin1" },
          415,
          "unsupported_media_type",
        ],
        [{ formIds: ["f".repeat(16_400)] }, {}, 413, "payload_too_large"],
      ];
      for (const [body, headers, status, code] of cases) {
        const reply = await upload(rig, body, token, headers);
        assert.equal(
          reply.status,
          status,
          `${JSON.stringify(body).slice(0, 50)} ${JSON.stringify(headers)}`,
        );
        assert.equal(reply.body.error.code, code);
        assert.deepEqual(Object.keys(reply.body), ["error"]);
      }
      // A body over the limit sent without Content-Length (chunked) is refused as well.
      const chunks = new ReadableStream({
        start(ctl) {
          for (let i = 0; i < 20; i++) ctl.enqueue(new TextEncoder().encode(" ".repeat(1024)));
          ctl.close();
        },
      });
      const chunked = await fetch(`${rig.svc.url}/v1/formids`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: chunks,
      });
      assert.equal(chunked.status, 413);
      assert.equal((await chunked.json()).error.code, "payload_too_large");
      // 100 formIds within 16 KB go through; charset=utf-8 is fine.
      const full = await upload(
        rig,
        { formIds: Array.from({ length: 100 }, (_, i) => `id-${i}`) },
        token,
        { "content-type": "application/json; charset=UTF-8" },
      );
      assert.equal(full.status, 200);
      assert.equal(full.body.accepted, 100);
      assert.equal((await rig.svc.store.head()).seq, head.seq + 100);
    }));

  Deno.test(`formids (${store}): missing, foreign and forged tokens are refused`, () =>
    withRig(store, async (rig, clock) => {
      const body = { formIds: ["f1"] };
      const head = await rig.svc.store.head();
      const now = Math.floor(clock.now() / 1000);
      const forged = await sign(
        { sub: "o-victim", use: "formid-session", iat: now, exp: now + 600 },
        "another-secret-0123456789abcdef-0123",
        "HS256",
      );
      const unsigned = `${btoa('{"alg":"none","typ":"JWT"}')}.${
        btoa(JSON.stringify({ sub: "o-victim", use: "formid-session", exp: now + 600 }))
      }.`.replace(/=/g, "");
      const otherUse = await sign(
        { sub: "o-victim", iat: now, exp: now + 600 },
        TEST_ENV.SESSION_SECRET,
        "HS256",
      );
      const cases: [string | null, number, string][] = [
        [null, 401, "unauthorized"],
        ["garbage", 401, "unauthorized"],
        [forged, 401, "unauthorized"],
        [unsigned, 401, "unauthorized"],
        [otherUse, 401, "unauthorized"],
        [ADMIN, 403, "forbidden"],
        [AUDITOR, 403, "forbidden"],
      ];
      for (const [token, status, code] of cases) {
        const reply = await upload(rig, body, token);
        assert.equal(reply.status, status, String(token).slice(0, 20));
        assert.equal(reply.body.error.code, code);
      }
      const basic = await upload(rig, body, null, { authorization: "Basic dXNlcjpwdw==" });
      assert.equal(basic.status, 401);
      assert.deepEqual(await rig.svc.store.head(), head, "nothing was appended");
      assert.equal((await rig.svc.ledger.view("o-victim")).valid, 0);
    }));

  Deno.test(`formids (${store}): concurrent uploads from many users share store calls, each answered alone`, () =>
    withRig(store, async (rig, clock) => {
      const users = Array.from({ length: 40 }, (_, u) => `o-many-${u}`);
      const tokens = await Promise.all(
        users.map(async (u) => (await issueSession(u, TEST_ENV.SESSION_SECRET, 600, clock)).token),
      );
      const batches: number[] = [];
      const storeApi = rig.svc.store;
      const collectMany = storeApi.collectMany.bind(storeApi);
      storeApi.collectMany = (uploads: CollectRequest[], now: number) => {
        batches.push(uploads.length);
        return collectMany(uploads, now);
      };
      // Each user: one fresh upload, one overlapping it, and one made only of formIds the user
      // already had before, all in flight at once with everyone else's.
      await Promise.all(users.map((u, i) => upload(rig, { formIds: [`${u}-old`] }, tokens[i])));
      const head = await storeApi.head();
      batches.length = 0;
      const replies = await Promise.all(users.flatMap((u, i) => [
        upload(rig, { formIds: [`${u}-a`, `${u}-b`, "shared"] }, tokens[i]),
        upload(rig, { formIds: [`${u}-old`, `${u}-old`] }, tokens[i]),
      ]));
      for (let i = 0; i < users.length; i++) {
        const [fresh, old] = [replies[2 * i], replies[2 * i + 1]];
        assert.equal(fresh.status, 200);
        assert.deepEqual(fresh.body, { accepted: 3, duplicates: 0, rejected: [] });
        assert.deepEqual(old.body, { accepted: 0, duplicates: 2, rejected: [] });
        const view = await rig.svc.ledger.view(users[i]);
        assert.deepEqual(
          view.credits.map((c) => c.formId).sort(),
          [`${users[i]}-a`, `${users[i]}-b`, `${users[i]}-old`, "shared"],
        );
      }
      assert.equal((await storeApi.head()).seq, head.seq + 3 * users.length);
      assert.equal(batches.reduce((a, b) => a + b, 0), 2 * users.length);
      if (store === "redis") {
        // (The memory store answers at once, so uploads seldom find one another waiting.)
        assert.ok(batches.length < users.length, `${batches.length} store calls for 80 uploads`);
      }
    }));

  Deno.test(`formids (${store}): a failed store call fails the uploads it carried, not later ones`, () =>
    withRig(store, async (rig) => {
      const { token } = await login(rig, "alice");
      const storeApi = rig.svc.store;
      const collectMany = storeApi.collectMany.bind(storeApi);
      const carried = new Set<string>();
      storeApi.collectMany = (uploads: CollectRequest[], now: number) => {
        if (carried.size > 0) return collectMany(uploads, now);
        for (const { credits } of uploads) for (const c of credits) carried.add(c.formId);
        return Promise.reject(new Error("store down"));
      };
      const head = await storeApi.head();
      const original = console.error;
      console.error = () => {};
      const ids = ["f1", "f2", "f3"];
      try {
        const replies = await Promise.all(ids.map((f) => upload(rig, { formIds: [f] }, token)));
        replies.forEach((reply, i) => {
          if (carried.has(ids[i])) {
            assert.equal(reply.status, 500);
            assert.deepEqual(reply.body, {
              error: { code: "internal", message: "internal error" },
            });
          } else assert.deepEqual(reply.body, { accepted: 1, duplicates: 0, rejected: [] });
        });
      } finally {
        console.error = original;
      }
      assert.ok(carried.size >= 1);
      assert.equal((await storeApi.head()).seq, head.seq + 3 - carried.size);
      const retry = await upload(rig, { formIds: [...carried] }, token);
      assert.deepEqual(retry.body, { accepted: carried.size, duplicates: 0, rejected: [] });
    }));
}

for (const store of STORES) {
  Deno.test(`formids (${store}): an upload over MAX_CREDITS_PER_USER collects up to the cap, in order`, async () => {
    const rig = await startRig(store, { MAX_CREDITS_PER_USER: "4" });
    const url = `${rig.svc.url}/v1/formids`;
    try {
      const { token, openId } = await login(rig, "capped");
      const first = await call(url, "POST", { formIds: ["a", "b", "c"] }, token);
      assert.deepEqual(first.body, { accepted: 3, duplicates: 0, rejected: [] });
      const head = await rig.svc.store.head();
      const over = await call(url, "POST", {
        formIds: ["d", "b", "e", "the formId is a mock one", "f"],
      }, token);
      assert.equal(over.status, 200);
      assert.deepEqual(over.body, {
        accepted: 1,
        duplicates: 1,
        rejected: [
          { formId: "e", index: 2, reason: "user_full" },
          { formId: "the formId is a mock one", index: 3, reason: "placeholder" },
          { formId: "f", index: 4, reason: "user_full" },
        ],
      });
      assert.equal((await rig.svc.store.head()).seq, head.seq + 1, "refused items append nothing");
      assert.equal((await rig.svc.ledger.view(openId)).valid, 4);
    } finally {
      await rig.close();
    }
  });
}
