import assert from "node:assert/strict";
import { call, login, startRig, STORES } from "../login_helpers.ts";

for (const store of STORES) {
  Deno.test(`subscriptions (${store}): one credit per accepted template, the rest counted`, async () => {
    const rig = await startRig(store);
    const url = `${rig.svc.url}/v1/subscriptions`;
    try {
      const { token, openId } = await login(rig, "alice");
      const results = {
        errMsg: "requestSubscribeMessage:ok",
        TPL_A: "accept",
        TPL_B: "reject",
        TPL_C: "ban",
        TPL_D: "filter",
        TPL_E: "accept",
      };
      const reply = await call(url, "POST", { results, reportId: "r-1" }, token);
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.body, {
        reportId: "r-1",
        accepted: 2,
        duplicates: 0,
        ignored: { reject: 1, ban: 1, filter: 1 },
      });
      // The same report again (a retry after a lost answer) adds nothing.
      const retry = await call(url, "POST", { results, reportId: "r-1" }, token);
      assert.equal(retry.body.accepted, 0);
      assert.equal(retry.body.duplicates, 2);
      // A new report for the same template is a new credit; a server-chosen id when none given.
      const next = await call(url, "POST", { results: { TPL_A: "accept" } }, token);
      assert.equal(next.body.accepted, 1);
      assert.match(next.body.reportId, /^[0-9a-f-]{36}$/);
      const view = await rig.svc.ledger.view(openId);
      const byTemplate = view.credits.map((c) => `${c.kind}:${c.templateId}:${c.expiresAt}`).sort();
      assert.deepEqual(byTemplate, [
        "subscribe:TPL_A:null",
        "subscribe:TPL_A:null",
        "subscribe:TPL_E:null",
      ]);
      // All refused: nothing appended, still a 200 with the counts.
      const head = await rig.svc.store.head();
      const none = await call(url, "POST", { results: { TPL_A: "reject" } }, token);
      assert.deepEqual(none.body.ignored, { reject: 1, ban: 0, filter: 0 });
      assert.equal(none.body.accepted, 0);
      assert.deepEqual(await rig.svc.store.head(), head);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`subscriptions (${store}): bad reports are refused whole`, async () => {
    const rig = await startRig(store);
    const url = `${rig.svc.url}/v1/subscriptions`;
    try {
      const { token } = await login(rig, "alice");
      const cases: [unknown, string][] = [
        [{}, "invalid_results"],
        [{ results: ["TPL_A"] }, "invalid_results"],
        [{ results: "accept" }, "invalid_results"],
        [{ results: { errMsg: "requestSubscribeMessage:ok" } }, "invalid_results"],
        [{ results: { TPL_A: "accept", TPL_B: "maybe" } }, "invalid_results"],
        [{ results: { TPL_A: true } }, "invalid_results"],
        [{ results: { ["x".repeat(129)]: "accept" } }, "invalid_template_id"],
        [{ results: { "": "accept" } }, "invalid_template_id"],
        [
          {
            results: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`T${i}`, "accept"])),
          },
          "invalid_results",
        ],
        [{ results: { TPL_A: "accept" }, reportId: "a b" }, "invalid_report_id"],
        [{ results: { TPL_A: "accept" }, reportId: 7 }, "invalid_report_id"],
        [{ results: { TPL_A: "accept" }, openId: "o-other" }, "unknown_field"],
      ];
      for (const [body, code] of cases) {
        const reply = await call(url, "POST", body, token);
        assert.equal(reply.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal(reply.body.error.code, code);
      }
      assert.equal((await rig.svc.store.head()).seq, 0);
      const noToken = await call(url, "POST", { results: { TPL_A: "accept" } }, null);
      assert.equal(noToken.status, 401);
    } finally {
      await rig.close();
    }
  });
}

for (const store of STORES) {
  Deno.test(`subscriptions (${store}): an uploaded formId shaped like a subscribe credit's id is refused, so no later report is taken for a duplicate`, async () => {
    const rig = await startRig(store);
    try {
      const { token } = await login(rig, "mallory");
      const upload = await call(
        `${rig.svc.url}/v1/formids`,
        "POST",
        { formIds: ["sub:r-9:TPL_A", "plain-formid-1"] },
        token,
      );
      assert.equal(upload.status, 200);
      assert.deepEqual(upload.body.rejected, [
        { formId: "sub:r-9:TPL_A", index: 0, reason: "invalid_format" },
      ]);
      const report = await call(
        `${rig.svc.url}/v1/subscriptions`,
        "POST",
        { results: { TPL_A: "accept" }, reportId: "r-9" },
        token,
      );
      assert.equal(report.body.accepted, 1, "the subscription is a new credit");
      assert.equal(report.body.duplicates, 0);
    } finally {
      await rig.close();
    }
  });
}

for (const store of STORES) {
  Deno.test(`subscriptions (${store}): SUBSCRIBE_TEMPLATES and the caps refuse per template, the rest lands`, async () => {
    const rig = await startRig(store, {
      SUBSCRIBE_TEMPLATES: "TPL_A, TPL_B,TPL_C",
      MAX_CREDITS_PER_TEMPLATE: "2",
      MAX_CREDITS_PER_USER: "4",
    });
    const url = `${rig.svc.url}/v1/subscriptions`;
    try {
      const { token, openId } = await login(rig, "alice");
      const first = await call(url, "POST", {
        results: { TPL_A: "accept", TPL_X: "accept", TPL_Y: "reject", TPL_B: "accept" },
        reportId: "r1",
      }, token);
      assert.equal(first.status, 200);
      assert.deepEqual(first.body, {
        reportId: "r1",
        accepted: 2,
        duplicates: 0,
        ignored: { reject: 1, ban: 0, filter: 0 },
        rejected: [{ templateId: "TPL_X", reason: "unknown_template" }],
      });
      await call(url, "POST", { results: { TPL_A: "accept" }, reportId: "r2" }, token);
      const head = await rig.svc.store.head();
      const full = await call(url, "POST", {
        results: { TPL_A: "accept", TPL_C: "accept", TPL_B: "accept" },
        reportId: "r3",
      }, token);
      assert.deepEqual(full.body.rejected, [
        { templateId: "TPL_A", reason: "template_full" },
        { templateId: "TPL_B", reason: "user_full" },
      ]);
      assert.equal(full.body.accepted, 1);
      assert.equal((await rig.svc.store.head()).seq, head.seq + 1);
      const view = await rig.svc.ledger.view(openId);
      assert.deepEqual(view.credits.map((c) => c.templateId).sort(), [
        "TPL_A",
        "TPL_A",
        "TPL_B",
        "TPL_C",
      ]);
    } finally {
      await rig.close();
    }
  });
}
