/**
 * POST /v1/push against the WeChat simulator over HTTP, Redis store: every errcode class does
 * what it says to the credit, and the log tells where each credit went.
 */
import assert from "node:assert/strict";
import { auditCredits, type Json, ORDER, readLog, startPushRig } from "./rig.ts";

async function push(rig: Awaited<ReturnType<typeof startPushRig>>, body: Json) {
  const res = await rig.call("/v1/push", body);
  assert.equal(res.status, 200);
  return await res.json() as Json;
}

Deno.test("push: sent spends exactly one credit; no credit says so", async () => {
  const rig = await startPushRig("redis");
  try {
    await rig.give("alice", "f-alice-1");
    const sent = await push(rig, { openId: "alice", ...ORDER, page: "pages/index" });
    assert.equal(sent.status, "sent");
    assert.equal(sent.attempts, 1);
    assert.match(String(sent.msgid), /^\d+$/);
    assert.match(String(sent.pushId), /^p/);
    const none = await push(rig, { openId: "alice", ...ORDER });
    assert.deepEqual(none, { pushId: none.pushId, status: "no_credit", attempts: 0 });
    const stats = await rig.stats();
    assert.deepEqual(stats.sends.alice, { "f-alice-1": 1 });
    const log = await readLog(rig.service.store);
    assert.deepEqual(log.map((e) => e.type), [
      "FormIdCollected",
      "FormIdConsumed",
      "PushSucceeded",
    ]);
    assert.deepEqual(log[2].data, {
      pushId: sent.pushId,
      openId: "alice",
      formId: "f-alice-1",
      templateId: "TPL_ORDER",
      msgid: sent.msgid,
    });
  } finally {
    await rig.close();
  }
});

Deno.test("push: spent credits (41028, 41029, 43101) are gone; the next credit is tried", async () => {
  const rig = await startPushRig("redis");
  try {
    // 41028: the ledger has a formId WeChat never issued to this user.
    await rig.service.ledger.collect("bob", [{
      formId: "f-bogus",
      kind: "form",
      collectedAt: Date.now() - 10_000,
    }]);
    // 41029: a formId already used outside the ledger.
    await rig.give("bob", "f-used");
    const token = await rig.service.push!.tokens.get();
    const direct = await fetch(
      `${rig.sim.url}/cgi-bin/message/wxopen/template/send?access_token=${token}`,
      {
        method: "POST",
        body: JSON.stringify({ touser: "bob", template_id: "TPL_ORDER", form_id: "f-used" }),
      },
    );
    assert.equal((await direct.json()).errcode, 0);
    await rig.give("bob", "f-good");
    const result = await push(rig, { openId: "bob", ...ORDER });
    assert.equal(result.status, "sent");
    assert.equal(result.attempts, 3);
    const failed = (await readLog(rig.service.store)).filter((e) => e.type === "PushFailed");
    assert.deepEqual(failed.map((e) => [(e.data as Json).errcode, (e.data as Json).class]), [
      [41028, "spent"],
      [41029, "spent"],
    ]);
    assert.equal((await rig.service.ledger.view("bob")).valid, 0, "spent credits are not returned");

    // 43101: a subscribe credit without an accept left at WeChat; no other credit: failed.
    await rig.service.ledger.collect("carol", [{
      formId: "s-1",
      kind: "subscribe",
      templateId: "TPL_SUB",
    }]);
    await rig.simControl("/__sim/users", { openid: "carol" });
    const sub = await push(rig, {
      openId: "carol",
      templateId: "TPL_SUB",
      data: { thing1: { value: "hi" } },
    });
    assert.equal(sub.status, "failed");
    assert.equal(sub.errcode, 43101);
    assert.equal(sub.class, "spent");
    assert.equal((await rig.service.ledger.view("carol")).valid, 0);
    const { unsettled } = auditCredits(await readLog(rig.service.store));
    assert.deepEqual(unsettled, []);
  } finally {
    await rig.close();
  }
});

Deno.test("push: the spent-credit bound stops the search", async () => {
  const rig = await startPushRig("redis", { PUSH_MAX_CREDITS: "2" });
  try {
    for (const id of ["x1", "x2", "x3"]) {
      await rig.service.ledger.collect("dave", [{ formId: id, kind: "form" }]);
    }
    await rig.simControl("/__sim/users", { openid: "dave" });
    const result = await push(rig, { openId: "dave", ...ORDER });
    assert.equal(result.status, "failed");
    assert.equal(result.errcode, 41028);
    assert.equal(result.attempts, 2);
    assert.equal((await rig.service.ledger.view("dave")).valid, 1, "the third credit is untouched");
  } finally {
    await rig.close();
  }
});

Deno.test("push: transient faults return the credit and retry with backoff; none is wasted", async () => {
  const rig = await startPushRig("redis", { PUSH_MAX_ATTEMPTS: "3" });
  try {
    await rig.give("erin", "f-erin");
    for (const kind of ["busy", "freq", "http500"]) {
      await rig.simControl("/__sim/faults", { rate: 1, kinds: [kind] });
      const failed = await push(rig, { openId: "erin", ...ORDER });
      assert.equal(failed.status, "failed", kind);
      assert.equal(failed.class, "transient", kind);
      assert.equal(failed.attempts, 3, kind);
      assert.equal((await rig.service.ledger.view("erin")).valid, 1, `${kind}: credit returned`);
    }
    assert.deepEqual(
      (await readLog(rig.service.store)).filter((e) => e.type === "PushFailed").map((e) =>
        (e.data as Json).errcode
      ),
      [-1, -1, -1, 45011, 45011, 45011, -1002, -1002, -1002],
    );
    // Half the calls fail: the push still goes out exactly once.
    await rig.simControl("/__sim/faults", { rate: 0.5, kinds: ["busy"], seed: 7 });
    await rig.service.ledger.collect("erin", []);
    const ok = await push(rig, { openId: "erin", ...ORDER });
    assert.equal(ok.status, "sent");
    assert.deepEqual((await rig.stats()).sends.erin, { "f-erin": 1 });
    assert.deepEqual(auditCredits(await readLog(rig.service.store)).unsettled, []);
  } finally {
    await rig.close();
  }
});

Deno.test("push: connection refused is transient: the credit comes back", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const rig = await startPushRig("redis", { PUSH_MAX_ATTEMPTS: "2" });
  try {
    await rig.give("fay", "f-fay");
    await rig.service.push!.tokens.get(); // the token comes from the sim
    // Point the client at a closed port by expiring nothing but swapping the base: a second
    // service instance on the same Redis with a dead WeChat base.
    const { startService } = await import("../helpers/service.ts");
    const dead = await startService({
      store: "redis",
      env: {
        WECHAT_APPID: "wx_sim_appid",
        WECHAT_SECRET: "sim_secret",
        WECHAT_API_BASE: `http://127.0.0.1:${port}`,
        LEDGER_PREFIX: rig.service.config.prefix,
        PUSH_MAX_ATTEMPTS: "2",
        PUSH_RETRY_BASE_MS: "5",
      },
    });
    try {
      const res = await fetch(`${dead.url}/v1/push`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${dead.config.adminToken}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({ openId: "fay", ...ORDER }),
      });
      const body = await res.json();
      assert.equal(body.status, "failed");
      assert.equal(body.errcode, -1003);
      assert.equal(body.class, "transient");
      assert.doesNotMatch(JSON.stringify(body), /access_token|127\.0\.0\.1/);
    } finally {
      await dead.close();
    }
    assert.equal((await rig.service.ledger.view("fay")).valid, 1);
    assert.equal((await push(rig, { openId: "fay", ...ORDER })).status, "sent");
  } finally {
    await rig.close();
  }
});

Deno.test("push: request errors (40037, 41030, 47003, 40003) fail at once, credit returned", async () => {
  const rig = await startPushRig("redis");
  try {
    await rig.give("gus", "f-gus");
    await rig.simControl("/__sim/config", { pages: ["pages/index"] });
    const cases: [Json, number][] = [
      [{ templateId: "TPL_NOPE", data: ORDER.data }, 40037],
      [{ ...ORDER, page: "pages/missing" }, 41030],
    ];
    for (const [message, errcode] of cases) {
      const result = await push(rig, { openId: "gus", ...message });
      assert.deepEqual([result.status, result.errcode, result.class, result.attempts], [
        "failed",
        errcode,
        "request",
        1,
      ]);
      assert.equal((await rig.service.ledger.view("gus")).valid, 1, `${errcode}: credit returned`);
    }
    // 47003: a subscribe message whose thing1 is longer than WeChat allows.
    await rig.give("gus", "s-gus", "subscribe", "TPL_SUB");
    const long = await push(rig, {
      openId: "gus",
      templateId: "TPL_SUB",
      data: { thing1: { value: "x".repeat(30) } },
      kind: "subscribe",
    });
    assert.deepEqual([long.status, long.errcode, long.class], ["failed", 47003, "request"]);
    assert.equal((await rig.service.ledger.view("gus")).valid, 2, "47003: credit returned");
    // 40003: a user the ledger has but WeChat does not know.
    await rig.service.ledger.collect("nobody-at-wechat", [{ formId: "f-n", kind: "form" }]);
    const unknown = await push(rig, { openId: "nobody-at-wechat", ...ORDER });
    assert.equal(unknown.errcode, 40003);
    assert.equal((await rig.service.ledger.view("nobody-at-wechat")).valid, 1);
    assert.equal((await rig.stats()).sendsAccepted, 0);
  } finally {
    await rig.close();
  }
});

Deno.test("push: quota (45009) fails with the credit returned", async () => {
  const rig = await startPushRig("redis");
  try {
    await rig.give("hal", "f-hal");
    await rig.simControl("/__sim/faults", { rate: 1, kinds: ["quota"] });
    const result = await push(rig, { openId: "hal", ...ORDER });
    assert.deepEqual([result.status, result.errcode, result.class, result.attempts], [
      "failed",
      45009,
      "quota",
      1,
    ]);
    assert.equal((await rig.service.ledger.view("hal")).valid, 1);
  } finally {
    await rig.close();
  }
});

Deno.test("push: a timeout after sending is unknown: counted spent, never sent twice", async () => {
  const rig = await startPushRig("redis", {
    WECHAT_TIMEOUT_MS: "300",
    BROADCAST_RECLAIM_MS: "1000",
  });
  try {
    await rig.give("ivy", "f-ivy-1");
    await rig.give("ivy", "f-ivy-2");
    await rig.service.push!.tokens.get();
    await rig.simControl("/__sim/faults", { rate: 1, kinds: ["timeout"], timeoutMs: 1000 });
    const result = await push(rig, { openId: "ivy", ...ORDER });
    assert.deepEqual([result.status, result.errcode, result.class, result.attempts], [
      "failed",
      -1001,
      "unknown",
      1,
    ]);
    const stats = await rig.stats();
    assert.equal(stats.sendsAccepted, 1, "WeChat did accept it");
    assert.equal((await rig.service.ledger.view("ivy")).valid, 1, "one credit spent, one left");
    const { unsettled, fates } = auditCredits(await readLog(rig.service.store));
    assert.deepEqual(unsettled, []);
    assert.deepEqual(fates, { "failed:unknown": 1 });
  } finally {
    await rig.close();
  }
});

Deno.test("push: an expired token (42001) is refreshed once and the send retried", async () => {
  const rig = await startPushRig("redis", { WECHAT_TOKEN_MODE: "classic" });
  try {
    await rig.give("jo", "f-jo-1");
    await rig.give("jo", "f-jo-2");
    assert.equal((await push(rig, { openId: "jo", ...ORDER })).status, "sent");
    await rig.simControl("/__sim/expire-token", {});
    const result = await push(rig, { openId: "jo", ...ORDER });
    assert.equal(result.status, "sent");
    assert.equal(result.attempts, 2, "the send with the expired token, then the retry");
    const stats = await rig.stats();
    assert.deepEqual(stats.tokens, { classic: 2, stable: 0 });
    assert.equal(stats.rejections["42001"], 1);
  } finally {
    await rig.close();
  }
});

Deno.test("push: validation and roles", async () => {
  const rig = await startPushRig("memory");
  try {
    const bad = await rig.call("/v1/push", { openId: "a", templateId: "T" });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_field");
    const kind = await rig.call("/v1/push", { openId: "a", ...ORDER, kind: "fax" });
    assert.equal(kind.status, 400);
    const anon = await fetch(`${rig.service.url}/v1/push`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ openId: "a", ...ORDER }),
    });
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
  } finally {
    await rig.close();
  }
});
