/**
 * The simulator's pusher over real HTTP: a server that answers pushes through openPush the way
 * the route will (echo the URL check, `success` for a message or a replay, an error otherwise,
 * release the replay key when processing fails), WeChat's retries and duplicates, and the CLI.
 */
import assert from "node:assert/strict";
import type { PushMessage } from "../../../src/wechat/event_push/events.ts";
import { openPush, type PushMode } from "../../../src/wechat/event_push/open.ts";
import type { BodyFormat } from "../../../src/wechat/event_push/parse.ts";
import { MemoryReplayGuard } from "../../../src/wechat/event_push/replay.ts";
import {
  main,
  postPush,
  signedPush,
  type SimEvent,
  verificationQuery,
} from "../../../tools/wechat_sim_events.ts";

const TOKEN = "simToken42";
const KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const APPID = "wx_sim_appid";

/** A push endpoint on a free port; `failNext` makes that many processed pushes fail (HTTP 500). */
async function withEndpoint(
  mode: PushMode,
  fn: (ep: { url: string; received: PushMessage[]; fail(n: number): void }) => Promise<void>,
) {
  const guard = new MemoryReplayGuard();
  const received: PushMessage[] = [];
  let failNext = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const outcome = await openPush({
      method: req.method,
      query: url.searchParams,
      body: await req.text(),
      config: { token: TOKEN, appid: APPID, mode, encodingAESKey: KEY },
      guard,
    });
    if (outcome.kind === "echo") return new Response(outcome.echostr);
    if (outcome.kind === "message") {
      if (failNext > 0) {
        failNext--;
        await guard.release(outcome.replayKey);
        return new Response("ledger unavailable", { status: 500 });
      }
      received.push(outcome.message);
      return new Response("success");
    }
    // Already processed: answer as WeChat wants, so that it stops retrying.
    if (outcome.error.code === "replayed") return new Response("success");
    const status = outcome.error.code === "malformed" ? 400 : 401;
    return Response.json({ error: { code: outcome.error.code, message: outcome.error.message } }, {
      status,
    });
  });
  try {
    await fn({
      url: `http://127.0.0.1:${server.addr.port}/wechat/events`,
      received,
      fail: (n) => failNext = n,
    });
  } finally {
    await server.shutdown();
  }
}

const EVENT: SimEvent = {
  event: "subscribe_msg_popup_event",
  items: [
    { templateId: "TPL_SUB", status: "accept", popupScene: "0" },
    { templateId: "TPL_ORDER", status: "acceptWithAudio", popupScene: "0" },
  ],
};

const settings = (mode: PushMode, format: BodyFormat) => ({
  token: TOKEN,
  appid: APPID,
  mode,
  format,
  encodingAESKey: KEY,
});

Deno.test("sim: URL check, then each mode and format delivered once over HTTP", async () => {
  for (const mode of ["plain", "compatible", "safe"] as const) {
    await withEndpoint(mode, async ({ url, received }) => {
      const check = await fetch(`${url}?${verificationQuery(TOKEN, { echostr: "e-123" })}`);
      assert.equal(await check.text(), "e-123");
      for (const format of ["xml", "json"] as const) {
        const push = signedPush(EVENT, { openId: `o_${format}` }, settings(mode, format));
        const attempts = await postPush(url, push);
        assert.deepEqual(attempts, [{ status: 200, body: "success" }]);
      }
      assert.deepEqual(
        received.map((m) => m.event === "subscribe_msg_popup_event" && [m.openId, m.items]),
        [["o_xml", EVENT.items], ["o_json", EVENT.items]],
      );
    });
  }
});

Deno.test("sim: duplicates are answered success but processed once", async () => {
  await withEndpoint("safe", async ({ url, received }) => {
    const push = signedPush(EVENT, { openId: "o1" }, settings("safe", "xml"));
    const attempts = await postPush(url, push, { duplicates: 2 });
    assert.deepEqual(attempts.map((a) => a.status), [200, 200, 200]);
    assert.equal(received.length, 1);
  });
});

Deno.test("sim: retries after failures deliver once; a hopeless push stops after its retries", async () => {
  await withEndpoint("safe", async ({ url, received, fail }) => {
    fail(2);
    const push = signedPush(EVENT, { openId: "o1" }, settings("safe", "json"));
    const attempts = await postPush(url, push, { retries: 3 });
    assert.deepEqual(attempts.map((a) => a.status), [500, 500, 200]);
    assert.equal(received.length, 1, "the released key let the retry through, once");

    fail(10);
    const other = signedPush(EVENT, { openId: "o2" }, settings("safe", "json"));
    assert.deepEqual((await postPush(url, other, { retries: 1 })).map((a) => a.status), [500, 500]);
    assert.equal(received.length, 1);
  });
});

Deno.test("sim: a push signed with another token is refused over HTTP, and retried", async () => {
  await withEndpoint("plain", async ({ url, received }) => {
    const push = signedPush(EVENT, { openId: "o1" }, { ...settings("plain", "xml"), token: "x" });
    const attempts = await postPush(url, push, { retries: 2 });
    assert.deepEqual(attempts.map((a) => a.status), [401, 401, 401]);
    assert.match(attempts[0].body, /bad_signature/);
    assert.equal(received.length, 0);
  });
});

Deno.test("sim: an unreachable URL counts as a failed attempt", async () => {
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const push = signedPush(EVENT, { openId: "o1" }, settings("safe", "xml"));
  const attempts = await postPush(`http://127.0.0.1:${port}/x`, push, { retries: 1 });
  assert.equal(attempts.length, 2);
  assert.ok(attempts.every((a) => a.status === null && a.error));
});

Deno.test("sim CLI: posts a sent event; --print sends nothing; bad usage exits 2", async () => {
  await withEndpoint("safe", async ({ url, received }) => {
    const log = console.log;
    const lines: string[] = [];
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    const err = console.error;
    console.error = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      const common = ["--url", url, "--token", TOKEN, "--aes-key", KEY, "--appid", APPID];
      assert.equal(
        await main([...common, "--event", "sent", "--item", "TPL_SUB:1700827132819554304:0"]),
        0,
      );
      assert.equal(await main([...common, "--format", "xml", "--print", "--item", "T:accept"]), 0);
      assert.equal(await main([...common, "--verify"]), 0);
      assert.equal(await main([...common, "--event", "nope", "--item", "T"]), 2);
      assert.equal(await main(["--url", url]), 2);
    } finally {
      console.log = log;
      console.error = err;
    }
    assert.deepEqual(received.map((m) => m.event === "subscribe_msg_sent_event" && m.items), [[
      { templateId: "TPL_SUB", msgId: "1700827132819554304", errorCode: 0, errorStatus: "success" },
    ]]);
    assert.ok(lines.some((l) => l.startsWith("POST ") && l.includes("encrypt_type=aes")));
    assert.ok(lines.some((l) => l.startsWith("URL check: HTTP 200")), lines.join("\n"));
    assert.ok(!lines.join("\n").includes(KEY), "the EncodingAESKey is never printed");
  });
});
