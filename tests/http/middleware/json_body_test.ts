import assert from "node:assert/strict";
import { Hono } from "hono";
import { jsonBodyLimit } from "../../../src/http/middleware/json_body.ts";
import { onError } from "../../../src/http/middleware/errors.ts";

/** An app whose route reads the body read ahead by jsonBodyLimit in the way `read` says. */
function appReading(read: "text" | "json" | "arrayBuffer" | "twice"): Hono {
  const app = new Hono();
  app.onError(onError);
  app.post("/", jsonBodyLimit(64), async (c) => {
    if (read === "text") return c.json({ text: await c.req.text() });
    if (read === "json") return c.json({ json: await c.req.json() });
    if (read === "twice") return c.json({ text: await c.req.text(), json: await c.req.json() });
    return c.json({ bytes: [...new Uint8Array(await c.req.arrayBuffer())] });
  });
  return app;
}

const post = (app: Hono, body: BodyInit) =>
  app.request("/", { method: "POST", body, headers: { "content-type": "application/json" } });

Deno.test("jsonBodyLimit: the body read ahead reaches the route as text, JSON and bytes", async () => {
  const body = '{"formIds":["ü-1"]}';
  assert.deepEqual(await (await post(appReading("text"), body)).json(), { text: body });
  assert.deepEqual(await (await post(appReading("json"), body)).json(), {
    json: { formIds: ["ü-1"] },
  });
  assert.deepEqual(await (await post(appReading("twice"), body)).json(), {
    text: body,
    json: { formIds: ["ü-1"] },
  });
});

Deno.test("jsonBodyLimit: bytes stay exact, text decodes as Request.text() does", async () => {
  // A BOM, an invalid UTF-8 byte and a NUL: the bytes come through unchanged, the text as the
  // platform's own Request.text() would give it.
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x22, 0xff, 0x00, 0x22]);
  const asBytes = await (await post(appReading("arrayBuffer"), bytes.slice())).json();
  assert.deepEqual(asBytes, { bytes: [...bytes] });
  const expected = await new Request("http://x/", { method: "POST", body: bytes.slice() }).text();
  const asText = await (await post(appReading("text"), bytes.slice())).json();
  assert.deepEqual(asText, { text: expected });
});

Deno.test("jsonBodyLimit: a body over the limit is 413 and never reaches the route", async () => {
  const reply = await post(appReading("text"), JSON.stringify({ pad: "x".repeat(80) }));
  assert.equal(reply.status, 413);
  assert.equal((await reply.json()).error.code, "payload_too_large");
});
