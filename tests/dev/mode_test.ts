import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/config.ts";
import { openDevMode, type ServeHandler } from "../../src/dev/dev_mode.ts";
import { REAL_SETTINGS, startMode } from "../../src/dev/mode.ts";

const VALUE = "a-real-value-0123456789abcdef-0123456789";

Deno.test("nothing configured: dev mode, and the line says why", () => {
  const mode = startMode({});
  assert.equal(mode.dev, true);
  assert.match(mode.line, /^formid-ledger: DEV MODE \(nothing configured: none of .* is set\)/);
  for (const name of REAL_SETTINGS) assert.ok(mode.line.includes(name), name);
});

Deno.test("each real setting alone turns dev mode off; the line names it, never its value", () => {
  const names = [...REAL_SETTINGS, "WECHAT_PUSH_TOKEN", "WECHAT_PUSH_AES_KEY"];
  for (const name of names) {
    const mode = startMode({ [name]: VALUE });
    assert.equal(mode.dev, false, name);
    assert.equal(mode.line, `formid-ledger: configured mode (set: ${name})`);
    assert.ok(!mode.line.includes(VALUE));
  }
  const two = startMode({ WECHAT_SECRET: VALUE, ADMIN_TOKEN: VALUE });
  assert.equal(two.reason, "set: ADMIN_TOKEN, WECHAT_SECRET");
});

Deno.test("an empty real setting counts as unset, as the configuration reads it", () => {
  assert.equal(startMode({ ADMIN_TOKEN: "", UPSTASH_REDIS_REST_URL: "" }).dev, true);
});

Deno.test("tuning settings and other programs' variables keep dev mode on", () => {
  const env = {
    PORT: "9000",
    LEDGER_PREFIX: "wx1",
    WECHAT_TOKEN_MODE: "classic",
    WECHAT_TIMEOUT_MS: "1000",
    WECHAT_TOKEN_MARGIN_SECONDS: "60",
    RATE_LIMIT_PER_IP: "10",
    WORKER_ENABLED: "off",
    SESSION_TTL_SECONDS: "600",
    HOME: "/root",
    PATH: "/usr/bin",
    GITHUB_TOKEN: VALUE,
    AWS_SECRET_ACCESS_KEY: VALUE,
  };
  assert.equal(startMode(env).dev, true);
});

Deno.test("DENO_DEPLOYMENT_ID: never dev mode, even with nothing configured", () => {
  const mode = startMode({ DENO_DEPLOYMENT_ID: "abc123" });
  assert.equal(mode.dev, false);
  assert.match(mode.line, /configured mode \(DENO_DEPLOYMENT_ID is set: dev mode never runs/);
  assert.equal(startMode({ DENO_DEPLOYMENT_ID: "abc123", ADMIN_TOKEN: VALUE }).dev, false);
});

Deno.test("dev settings: valid secrets, fresh per start, WeChat pointed at the embedded sim", () => {
  const a = openDevMode(8123);
  const b = openDevMode(8123);
  const config = loadConfig(a.settings);
  assert.equal(config.port, 8123);
  assert.equal(config.wechat.apiBase, "http://127.0.0.1:8123/__wechat");
  assert.equal(config.wechat.appid, a.sim.state.appid);
  assert.equal(config.wechat.secret, a.sim.state.secret);
  assert.match(config.wechat.appid!, /^wx[0-9a-z]{16}$/);
  assert.ok(config.sessionSecret && config.adminToken && config.auditToken);
  for (const name of ["SESSION_SECRET", "ADMIN_TOKEN", "AUDIT_TOKEN", "WECHAT_SECRET"]) {
    assert.notEqual(a.settings[name], b.settings[name], `${name} is made per start`);
    assert.ok(a.banner().includes(a.settings[name]), `${name} is printed`);
  }
  assert.deepEqual(a.listen, { hostname: "127.0.0.1", port: 8123 });
  assert.match(
    a.banner(),
    new RegExp(
      `^export LEDGER=http://127\\.0\\.0\\.1:8123 ADMIN_TOKEN=${a.settings.ADMIN_TOKEN} `,
      "m",
    ),
  );
});

Deno.test("dev mode on PORT=0 takes a free port before the service is built", () => {
  const dev = openDevMode(0);
  assert.ok(dev.listen.port > 0);
  assert.equal(dev.settings.PORT, String(dev.listen.port));
  assert.ok(dev.settings.WECHAT_API_BASE.endsWith(`:${dev.listen.port}/__wechat`));
});

Deno.test("dev handler: /__sim/ and /__wechat/ to the simulator, the rest to the service", async () => {
  const dev = openDevMode(8124);
  const seen: string[] = [];
  const app: ServeHandler = (req) => {
    seen.push(new URL(req.url).pathname);
    return new Response("app");
  };
  const handle = dev.handler(app);
  const info = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as Parameters<
    ServeHandler
  >[1];
  const code = await handle(
    new Request("http://x/__sim/codes", { method: "POST", body: '{"user":"alice"}' }),
    info,
  );
  assert.match((await code.json()).code, /^\S{32}$/);
  const { appid, secret } = dev.sim.state;
  const token = await handle(
    new Request(
      `http://x/__wechat/cgi-bin/token?grant_type=client_credential&appid=${appid}&secret=${secret}`,
    ),
    info,
  );
  assert.equal((await token.json()).expires_in, 7200);
  for (const path of ["/v1/events", "/healthz", "/__wechatx", "/__simulator"]) {
    assert.equal(await (await handle(new Request(`http://x${path}`), info)).text(), "app");
  }
  assert.deepEqual(seen, ["/v1/events", "/healthz", "/__wechatx", "/__simulator"]);
  dev.sim.close();
});
