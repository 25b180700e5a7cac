/**
 * The reverse-proxy configuration shipped in deploy/nginx.conf, run with the real nginx in front
 * of the real service: it closes connections whose headers or body stall (which Deno.serve
 * cannot), and passes ordinary requests through. Timeouts are shortened to keep the test fast;
 * everything else is the shipped file.
 */
import assert from "node:assert/strict";
import { freePort } from "../helpers/ports.ts";
import { startService } from "../helpers/service.ts";

/** Reads until the peer closes; the text and how long it took. */
async function readUntilClosed(conn: Deno.Conn): Promise<{ text: string; ms: number }> {
  const started = Date.now();
  let text = "";
  const buffer = new Uint8Array(4096);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch {
      break; // reset by the peer: closed too
    }
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  conn.close();
  return { text, ms: Date.now() - started };
}

Deno.test("deploy/nginx.conf: stalled headers and bodies are closed by the proxy; requests pass", async () => {
  const svc = await startService({ store: "memory" });
  const dir = await Deno.makeTempDir();
  const port = freePort();
  const shipped = await Deno.readTextFile(new URL("../../deploy/nginx.conf", import.meta.url));
  const conf = [
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log;`,
    shipped
      .replace("worker_processes auto;", "worker_processes 1;")
      .replace("listen 80;", `listen 127.0.0.1:${port};`)
      .replace("server 127.0.0.1:8000;", `server 127.0.0.1:${new URL(svc.url).port};`)
      .replace("client_header_timeout 10s;", "client_header_timeout 1s;")
      .replace("client_body_timeout 10s;", "client_body_timeout 1s;")
      .replace(
        "http {",
        `http {\n  access_log off;\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n` +
          `  fastcgi_temp_path ${dir}/fcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;`,
      ),
  ].join("\n");
  assert.match(conf, /client_header_timeout 1s;/, "the shipped file sets a header timeout");
  assert.match(conf, /client_body_timeout 1s;/, "the shipped file sets a body timeout");
  await Deno.writeTextFile(`${dir}/nginx.conf`, conf);
  const nginx = new Deno.Command("nginx", {
    args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        status = res.status;
        await res.body?.cancel();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.equal(status, 200, "an ordinary request passes through");

    const slowHeaders = await Deno.connect({ port, hostname: "127.0.0.1" });
    await slowHeaders.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
    const headers = await readUntilClosed(slowHeaders);
    assert.ok(
      headers.ms >= 900 && headers.ms < 5_000,
      `headers stalled: closed after ${headers.ms} ms`,
    );

    const slowBody = await Deno.connect({ port, hostname: "127.0.0.1" });
    await slowBody.write(new TextEncoder().encode(
      "POST /v1/credits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        'Content-Length: 200\r\n\r\n{"openId":',
    ));
    const body = await readUntilClosed(slowBody);
    assert.ok(body.ms >= 900 && body.ms < 5_000, `body stalled: closed after ${body.ms} ms`);
  } finally {
    nginx.kill("SIGTERM");
    await new Response(nginx.stderr).text();
    await nginx.status;
    await svc.close();
    await Deno.remove(dir, { recursive: true });
  }
});
