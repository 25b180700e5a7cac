/**
 * The event factories: each builds exactly the data the log has always held (the chain hashes
 * its canonical JSON), with optional fields absent, never `undefined`.
 */
import assert from "node:assert/strict";
import { canonicalJson } from "../../src/chain/chain.ts";
import type { Credit } from "../../src/ledger/credit_rules.ts";
import {
  formIdCollected,
  formIdConsumed,
  formIdReleased,
  type LedgerEvent,
  pushFailed,
  pushSucceeded,
} from "../../src/ledger/events.ts";

/** The data's keys, and whether they are already in canonical (sorted) order. */
function shape(event: LedgerEvent) {
  const keys = Object.keys(event.data);
  assert.equal(JSON.stringify(event.data), canonicalJson(event.data), `${event.type} is canonical`);
  return keys.sort();
}

Deno.test("formIdCollected: the credit's fields and the user; templateId only when set", () => {
  const form = formIdCollected("o", { formId: "f", kind: "form", uses: 1, expiresAt: 5 });
  assert.deepEqual(form, {
    type: "FormIdCollected",
    data: { openId: "o", formId: "f", kind: "form", uses: 1, expiresAt: 5 },
  });
  assert.deepEqual(shape(form), ["expiresAt", "formId", "kind", "openId", "uses"]);
  const sub = formIdCollected("o", {
    formId: "s",
    kind: "subscribe",
    templateId: "T",
    uses: 1,
    expiresAt: null,
  });
  assert.deepEqual(shape(sub), ["expiresAt", "formId", "kind", "openId", "templateId", "uses"]);
  assert.equal(sub.data.templateId, "T");
  const unset = formIdCollected("o", {
    formId: "f",
    kind: "form",
    templateId: undefined,
    uses: 1,
    expiresAt: null,
  });
  assert.ok(!("templateId" in unset.data), "an undefined templateId is absent");
});

Deno.test("formIdConsumed: user, credit and push", () => {
  const event = formIdConsumed("o", "p", "f");
  assert.deepEqual(event, {
    type: "FormIdConsumed",
    data: { openId: "o", formId: "f", pushId: "p" },
  });
  assert.deepEqual(shape(event), ["formId", "openId", "pushId"]);
});

Deno.test("formIdReleased: repeats kind, template and expiry, not the uses", () => {
  const credit: Credit = { formId: "f", kind: "prepay", uses: 2, expiresAt: 9 };
  const event = formIdReleased("o", "p", credit);
  assert.deepEqual(event, {
    type: "FormIdReleased",
    data: { openId: "o", formId: "f", pushId: "p", kind: "prepay", expiresAt: 9 },
  });
  assert.deepEqual(shape(event), ["expiresAt", "formId", "kind", "openId", "pushId"]);
  const sub = formIdReleased("o", "p", {
    formId: "s",
    kind: "subscribe",
    templateId: "T",
    expiresAt: null,
  });
  assert.deepEqual(shape(sub), ["expiresAt", "formId", "kind", "openId", "pushId", "templateId"]);
});

Deno.test("pushSucceeded: broadcastId and msgid only when known", () => {
  const plain = pushSucceeded({ pushId: "p", openId: "o" }, { formId: "f", templateId: "T" });
  assert.deepEqual(plain.data, { pushId: "p", openId: "o", formId: "f", templateId: "T" });
  assert.deepEqual(shape(plain), ["formId", "openId", "pushId", "templateId"]);
  const full = pushSucceeded(
    { pushId: "p", openId: "o", broadcastId: "B" },
    { formId: "f", templateId: "T", msgid: "42" },
  );
  assert.deepEqual(shape(full), [
    "broadcastId",
    "formId",
    "msgid",
    "openId",
    "pushId",
    "templateId",
  ]);
  const unset = pushSucceeded(
    { pushId: "p", openId: "o", broadcastId: undefined },
    { formId: "f", templateId: "T", msgid: undefined },
  );
  assert.deepEqual(shape(unset), ["formId", "openId", "pushId", "templateId"]);
});

Deno.test("pushFailed: the failure, with broadcastId and formId only when known", () => {
  const bare = pushFailed({ pushId: "p", openId: "o" }, {
    errcode: -1,
    errmsg: "busy",
    class: "transient",
  });
  assert.deepEqual(bare, {
    type: "PushFailed",
    data: { pushId: "p", openId: "o", errcode: -1, errmsg: "busy", class: "transient" },
  });
  assert.deepEqual(shape(bare), ["class", "errcode", "errmsg", "openId", "pushId"]);
  const full = pushFailed({ pushId: "p", openId: "o", broadcastId: "B" }, {
    formId: "f",
    errcode: 41028,
    errmsg: "spent",
    class: "spent",
  });
  assert.deepEqual(shape(full), [
    "broadcastId",
    "class",
    "errcode",
    "errmsg",
    "formId",
    "openId",
    "pushId",
  ]);
});
