/**
 * The keep-alive HTTP/1.1 pool against real sockets: a raw TCP server that answers exactly the
 * bytes each case needs (split reads, chunked bodies, interim answers, closes at every point),
 * a real `Deno.serve` over TLS with a test-only certificate, and a port nobody listens on.
 */
import assert from "node:assert/strict";
import { parseAnswer } from "../../src/shared/http1_answer.ts";
import { Http1Pool, PostError } from "../../src/shared/http1_pool.ts";
import { rawServer } from "../helpers/raw_server.ts";
import { freePort } from "../helpers/redis_server.ts";

const encoder = new TextEncoder();
const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

const write = (conn: Deno.Conn, text: string) => conn.write(encoder.encode(text));
const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${
    encoder.encode(body).length
  }\r\n${extra}\r\n${body}`;

Deno.test("http1 pool: sequential posts share one keep-alive connection; the request is exact", async () => {
  const server = rawServer((conn, _r, i) => write(conn, ok(`{"n":${i}}`)).then(() => {}));
  const pool = new Http1Pool({ maxIdle: 4 });
  try {
    for (let i = 0; i < 5; i++) {
      const answer = await pool.post(
        `${server.url}/cgi-bin/x?access_token=t%2B1`,
        `{"i":${i}}`,
        2_000,
      );
      assert.deepEqual(answer, { status: 200, body: `{"n":${i}}` });
    }
    assert.equal(server.connections(), 1);
    const [head, body] = server.requests[0].split("\r\n\r\n");
    const lines = head.split("\r\n");
    assert.equal(lines[0], "POST /cgi-bin/x?access_token=t%2B1 HTTP/1.1");
    assert.ok(lines.includes(`Host: ${new URL(server.url).host}`));
    assert.ok(lines.includes("Content-Type: application/json"));
    assert.ok(lines.includes("Content-Length: 7"));
    assert.equal(body, `{"i":0}`);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("http1 pool: concurrent posts open up to one connection each, then reuse them", async () => {
  const server = rawServer(async (conn, _r, i) => {
    await new Promise((r) => setTimeout(r, 20));
    await write(conn, ok(`{"n":${i}}`));
  });
  const pool = new Http1Pool({ maxIdle: 8 });
  try {
    const round = () =>
      Promise.all(Array.from({ length: 8 }, () => pool.post(`${server.url}/p`, "{}", 2_000)));
    const first = await round();
    assert.equal(first.length, 8);
    assert.equal(server.connections(), 8);
    await round();
    assert.equal(server.connections(), 8, "the second round reuses the idle connections");
    assert.equal(pool.connections, 8);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("http1 pool: answers split across reads, chunked bodies, interim answers", async () => {
  const server = rawServer(async (conn, _r, i) => {
    if (i === 0) { // split mid-header and mid-body
      const whole = ok(`{"errcode":0,"msgid":12345678901234567}`);
      for (const part of [whole.slice(0, 10), whole.slice(10, 50), whole.slice(50)]) {
        await write(conn, part);
        await new Promise((r) => setTimeout(r, 5));
      }
    } else if (i === 1) { // chunked, with an extension and a trailer, in pieces
      await write(conn, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\n{"a":');
      await new Promise((r) => setTimeout(r, 5));
      await write(conn, '\r\n3\r\n"b"\r\n1\r\n}\r\n0\r\nX-Trailer: 1\r\n\r\n');
    } else if (i === 2) { // an interim answer first
      await write(conn, "HTTP/1.1 100 Continue\r\n\r\n" + ok(`{"c":1}`));
    } else {
      await write(conn, ok(`{"d":"多字节"}`));
    }
  });
  const pool = new Http1Pool({ maxIdle: 2 });
  try {
    const post = () => pool.post(`${server.url}/p`, "{}", 2_000);
    assert.equal((await post()).body, `{"errcode":0,"msgid":12345678901234567}`);
    assert.equal((await post()).body, `{"a":"b"}`);
    assert.deepEqual(await post(), { status: 200, body: `{"c":1}` });
    assert.equal((await post()).body, `{"d":"多字节"}`);
    assert.equal(server.connections(), 1, "every framing left the connection reusable");
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("http1 pool: Connection: close and close-delimited answers are not reused", async () => {
  const server = rawServer(async (conn, _r, i) => {
    if (i === 0) await write(conn, ok(`{"a":1}`, "Connection: close\r\n"));
    else if (i === 1) {
      await write(conn, `HTTP/1.1 500 Internal Server Error\r\n\r\nno length`);
      conn.close();
    } else await write(conn, ok(`{"c":3}`));
  });
  const pool = new Http1Pool({ maxIdle: 2 });
  try {
    assert.equal((await pool.post(`${server.url}/p`, "{}", 2_000)).body, `{"a":1}`);
    assert.deepEqual(await pool.post(`${server.url}/p`, "{}", 2_000), {
      status: 500,
      body: "no length",
    });
    assert.equal((await pool.post(`${server.url}/p`, "{}", 2_000)).body, `{"c":3}`);
    assert.equal(server.connections(), 3);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("http1 pool: a connection the server closes while idle is never handed out", async () => {
  const server = rawServer(async (conn) => {
    await write(conn, ok(`{}`));
    setTimeout(() => { // the server's keep-alive ends
      try {
        conn.close();
      } catch { /* the pool closed first */ }
    }, 10);
  });
  const pool = new Http1Pool({ maxIdle: 2 });
  try {
    await pool.post(`${server.url}/p`, "{}", 2_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(pool.connections, 0, "the idle read saw the close");
    assert.deepEqual(await pool.post(`${server.url}/p`, "{}", 2_000), { status: 200, body: "{}" });
    assert.equal(server.connections(), 2);
  } finally {
    await pool.close();
    await server.close();
  }
});

Deno.test("http1 pool: failures say whether the request may have been sent", async (t) => {
  await t.step("nobody listening: connect, not sent", async () => {
    const pool = new Http1Pool({ maxIdle: 1 });
    const err = await pool.post(`http://127.0.0.1:${freePort()}/p`, "{}", 2_000).catch((e) => e);
    assert.ok(err instanceof PostError);
    assert.equal(err.kind, "connect");
    assert.equal(err.sent, false);
    assert.equal(err.message, "connection refused");
    await pool.close();
  });
  await t.step("no answer in time: timeout, sent", async () => {
    const server = rawServer(() => new Promise(() => {}));
    const pool = new Http1Pool({ maxIdle: 1 });
    const err = await pool.post(`${server.url}/p?access_token=SECRET`, "{}", 100).catch((e) => e);
    assert.ok(err instanceof PostError);
    assert.equal(err.kind, "timeout");
    assert.equal(err.sent, true);
    assert.ok(!String(err.message).includes("SECRET"));
    assert.equal(pool.connections, 0, "a timed-out connection is closed");
    await pool.close();
    await server.close();
  });
  await t.step("closed mid-answer: broken, sent", async () => {
    const server = rawServer(async (conn) => {
      await write(conn, 'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"errc');
      conn.close();
    });
    const pool = new Http1Pool({ maxIdle: 1 });
    const err = await pool.post(`${server.url}/p`, "{}", 2_000).catch((e) => e);
    assert.ok(err instanceof PostError);
    assert.equal(err.kind, "broken");
    assert.equal(err.sent, true);
    await pool.close();
    await server.close();
  });
  await t.step("not HTTP: broken, sent", async () => {
    const server = rawServer((conn) => write(conn, "SSH-2.0-nope\r\n\r\n").then(() => {}));
    const pool = new Http1Pool({ maxIdle: 1 });
    const err = await pool.post(`${server.url}/p`, "{}", 2_000).catch((e) => e);
    assert.ok(err instanceof PostError);
    assert.equal(err.kind, "broken");
    await pool.close();
    await server.close();
  });
  await t.step("a closed pool: not sent", async () => {
    const pool = new Http1Pool({ maxIdle: 1 });
    await pool.close();
    const err = await pool.post(`http://127.0.0.1:1/p`, "{}", 100).catch((e) => e);
    assert.equal(err.sent, false);
  });
});

Deno.test("http1 pool: HTTPS to a real Deno.serve, verified against the test CA", async () => {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: fixture("test_only_localhost.crt"),
    key: fixture("test_only_localhost.key"),
    onListen() {},
  }, async (req) => Response.json({ echo: await req.json(), url: new URL(req.url).search }));
  const url = `https://localhost:${server.addr.port}/cgi-bin/x?access_token=abc`;
  try {
    const pool = new Http1Pool({ maxIdle: 2, caCerts: [fixture("test_only_ca.crt")] });
    for (let i = 0; i < 3; i++) {
      const answer = await pool.post(url, `{"i":${i}}`, 5_000);
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.body), { echo: { i }, url: "?access_token=abc" });
    }
    assert.equal(pool.connections, 1, "one TLS connection kept alive");
    await pool.close();

    // Without the test CA the certificate is refused, before anything is sent.
    const strict = new Http1Pool({ maxIdle: 1 });
    const err = await strict.post(url, "{}", 5_000).catch((e) => e);
    assert.ok(err instanceof PostError);
    assert.equal(err.sent, false);
    await strict.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("parseAnswer: incomplete, whole and malformed answers", () => {
  const p = (text: string, eof = false) => parseAnswer(encoder.encode(text), eof);
  assert.equal(p("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}"), "more");
  assert.equal(p("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n{}", true), "bad");
  assert.equal(p("HTTP/1.1 200 OK\r\nContent-Le"), "more");
  assert.equal(p("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), "bad");
  assert.deepEqual(p("HTTP/1.1 204 No Content\r\n\r\n"), { status: 204, body: "", reusable: true });
  assert.deepEqual(p("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}"), {
    status: 200,
    body: "{}",
    reusable: false,
  });
  assert.deepEqual(p("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}extra"), {
    status: 200,
    body: "{}",
    reusable: false,
  });
  assert.equal(p("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), "bad");
  assert.equal(p("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"), "more");
});
