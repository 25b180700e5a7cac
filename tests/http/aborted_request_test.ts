/**
 * A client that goes away in the middle of its request body: the service logs one quiet line
 * naming the route's pattern (never a path, which may hold an openId), and keeps serving.
 */
import assert from "node:assert/strict";
import { freePort } from "../helpers/ports.ts";

const ADMIN = "admin-token-0123456789";

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`${url} never answered`);
}

Deno.test("aborted request: one quiet line without the openId, and the service keeps serving", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: { PORT: String(port), ADMIN_TOKEN: ADMIN },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${base}/healthz`);
    const openId = "oSECRETopenid0123456789abcd";
    for (const path of ["/v1/credits", `/v1/users/${openId}/credits`]) {
      const conn = await Deno.connect({ port, hostname: "127.0.0.1" });
      const partial = `{"openId":"${openId}","prepayIds":["wx`;
      await conn.write(new TextEncoder().encode(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\n` +
          `Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n${partial}`,
      ));
      await new Promise((r) => setTimeout(r, 150));
      conn.close();
    }
    await new Promise((r) => setTimeout(r, 300));
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
  } finally {
    child.kill("SIGTERM");
  }
  const [out, err] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  await child.status;
  const printed = out + err;
  assert.match(printed, /request aborted by the client: POST \/v1\/credits/);
  assert.doesNotMatch(printed, /BadResource|unhandled|Uncaught/);
  assert.doesNotMatch(printed, /oSECRETopenid/);
});
