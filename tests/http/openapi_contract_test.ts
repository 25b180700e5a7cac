/**
 * The OpenAPI description against the running service, on both stores with the WeChat
 * simulator: `/openapi.json` is a valid OpenAPI 3.1 document; every route the app mounts is
 * described and every described route is mounted; every example (request, answer, error)
 * validates against its schema; every example request, sent to the service (with a live login
 * code, openId and broadcast id in place of the examples'), gets the documented success status
 * and an answer that validates against the documented schema; and refusals the test can cause on
 * every route (no token, an unknown field) are documented with their status and code. WeChat's
 * event push examples are replayed as WeChat would send them now (openapi_wechat_push.ts).
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { validate as validateOpenApi } from "@hyperjump/json-schema/openapi-3-1";
import {
  EXAMPLE_BROADCAST_ID,
  EXAMPLE_LOGIN_CODE,
  EXAMPLE_OPEN_ID,
} from "../../src/http/schemas/common.ts";
import { MAX_FORM_IDS } from "../../src/http/routes/formids.ts";
import { MAX_LISTED_USERS } from "../../src/http/routes/push_input.ts";
import { EXAMPLE_PUSH_SETTINGS } from "../../src/http/schemas/wechat_events.ts";
import { signPush } from "../../src/wechat/event_push/signature.ts";
import { readEncrypt } from "../../src/wechat/event_push/parse.ts";
import { ADMIN, AUDITOR, login, type Rig, simCode, startRig, STORES } from "./login_helpers.ts";
import {
  exampleEvent,
  formatOf,
  PUSH_OPERATIONS,
  pushExamples,
  replayPush,
  WALK_PUSH_ENV,
} from "./openapi_wechat_push.ts";

// deno-lint-ignore no-explicit-any
type Json = any;
type Operation = { method: string; path: string; op: Json };

const ajv = new Ajv2020({ strict: false, allErrors: true });

/** Every operation of the description. */
function operations(spec: Json): Operation[] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item as Json).map(([method, op]) => ({ method: method.toUpperCase(), path, op }))
  );
}

/** Asserts `value` validates against `schema`; `where` names it in the failure. */
function assertValid(schema: Json, value: unknown, where: string): void {
  const check = ajv.compile(schema);
  assert.ok(check(value), `${where}: ${JSON.stringify(check.errors)} in ${JSON.stringify(value)}`);
}

/** The live values in place of the examples' (a fresh login code on every call). */
interface Live {
  rig: Rig;
  openId: string;
  session: string;
  broadcastId: string | null;
}

async function substitute(value: unknown, live: Live): Promise<string> {
  let text = JSON.stringify(value);
  if (text.includes(EXAMPLE_LOGIN_CODE)) {
    text = text.replaceAll(EXAMPLE_LOGIN_CODE, (await simCode(live.rig.sim, "carol")).code);
  }
  text = text.replaceAll(EXAMPLE_OPEN_ID, live.openId);
  if (live.broadcastId) text = text.replaceAll(EXAMPLE_BROADCAST_ID, live.broadcastId);
  return text;
}

/** The bearer token an operation's security asks for. */
function tokenFor(op: Json, live: Live): string | null {
  const schemes = (op.security ?? []).flatMap((s: Json) => Object.keys(s));
  if (schemes.includes("sessionToken")) return live.session;
  if (schemes.includes("adminToken")) return ADMIN;
  if (schemes.includes("auditToken")) return AUDITOR;
  return null;
}

/** Sends one example request; answers the response and its text. */
async function send(
  { method, path, op }: Operation,
  body: unknown,
  live: Live,
  accept = "application/json",
): Promise<{ res: Response; text: string }> {
  const query = new URLSearchParams();
  const headers: Record<string, string> = { accept };
  let url = path;
  for (const p of op.parameters ?? []) {
    if (p.example === undefined) continue;
    const value = JSON.parse(await substitute(p.example, live));
    if (p.in === "path") url = url.replace(`{${p.name}}`, encodeURIComponent(String(value)));
    if (p.in === "query") query.set(p.name, String(value));
    if (p.in === "header") headers[p.name] = `${value}-${crypto.randomUUID()}`;
  }
  const token = tokenFor(op, live);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${live.rig.svc.url}${url}${query.size ? `?${query}` : ""}`, {
    method,
    headers,
    body: body === undefined ? undefined : await substitute(body, live),
  });
  return { res, text: await res.text() };
}

/** Asserts an answer is documented: its status, and its body by the schema of its media type. */
function assertDocumented(operation: Operation, res: Response, text: string, where: string) {
  const documented = operation.op.responses[String(res.status)];
  assert.ok(documented, `${where}: status ${res.status} is not documented (${text.slice(0, 200)})`);
  const type = (res.headers.get("content-type") ?? "").split(";")[0];
  const media = documented.content?.[type];
  assert.ok(media, `${where}: ${res.status} ${type} is not documented`);
  if (type === "application/json") assertValid(media.schema, JSON.parse(text), where);
  else assertValid(media.schema, text, where);
}

/** The order the walk calls the operations in: logins and credits before they are spent. */
const ORDER = [
  "health",
  "syncTemplates",
  "listTemplates",
  "createSession",
  "uploadFormIds",
  "reportSubscriptions",
  "getMyCredits",
  "addPrepayCredit",
  "getUserCredits",
  "push",
  "createBroadcast",
  "getBroadcast",
  "wechatUrlCheck",
  "wechatEvent",
  "listEvents",
  "getCheckpoint",
  "verifyChain",
  "openapi",
  "docs",
  "docsAsset",
];

/** Refusals the walk causes by changing an operation's first example, each with its code. */
const TOO_LONG = {
  data: { thing1: { value: "x".repeat(21) }, time2: { value: "2026-11-26 16:30" } },
};
const CAUSED: Record<string, { change: Json; status: number; code: string }[]> = {
  reportSubscriptions: [
    { change: { settings: { mainSwitch: "on" } }, status: 400, code: "invalid_settings" },
  ],
  push: [
    { change: TOO_LONG, status: 422, code: "invalid_message_data" },
    {
      change: { kind: "subscribe", templateId: "TPL_GONE" },
      status: 422,
      code: "unknown_template",
    },
  ],
  createBroadcast: [{ change: TOO_LONG, status: 422, code: "invalid_message_data" }],
};

async function fetchSpec(rig: Rig): Promise<Json> {
  const res = await fetch(`${rig.svc.url}/openapi.json`);
  assert.equal(res.status, 200);
  return await res.json();
}

Deno.test("openapi: a valid OpenAPI 3.1 document; mounted and described routes are the same", async () => {
  const rig = await startRig("memory");
  try {
    const spec = await fetchSpec(rig);
    assert.equal(spec.openapi, "3.1.0");
    const check = await validateOpenApi("https://spec.openapis.org/oas/3.1/schema-base", spec);
    assert.ok(check.valid, JSON.stringify(check));
    const mounted = new Set(
      rig.svc.app.routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const described = new Set(operations(spec).map((o) => `${o.method} ${o.path}`));
    assert.deepEqual([...mounted].filter((r) => !described.has(r)), [], "mounted, not described");
    assert.deepEqual([...described].filter((r) => !mounted.has(r)), [], "described, not mounted");
    assert.deepEqual(
      operations(spec).map((o) => o.op.operationId).filter((id) => !ORDER.includes(id)),
      [],
      "operations the walk below does not call",
    );
    // The bounds the routes apply are the ones described.
    const body = (path: string) =>
      spec.paths[path].post.requestBody.content["application/json"].schema.properties;
    assert.equal(body("/v1/formids").formIds.maxItems, MAX_FORM_IDS);
    assert.equal(body("/v1/broadcasts").openIds.maxItems, MAX_LISTED_USERS);
  } finally {
    await rig.close();
  }
});

Deno.test("openapi: every example validates against its schema; every error code is described", async () => {
  const rig = await startRig("memory");
  try {
    const spec = await fetchSpec(rig);
    const documentedCodes = new Set<string>();
    for (const { method, path, op } of operations(spec)) {
      const where = `${method} ${path}`;
      assert.ok(op.summary && op.operationId, `${where}: a summary and an operationId`);
      for (const [type, media] of Object.entries<Json>(op.requestBody?.content ?? {})) {
        const examples = Object.values<Json>(media.examples ?? {});
        assert.ok(examples.length > 0, `${where}: a request example (${type})`);
        for (const e of examples) assertValid(media.schema, e.value, `${where} request`);
      }
      assert.ok(op.responses["500"], `${where}: 500 internal is described`);
      for (const [status, response] of Object.entries<Json>(op.responses)) {
        for (const [type, media] of Object.entries<Json>(response.content ?? {})) {
          const examples = media.examples
            ? Object.values<Json>(media.examples).map((e) => e.value)
            : [media.example];
          assert.ok(examples[0] !== undefined, `${where} ${status} ${type}: an example`);
          for (const value of examples) {
            if (type === "application/json") assertValid(media.schema, value, `${where} ${status}`);
            if (value?.error?.code) documentedCodes.add(value.error.code);
          }
        }
      }
    }
    // Every code of the README's error table is one some route describes (the table itself is
    // checked against the source by tests/dev/error_codes_test.ts); `unreadable_entry` ends an
    // NDJSON export and is told in that operation's description.
    const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
    const table = readme.slice(readme.indexOf("### Error codes"));
    const codes = [...table.matchAll(/^\| \d{3}\s+\| `([a-z_]+)`/gm)].map((m) => m[1]);
    assert.ok(codes.length >= 30);
    const missing = codes.filter((c) => !documentedCodes.has(c) && c !== "unreadable_entry");
    assert.deepEqual(missing, [], "error codes no operation describes");
    // WeChat's push examples are real pushes: the query's signatures are the example Token's
    // over the JSON example's `Encrypt`, and each example decrypts to a subscribe event.
    const pushOp = spec.paths["/v1/wechat/events"].post;
    const param = (name: string) => pushOp.parameters.find((p: Json) => p.name === name).example;
    const [[, jsonExample]] = pushExamples(pushOp);
    const signed = [EXAMPLE_PUSH_SETTINGS.token, param("timestamp"), param("nonce")];
    assert.equal(param("signature"), signPush(signed));
    assert.equal(param("msg_signature"), signPush([...signed, readEncrypt(jsonExample!)]));
    for (const [type, body] of pushExamples(pushOp)) {
      assert.equal(formatOf(type), body!.startsWith("<") ? "xml" : "json", type);
      assert.equal(exampleEvent(body!).event.event, "subscribe_msg_popup_event");
    }
  } finally {
    await rig.close();
  }
});

for (const store of STORES) {
  Deno.test(`openapi (${store}): every example request gets its documented answer`, async () => {
    const rig = await startRig(store, WALK_PUSH_ENV);
    // The push URL takes one body format; the XML examples go to a second service set for XML.
    let xmlRig: Rig | null = null;
    try {
      const spec = await fetchSpec(rig);
      const alice = await login(rig, "alice");
      const live: Live = { rig, ...alice, session: alice.token, broadcastId: null };
      // What WeChat would know: the example formIds and prepay_id, a grant for the template.
      const sim = (path: string, body: unknown) =>
        fetch(`${rig.sim.url}/__sim/${path}`, { method: "POST", body: JSON.stringify(body) })
          .then((r) => r.body?.cancel());
      await sim("credits", [
        { openid: alice.openId, id: "form-0001", kind: "form" },
        { openid: alice.openId, id: "form-0002", kind: "form" },
        { openid: alice.openId, id: "wx26083000123456789abcdef0", kind: "prepay" },
      ]);
      await sim("grants", [{ openid: alice.openId, templateId: "TPL_ORDER", count: 2 }]);
      // The account's template, as the examples fill it (synced by the walk's syncTemplates).
      await sim("templates", {
        templates: [{
          id: "TPL_ORDER",
          title: "订单发货通知",
          type: 2,
          keywords: [{ key: "thing1", label: "商品名称" }, { key: "time2", label: "发货时间" }],
        }],
      });
      const ops = operations(spec).sort((a, b) =>
        ORDER.indexOf(a.op.operationId) - ORDER.indexOf(b.op.operationId)
      );
      const statuses: string[] = [];
      for (const operation of ops) {
        const { method, path, op } = operation;
        const success = Object.keys(op.responses).find((s) => s.startsWith("2"))!;
        const media = op.requestBody?.content?.["application/json"];
        const bodies = media
          ? Object.values<Json>(media.examples).map((e) => e.value)
          : [undefined];
        if (PUSH_OPERATIONS.includes(op.operationId)) {
          // WeChat's push URL: each example as WeChat would send it now, in its format.
          for (const [type, body] of pushExamples(op)) {
            const where = `${store}: ${method} ${path} ${type}`;
            const target = formatOf(type) === "xml"
              ? xmlRig ??= await startRig(store, { ...WALK_PUSH_ENV, WECHAT_PUSH_FORMAT: "xml" })
              : rig;
            const { res, text } = await replayPush(op, type, body, target, alice.openId);
            assert.equal(String(res.status), success, `${where}: ${text.slice(0, 300)}`);
            assertDocumented(operation, res, text, where);
            const echostr = op.parameters.find((p: Json) => p.name === "echostr")?.example;
            assert.equal(text, body === undefined ? echostr : "success", where);
            statuses.push(`${op.operationId} ${res.status}`);
          }
          // A body without `Encrypt` under the stale example signature: refused as documented.
          if (media) {
            const { res, text } = await send(operation, { nonsense: 1 }, live);
            assertDocumented(operation, res, text, `${method} ${path} unsigned`);
            assert.deepEqual([res.status, JSON.parse(text).error.code], [400, "malformed"]);
          }
          continue;
        }
        for (const body of bodies) {
          const where = `${store}: ${method} ${path}`;
          const { res, text } = await send(operation, body, live);
          assert.equal(String(res.status), success, `${where}: ${text.slice(0, 300)}`);
          assertDocumented(operation, res, text, where);
          statuses.push(`${op.operationId} ${res.status}`);
          if (op.operationId === "createBroadcast") live.broadcastId = JSON.parse(text).broadcastId;
          if (op.operationId === "push") {
            assert.equal(JSON.parse(text).status, "sent", `${where}: ${text}`);
          }
        }
        // The NDJSON export: each line is an event as the JSON page describes it.
        if (op.operationId === "listEvents") {
          const { res, text } = await send(operation, undefined, live, "application/x-ndjson");
          assertDocumented(operation, res, text, `${store}: NDJSON export`);
          const event = op.responses["200"].content["application/json"].schema.properties.events
            .items;
          const lines = text.split("\n").filter((l) => l !== "");
          assert.ok(lines.length >= 5, `the walk's events are exported (${lines.length})`);
          for (const line of lines) assertValid(event, JSON.parse(line), "an NDJSON line");
        }
        // Refusals made from the first example, with their details, as documented.
        for (const { change, status, code } of CAUSED[op.operationId] ?? []) {
          const where = `${store}: ${method} ${path} refused ${code}`;
          const { res, text } = await send(operation, { ...bodies[0], ...change }, live);
          assert.equal(res.status, status, `${where}: ${text.slice(0, 300)}`);
          assertDocumented(operation, res, text, where);
          const { error } = JSON.parse(text);
          assert.equal(error.code, code, where);
          if (code === "invalid_message_data") {
            assert.deepEqual(error.problems, [{
              key: "thing1",
              reason: "21 characters, at most 20",
            }]);
          }
        }
        // Refusals every route can give, as documented: no token, and an unknown field.
        if (tokenFor(op, live)) {
          const res = await fetch(`${rig.svc.url}${path.replace(/\{\w+\}/g, "x1")}`, { method });
          const text = await res.text();
          assert.equal(res.status, 401, `${method} ${path} without a token`);
          assertDocumented(operation, res, text, `${method} ${path} without a token`);
          assert.equal(JSON.parse(text).error.code, "unauthorized");
        }
        if (media) {
          const { res, text } = await send(operation, { nonsense: 1 }, live);
          assert.equal(res.status, 400);
          assertDocumented(operation, res, text, `${method} ${path} with an unknown field`);
          assert.equal(JSON.parse(text).error.code, "unknown_field");
        }
      }
      assert.ok(statuses.length >= ORDER.length, statuses.join(", "));
    } finally {
      await xmlRig?.close();
      await rig.close();
    }
  });
}
