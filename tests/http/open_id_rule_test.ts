/**
 * One openId rule (`isOpenId`: 1-128 of [A-Za-z0-9_-]) on every endpoint that takes an openId
 * from its caller, over real HTTP: the same inputs are accepted or refused alike by
 * `POST /v1/push`, `POST /v1/broadcasts`, `POST /v1/credits` and `GET /v1/users/:openId/credits`,
 * and a refused request sends nothing, queues nothing and leaves the log alone.
 *
 * Before the rule was shared, `POST /v1/push` took any 1-128 characters without control
 * characters (answering `200 no_credit` for the openIds refused below) and `POST /v1/broadcasts`
 * any 1-128 visible ASCII (answering `202`).
 */
import assert from "node:assert/strict";
import { isOpenId } from "../../src/http/middleware/input_rules.ts";
import { type Json, ORDER, startPushRig } from "../push/rig.ts";
import type { StoreKind } from "../helpers/service.ts";

/** Accepted by every endpoint. */
const GOOD = ["oAbC-123_x", "o".repeat(128), "-", "_"];
/**
 * Refused by every endpoint now. The first group was accepted by `POST /v1/push` before
 * (1-128 characters, none below U+0020); the visible-ASCII ones also by `POST /v1/broadcasts`.
 */
const NEWLY_REFUSED = [
  "o:b", // a Redis key separator
  "o.b",
  "o+b/c=", // base64, not base64url
  "o@b",
  "o*",
  "o b", // space
  "o\u007fb", // DEL
  "用户", // non-ASCII
  "o😀",
];
/** Refused before and after, by every endpoint. */
const ALWAYS_REFUSED: unknown[] = ["", "o".repeat(129), "o\nb", "o\u0000", 5, null, ["o"], {}];

async function json(res: Response): Promise<Json> {
  return await res.json() as Json;
}

Deno.test("openId rule: the inputs below are what they claim to be", () => {
  for (const id of GOOD) assert.ok(isOpenId(id), id);
  for (const id of [...NEWLY_REFUSED, ...ALWAYS_REFUSED]) assert.ok(!isOpenId(id), String(id));
});

for (const store of ["memory", "redis"] as StoreKind[]) {
  Deno.test(`openId rule (${store}): POST /v1/push refuses what isOpenId refuses, sending nothing`, async () => {
    const rig = await startPushRig(store);
    try {
      const head = await rig.service.store.head();
      for (const openId of [...NEWLY_REFUSED, ...ALWAYS_REFUSED]) {
        const res = await rig.call("/v1/push", { openId, ...ORDER });
        const where = `openId ${JSON.stringify(openId)}`;
        assert.equal(res.status, 400, where);
        const { error } = await json(res) as { error: Json };
        assert.equal(error.code, "invalid_field", where);
        assert.match(String(error.message), /^openId must be 1-128 of \[A-Za-z0-9_-\]$/, where);
      }
      const missing = await rig.call("/v1/push", { ...ORDER });
      assert.equal(missing.status, 400);
      assert.deepEqual((await json(missing)).error, {
        code: "invalid_field",
        message: "openId is required",
      });
      for (const openId of GOOD) {
        const res = await rig.call("/v1/push", { openId, ...ORDER });
        assert.equal(res.status, 200, openId);
        assert.equal((await json(res)).status, "no_credit", openId);
      }
      assert.deepEqual(await rig.service.store.head(), head, "no refused push touched the log");
      assert.equal((await rig.stats()).sendsAccepted, 0);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`openId rule (${store}): a refused push does not use up its Idempotency-Key`, async () => {
    const rig = await startPushRig(store);
    try {
      await rig.give("o-key", "f-key-1");
      const key = { "idempotency-key": "order-42" };
      const refused = await rig.call("/v1/push", { openId: "o:key", ...ORDER }, key);
      assert.equal(refused.status, 400);
      assert.equal(((await json(refused)).error as Json).code, "invalid_field");
      const sent = await rig.call("/v1/push", { openId: "o-key", ...ORDER }, key);
      assert.equal(sent.status, 200);
      assert.equal(sent.headers.get("idempotent-replayed"), null, "the key was still fresh");
      assert.equal((await json(sent)).status, "sent");
    } finally {
      await rig.close();
    }
  });

  Deno.test(`openId rule (${store}): POST /v1/broadcasts refuses a list with one bad openId, queueing nothing`, async () => {
    const rig = await startPushRig(store);
    try {
      const head = await rig.service.store.head();
      for (const bad of [...NEWLY_REFUSED, ...ALWAYS_REFUSED]) {
        const res = await rig.call("/v1/broadcasts", { ...ORDER, openIds: ["o-fine", bad] });
        const where = `openIds [..., ${JSON.stringify(bad)}]`;
        assert.equal(res.status, 400, where);
        const { error } = await json(res) as { error: Json };
        assert.equal(error.code, "invalid_field", where);
        assert.match(String(error.message), /each 1-128 of \[A-Za-z0-9_-\]$/, where);
      }
      const step = await rig.service.push!.worker.step();
      assert.deepEqual(step, { chunks: 0, deliveries: 0 }, "no refused broadcast queued work");
      assert.deepEqual(await rig.service.store.head(), head);

      const res = await rig.call("/v1/broadcasts", { ...ORDER, openIds: GOOD });
      assert.equal(res.status, 202);
      assert.equal((await json(res)).total, GOOD.length);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`openId rule (${store}): POST /v1/credits and GET /v1/users/:openId/credits apply the same rule`, async () => {
    const rig = await startPushRig(store);
    try {
      const head = await rig.service.store.head();
      for (const openId of [...NEWLY_REFUSED, ...ALWAYS_REFUSED]) {
        const where = `openId ${JSON.stringify(openId)}`;
        const add = await rig.call("/v1/credits", { openId, kind: "prepay", id: "wx-prepay" });
        assert.equal(add.status, 400, where);
        assert.equal(((await json(add)).error as Json).code, "invalid_open_id", where);
      }
      for (const openId of NEWLY_REFUSED) {
        const where = `openId ${JSON.stringify(openId)}`;
        const view = await rig.call(`/v1/users/${encodeURIComponent(openId)}/credits`);
        assert.equal(view.status, 400, where);
        assert.deepEqual((await json(view)).error, {
          code: "invalid_open_id",
          message: "openId must be 1-128 of [A-Za-z0-9_-]",
        }, where);
      }
      assert.deepEqual(await rig.service.store.head(), head);
      for (const [i, openId] of GOOD.entries()) {
        const add = await rig.call("/v1/credits", { openId, kind: "prepay", id: `wx-${i}` });
        assert.equal(add.status, 200, openId);
        const view = await rig.call(`/v1/users/${openId}/credits`);
        assert.equal(view.status, 200, openId);
        assert.equal((await json(view)).valid, 1, openId);
      }
    } finally {
      await rig.close();
    }
  });
}
