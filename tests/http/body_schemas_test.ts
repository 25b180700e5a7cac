/**
 * The zod schemas that check request bodies (and that /openapi.json describes) say what the
 * service's rules say: on random bodies, a schema refuses exactly what the rules of
 * input_rules.ts, push_input.ts and the subscriptions route's `readSettings` refuse, with the
 * same code. (zod's records skip a `__proto__`
 * key, so push_input.ts still checks `data` by hand; that case is left out of "the rules refuse
 * => the schema refuses".)
 */
import assert from "node:assert/strict";
import { prng } from "../../tools/wechat_sim.ts";
import {
  formIdProblem,
  isEpochMs,
  isLoginCode,
  isOpenId,
} from "../../src/http/middleware/input_rules.ts";
import { readMessage, readOpenId, readOpenIds } from "../../src/http/routes/push_input.ts";
import { LoginBody } from "../../src/http/schemas/sessions.ts";
import { PrepayBody } from "../../src/http/schemas/credits.ts";
import { BroadcastBody, PushBody } from "../../src/http/schemas/push.ts";
import { UploadBody } from "../../src/http/schemas/formids.ts";
import { readSettings } from "../../src/http/routes/subscriptions.ts";
import { refuseReport, ReportBody } from "../../src/http/schemas/subscriptions.ts";

const rnd = prng(Number(Deno.env.get("FUZZ_SEED") ?? 20261126));
const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const STRINGS = [
  "",
  " ",
  "a",
  "TPL_ORDER",
  "oW2x75Hb0ZqkTzYc3PdQe8LmVa1E",
  "o:abc",
  "sub:r1:T",
  "the formId is a mock one",
  "line\nbreak",
  "\u0000",
  "中文",
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(128),
  "x".repeat(129),
  "y".repeat(2001),
];
const NUMBERS = [0, -1, 1.5, 1_795_000_000_000, 253_402_300_799_999, 253_402_300_800_000, 2 ** 53];
const value = (depth = 0): unknown => {
  switch (Math.floor(rnd() * (depth > 2 ? 4 : 7))) {
    case 0:
      return pick(STRINGS);
    case 1:
      return pick(NUMBERS);
    case 2:
      return pick([true, false, null, undefined]);
    case 3:
      return pick(["auto", "template", "subscribe", "formal", "trial", "zh_CN", "prepay"]);
    case 4:
      return Array.from(
        { length: pick(depth === 0 ? [0, 1, 2, 101] : [0, 1, 2]) },
        () => value(depth + 1),
      );
    default: {
      const entries = Array.from(
        { length: pick(depth === 0 ? [0, 1, 2, 51] : [0, 1, 2]) },
        (_, i) => [
          pick([`k${i}`, "value", "__proto__", "x".repeat(65)]),
          rnd() < 0.5 ? { value: pick(STRINGS) } : value(depth + 1),
        ],
      );
      return Object.fromEntries(entries);
    }
  }
};
/** A body with some of `fields`, each a random or a plausible value. */
const body = (fields: Record<string, () => unknown>) => {
  const out: Record<string, unknown> = {};
  for (const [name, plausible] of Object.entries(fields)) {
    const v = rnd() < 0.6 ? plausible() : value();
    if (v !== undefined) out[name] = v;
  }
  // As JSON.parse would hand it over (a `__proto__` key an own property).
  return JSON.parse(JSON.stringify(out));
};
const refusedBy = (rule: () => unknown) => {
  try {
    rule();
    return false;
  } catch {
    return true;
  }
};
const hasProtoKey = (b: Record<string, unknown>) =>
  typeof b.data === "object" && b.data !== null && Object.hasOwn(b.data, "__proto__");
const message = () => ({ thing1: { value: pick(STRINGS) } });

Deno.test("push and broadcast bodies: the schema refuses what push_input.ts refuses", () => {
  const fields = {
    openId: () => pick(STRINGS),
    templateId: () => pick(STRINGS),
    data: message,
    kind: () => pick(["auto", "template", "subscribe", "other", null]),
    page: () => pick(STRINGS),
    lang: () => pick(["zh_CN", "en_US", "fr"]),
  };
  for (let i = 0; i < 5_000; i++) {
    const b = body(fields);
    const rules = refusedBy(() => (readOpenId(b), readMessage(b)));
    const schema = !PushBody.safeParse(b).success;
    const where = JSON.stringify(b).slice(0, 300);
    if (schema) assert.ok(rules, `the schema refuses what the rules take: ${where}`);
    if (rules && !hasProtoKey(b)) {
      assert.ok(schema, `the schema takes what the rules refuse: ${where}`);
    }
    const { openId: _, ...broadcast } = b;
    broadcast.openIds = rnd() < 0.5 ? [pick(STRINGS)] : value();
    if (broadcast.openIds === undefined) delete broadcast.openIds;
    const bRules = refusedBy(() => (readMessage(broadcast), readOpenIds(broadcast)));
    const bSchema = !BroadcastBody.safeParse(broadcast).success;
    if (bSchema) assert.ok(bRules, `broadcast: ${JSON.stringify(broadcast).slice(0, 300)}`);
    if (bRules && !hasProtoKey(broadcast)) assert.ok(bSchema, `broadcast: ${where}`);
  }
});

Deno.test("prepay, login and upload bodies: the schema's first problem is the rules' first", () => {
  for (let i = 0; i < 5_000; i++) {
    const b = body({
      openId: () => pick(STRINGS),
      kind: () => "prepay",
      id: () => pick(STRINGS),
      collectedAt: () => pick(NUMBERS),
    });
    // The order the route checked them in, by hand, before the schema.
    const expected = !isOpenId(b.openId)
      ? "openId"
      : b.kind !== "prepay"
      ? "kind"
      : typeof b.id !== "string" || formIdProblem(b.id) !== null
      ? "id"
      : b.collectedAt !== undefined && !isEpochMs(b.collectedAt)
      ? "collectedAt"
      : null;
    const checked = PrepayBody.safeParse(b);
    assert.equal(
      checked.success ? null : checked.error.issues[0].path[0],
      expected,
      JSON.stringify(b),
    );

    const login = body({ code: () => pick(STRINGS) });
    assert.equal(
      LoginBody.safeParse(login).success,
      isLoginCode(login.code),
      JSON.stringify(login),
    );

    const upload = body({
      formIds: () => Array.from({ length: pick([0, 1, 100, 101]) }, () => value(3)),
    });
    const listOk = Array.isArray(upload.formIds) && upload.formIds.length >= 1 &&
      upload.formIds.length <= 100;
    assert.equal(UploadBody.safeParse(upload).success, listOk);
  }
});

Deno.test("report settings: the schema refuses what readSettings refuses, in its words", () => {
  const choice = () => pick(["accept", "reject", "ban", "filter", "acceptWithAudio", 1, null]);
  const id = () => pick(["TPL_A", "x".repeat(128), "x".repeat(129), "", "中文", "__proto__"]);
  const kept = () =>
    rnd() < 0.1
      ? Object.fromEntries(
        Array.from({ length: 101 }, (_, i) => [`T${i}`, i ? "accept" : choice()]),
      )
      : Object.fromEntries(Array.from({ length: pick([0, 1, 2, 3]) }, () => [id(), choice()]));
  for (let i = 0; i < 3_000; i++) {
    const settings = rnd() < 0.8
      ? body({ mainSwitch: () => pick([true, false]), itemSettings: kept, other: () => "x" })
      : value() ?? null;
    // As JSON.parse would hand it over (a `__proto__` key an own property).
    const report = JSON.parse(JSON.stringify({ results: { TPL_A: "accept" }, settings }));
    let rules: Error | null = null;
    try {
      readSettings(report.settings);
    } catch (err) {
      rules = err as Error;
    }
    const checked = ReportBody.safeParse(report);
    const where = JSON.stringify(report.settings).slice(0, 300);
    const kept_ = report.settings?.itemSettings;
    const protoKey = typeof kept_ === "object" && kept_ !== null &&
      Object.hasOwn(kept_, "__proto__");
    if (!checked.success) {
      assert.ok(rules, `the schema refuses what readSettings takes: ${where}`);
      const refusal = refuseReport(checked.error.issues[0]);
      assert.equal(refusal.code, "invalid_settings", where);
      assert.equal(refusal.message, rules.message, where);
    }
    if (rules && !protoKey) {
      assert.ok(!checked.success, `the schema takes what it refuses: ${where}`);
    }
  }
});
