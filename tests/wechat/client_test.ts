/**
 * The WeChat client's outcomes, one case list run on both ways to reach WeChat (the HTTP/1.1
 * pool and fetch), against the simulator over HTTP: what WeChat answered, each fault's class,
 * and nothing of the URL (the token) in a failure.
 */
import assert from "node:assert/strict";
import { MemoryKeyValue } from "../../src/coordination/memory.ts";
import { WeChatClient } from "../../src/wechat/client.ts";
import { LOCAL } from "../../src/wechat/errcodes.ts";
import { AccessTokens } from "../../src/wechat/token.ts";
import { startWeChatSim } from "../../tools/wechat_sim.ts";
import { rawServer } from "../helpers/raw_server.ts";
import { freePort } from "../helpers/redis_server.ts";
import { simControl } from "../helpers/sim_control.ts";
import { simTokenSettings } from "../helpers/token_settings.ts";

const MESSAGE = { touser: "cora", templateId: "TPL_SUB", data: { thing1: { value: "hello" } } };

for (const httpClient of ["pool", "fetch"] as const) {
  Deno.test(`wechat client (${httpClient}): answers and faults, each with its class`, async () => {
    const sim = await startWeChatSim();
    const tokens = (apiBase: string) =>
      new AccessTokens(new MemoryKeyValue(), simTokenSettings(apiBase));
    const client = new WeChatClient(tokens(sim.url), {
      apiBase: sim.url,
      timeoutMs: 300,
      concurrency: 8,
      httpClient,
    });
    try {
      await simControl(sim.url, "/__sim/grants", {
        openid: "cora",
        templateId: "TPL_SUB",
        count: 3,
      });
      const sent = await client.sendSubscribe(MESSAGE);
      assert.equal(sent.errcode, 0);
      assert.equal(sent.class, "ok");
      assert.match(sent.msgid ?? "", /^\d+$/);

      const expect = async (kind: string, errcode: number, cls: string) => {
        await simControl(sim.url, "/__sim/faults", { rate: 1, kinds: [kind], timeoutMs: 1_000 });
        const r = await client.sendSubscribe(MESSAGE);
        assert.equal(r.errcode, errcode, `${kind}: ${JSON.stringify(r)}`);
        assert.equal(r.class, cls, kind);
        assert.doesNotMatch(r.errmsg, /access_token|wx_sim|127\.0\.0\.1/, kind);
      };
      await expect("busy", -1, "transient");
      await expect("http500", LOCAL.HTTP_5XX, "transient");
      await expect("timeout", LOCAL.TIMEOUT, "unknown");
      await expect("reset", LOCAL.HTTP_5XX, "transient"); // the simulator answers 502
      await simControl(sim.url, "/__sim/faults", { rate: 0, kinds: [] });
      assert.equal((await client.sendSubscribe(MESSAGE)).errcode, 0, "fine again after faults");

      // Nobody listens: nothing was sent, so the credit may be used again.
      const dead = `http://127.0.0.1:${freePort()}`;
      const deadClient = new WeChatClient(tokens(sim.url), {
        apiBase: dead,
        timeoutMs: 300,
        concurrency: 2,
        httpClient,
      });
      const refused = await deadClient.sendSubscribe(MESSAGE);
      assert.equal(refused.errcode, LOCAL.REFUSED);
      assert.equal(refused.class, "transient");
      assert.doesNotMatch(refused.errmsg, /access_token|127\.0\.0\.1/);
      await deadClient.close();

      // A server that reads the request and hangs up: maybe delivered, and errmsg says why.
      const rude = rawServer((conn) => Promise.resolve(conn.close()));
      const rudeClient = new WeChatClient(tokens(sim.url), {
        apiBase: rude.url,
        timeoutMs: 1_000,
        concurrency: 2,
        httpClient,
      });
      const broken = await rudeClient.sendSubscribe(MESSAGE);
      assert.equal(broken.errcode, LOCAL.NETWORK, JSON.stringify(broken));
      assert.equal(broken.class, "unknown");
      assert.match(
        broken.errmsg,
        /^connection failed after the request may have been sent \(.+\)$/,
      );
      if (httpClient === "pool") assert.match(broken.errmsg, /closed before the answer/);
      assert.doesNotMatch(broken.errmsg, /access_token|127\.0\.0\.1/);
      await rudeClient.close();
      await rude.close();
    } finally {
      await client.close();
      await sim.close();
    }
  });
}
