import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../src/config/config.ts";

Deno.test("config: defaults select the embedded store and WeChat's 7-day TTL", () => {
  const config = loadConfig({});
  assert.equal(config.redis, null);
  assert.equal(config.port, 8000);
  assert.equal(config.prefix, "formid");
  assert.equal(config.formIdTtlSeconds, 604_800);
  assert.equal(config.formIdSafetySeconds, 3_600);
  assert.equal(config.segmentEvents, 100_000);
  assert.equal(config.subscribeTtlSeconds, null);
  assert.equal(config.wechat.apiBase, "https://api.weixin.qq.com");
  assert.equal(config.wechat.tokenMode, "stable");
});

Deno.test("config: Redis URL and token select the Redis store", () => {
  const config = loadConfig({
    UPSTASH_REDIS_REST_URL: "https://eu1-x.upstash.io",
    UPSTASH_REDIS_REST_TOKEN: "tok",
    LEDGER_PREFIX: "wx123",
    SEGMENT_EVENTS: "5000",
  });
  assert.deepEqual(config.redis, { url: "https://eu1-x.upstash.io", token: "tok" });
  assert.equal(config.prefix, "wx123");
  assert.equal(config.segmentEvents, 5000);
});

Deno.test("config: every bad value is named, and no secret is echoed", () => {
  let message = "";
  assert.throws(
    () =>
      loadConfig({
        PORT: "http",
        UPSTASH_REDIS_REST_URL: "redis://x",
        FORMID_TTL_SECONDS: "999999999",
        SEGMENT_EVENTS: "0",
        SESSION_SECRET: "short-secret",
        WECHAT_TOKEN_MODE: "fast",
      }),
    (err) => {
      message = (err as Error).message;
      return err instanceof ConfigError;
    },
  );
  for (
    const name of [
      "PORT",
      "UPSTASH_REDIS_REST_URL",
      "UPSTASH_REDIS_REST_TOKEN",
      "FORMID_TTL_SECONDS",
      "SEGMENT_EVENTS",
      "SESSION_SECRET",
      "WECHAT_TOKEN_MODE",
    ]
  ) assert.match(message, new RegExp(name));
  assert.doesNotMatch(message, /short-secret/);
});

Deno.test("config: rate limits, client IP header and login timeout have defaults and bounds", () => {
  const defaults = loadConfig({});
  assert.deepEqual(defaults.rateLimit, { windowSeconds: 60, perUser: 120, perIp: 1_200 });
  assert.equal(defaults.clientIpHeader, null);
  assert.equal(defaults.wechatLoginTimeoutMs, 5_000);
  const set = loadConfig({
    RATE_LIMIT_WINDOW_SECONDS: "10",
    RATE_LIMIT_PER_USER: "5",
    RATE_LIMIT_PER_IP: "50",
    CLIENT_IP_HEADER: "X-Forwarded-For",
    TRUSTED_PROXIES: "10.0.0.0/8",
    WECHAT_LOGIN_TIMEOUT_MS: "1500",
  });
  assert.deepEqual(set.rateLimit, { windowSeconds: 10, perUser: 5, perIp: 50 });
  assert.equal(set.clientIpHeader, "x-forwarded-for");
  assert.equal(set.wechatLoginTimeoutMs, 1500);
  let message = "";
  assert.throws(() =>
    loadConfig({
      RATE_LIMIT_WINDOW_SECONDS: "0",
      RATE_LIMIT_PER_USER: "-1",
      RATE_LIMIT_PER_IP: "many",
      CLIENT_IP_HEADER: "x forwarded",
      WECHAT_LOGIN_TIMEOUT_MS: "5",
    }), (err) => {
    message = (err as Error).message;
    return err instanceof ConfigError && err.problems.length === 5;
  });
  for (
    const name of [
      "RATE_LIMIT_WINDOW_SECONDS",
      "RATE_LIMIT_PER_USER",
      "RATE_LIMIT_PER_IP",
      "CLIENT_IP_HEADER",
      "WECHAT_LOGIN_TIMEOUT_MS",
    ]
  ) assert.match(message, new RegExp(name));
});

Deno.test("config: push settings have safe defaults and are validated by name", () => {
  const push = loadConfig({}).push;
  assert.equal(push.timeoutMs, 5_000);
  assert.equal(push.concurrency, 1_024);
  assert.equal(push.chunkUsers, 500);
  assert.equal(push.chunksInFlight, 12);
  assert.equal(push.workerEnabled, true);
  assert.ok(push.chunksInFlight <= 1_000, "a consumer never holds 1,000 pending entries");
  const custom = loadConfig({
    WECHAT_TIMEOUT_MS: "800",
    WORKER_ENABLED: "off",
    BROADCAST_CHUNK_USERS: "1000",
    BROADCAST_RECLAIM_MS: "2000",
  }).push;
  assert.deepEqual(
    [custom.timeoutMs, custom.workerEnabled, custom.chunkUsers, custom.reclaimMs],
    [800, false, 1_000, 2_000],
  );
  let message = "";
  assert.throws(
    () =>
      loadConfig({
        WECHAT_CONCURRENCY: "0",
        BROADCAST_CHUNK_USERS: "1001",
        WORKER_ENABLED: "maybe",
        PUSH_MAX_ATTEMPTS: "2.5",
        WECHAT_TIMEOUT_MS: "9000",
        BROADCAST_RECLAIM_MS: "5000",
      }),
    (err) => {
      message = (err as Error).message;
      return err instanceof ConfigError;
    },
  );
  for (
    const name of [
      "WECHAT_CONCURRENCY",
      "BROADCAST_CHUNK_USERS",
      "WORKER_ENABLED",
      "PUSH_MAX_ATTEMPTS",
      "BROADCAST_RECLAIM_MS must be greater than WECHAT_TIMEOUT_MS",
    ]
  ) assert.match(message, new RegExp(name));
});

Deno.test("config: a credential in a URL never appears in the error, nor on the console at start", async () => {
  const env = {
    UPSTASH_REDIS_REST_URL: "rediss://default:pw-s3cr3t-1@eu1-x.upstash.io:6379",
    UPSTASH_REDIS_REST_TOKEN: "token-s3cr3t-2",
    WECHAT_API_BASE: "ftp://user:pw-s3cr3t-3@api.example.com/base?access_token=s3cr3t-4",
  };
  let message = "";
  assert.throws(() => loadConfig(env), (err) => {
    message = (err as Error).message;
    return err instanceof ConfigError;
  });
  assert.match(message, /UPSTASH_REDIS_REST_URL must be an http\(s\) URL, got "rediss:\/\/eu1-x/);
  assert.match(message, /WECHAT_API_BASE must be an http\(s\) URL, got "ftp:\/\/api.example.com"/);
  assert.doesNotMatch(message, /s3cr3t|default:|user:/);

  // The real start path: the process exits 2 and prints the problems, no secret.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: { ...env, PORT: "0" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const printed = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2);
  assert.match(printed, /UPSTASH_REDIS_REST_URL/);
  assert.doesNotMatch(printed, /s3cr3t/);
});

Deno.test("config: TRUSTED_PROXIES lists CIDR ranges; a client IP header needs them", () => {
  const set = loadConfig({ TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8" });
  assert.equal(set.trustedProxies.length, 4);
  assert.equal(set.clientIpHeader, "x-forwarded-for", "proxies alone read X-Forwarded-For");
  assert.equal(loadConfig({}).trustedProxies.length, 0);
  let message = "";
  assert.throws(
    () => loadConfig({ TRUSTED_PROXIES: "10.0.0.0/33, proxy.local" }),
    (err) => {
      message = (err as Error).message;
      return err instanceof ConfigError && err.problems.length === 2;
    },
  );
  assert.match(message, /TRUSTED_PROXIES .*"10.0.0.0\/33"/);
  assert.throws(
    () => loadConfig({ CLIENT_IP_HEADER: "X-Real-IP" }),
    (err) =>
      err instanceof ConfigError && /CLIENT_IP_HEADER needs TRUSTED_PROXIES/.test(err.message),
  );
});

Deno.test("config: sends use the HTTP/1.1 pool, fetch when asked or when a proxy is set", () => {
  assert.equal(loadConfig({}).wechat.httpClient, "pool");
  assert.equal(loadConfig({ WECHAT_HTTP_CLIENT: "fetch" }).wechat.httpClient, "fetch");
  assert.equal(loadConfig({ HTTPS_PROXY: "http://proxy:3128" }).wechat.httpClient, "fetch");
  assert.equal(
    loadConfig({ https_proxy: "http://proxy:3128", WECHAT_HTTP_CLIENT: "pool" }).wechat.httpClient,
    "pool",
  );
  assert.throws(
    () => loadConfig({ WECHAT_HTTP_CLIENT: "curl" }),
    (err) => err instanceof ConfigError && /WECHAT_HTTP_CLIENT/.test(err.message),
  );
});
