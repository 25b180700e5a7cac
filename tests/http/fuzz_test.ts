/**
 * Fuzz: random and malformed requests against every route the app mounts (enumerated from the
 * app, so endpoints added later are covered too). No answer may be a 5xx, every refusal has the
 * error shape without a stack, and no refused request changes the log.
 */
import assert from "node:assert/strict";
import { PUSH_ENV } from "../subscribe/rig.ts";
import { ADMIN, AUDITOR, login, startRig, STORES } from "./login_helpers.ts";
import { prng } from "../../tools/wechat_sim.ts";

/** Requests per endpoint, per store. */
const PER_ENDPOINT = { memory: 2_000, redis: 400 };
const FIELDS = [
  "formIds",
  "formId",
  "collectedAt",
  "expiresAt",
  "results",
  "reportId",
  "code",
  "openId",
  "kind",
  "id",
  "templateId",
  "data",
  "page",
  "pushId",
  "after",
  "limit",
];
const WORDS = [
  "accept",
  "reject",
  "ban",
  "filter",
  "prepay",
  "form",
  "subscribe",
  "the formId is a mock one",
  "TPL_ORDER",
  "errMsg",
  "__proto__",
  "constructor",
  "",
  " ",
  "null",
  "\u0000",
  "中文",
  "😀",
  "x".repeat(200),
];

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  string(): string {
    switch (this.int(5)) {
      case 0:
        return this.pick(WORDS);
      case 1:
        return `f-${this.int(1e6)}`;
      case 2:
        return String.fromCharCode(...Array.from({ length: this.int(40) }, () => this.int(0x3000)));
      case 3:
        return "a".repeat(this.pick([1, 127, 128, 129, 5000]));
      default:
        return crypto.randomUUID();
    }
  }
  number(): number {
    return this.pick([
      0,
      -1,
      1.5,
      Date.now(),
      Date.now() + 1e12,
      Date.now() - 8 * 86_400_000,
      1e308,
      -1e308,
      Number.MAX_SAFE_INTEGER + 2,
      this.int(1e9),
    ]);
  }
  value(depth = 0): unknown {
    const k = this.int(depth > 3 ? 4 : 8);
    if (k === 0) return this.string();
    if (k === 1) return this.number();
    if (k === 2) return this.pick([true, false, null]);
    if (k === 3) return this.pick(WORDS);
    if (k === 4 || k === 5) {
      return Array.from({ length: this.pick([0, 1, 2, 5, 101]) }, () => this.value(depth + 1));
    }
    return this.object(depth + 1);
  }
  object(depth = 0): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = this.int(4); i > 0; i--) {
      out[this.int(4) === 0 ? this.string() : this.pick(FIELDS)] = this.value(depth);
    }
    return out;
  }
  /** A body: valid-looking JSON, broken JSON, or bytes. */
  body(): string | Uint8Array<ArrayBuffer> | undefined {
    switch (this.int(8)) {
      case 0:
        return undefined;
      case 1:
        return JSON.stringify(this.object()).slice(0, this.int(60));
      case 2:
        return crypto.getRandomValues(new Uint8Array(this.int(300)));
      case 3:
        return JSON.stringify(this.value());
      case 4:
        return " ".repeat(17_000) + "{}";
      case 5:
        return "{".repeat(this.int(5000));
      default:
        return JSON.stringify(this.object());
    }
  }
  contentType(): string | undefined {
    return this.pick([
      "application/json",
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=utf-16",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      undefined,
    ]);
  }
  segment(): string {
    return this.pick([
      "o58j9xkhspbpHVRvTU_yt81wsZIB",
      encodeURIComponent(this.string()),
      "..",
      "%00",
      "-",
      String(this.int(1e9)),
    ]);
  }
}

for (const store of STORES) {
  Deno.test(`fuzz (${store}): no 5xx, error shape, and refused requests leave the log alone`, async () => {
    const seed = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 1e9);
    const g = new Gen(prng(seed));
    const rig = await startRig(store, {
      RATE_LIMIT_PER_USER: "1000000",
      RATE_LIMIT_PER_IP: "1000000",
      ...PUSH_ENV, // every endpoint configured, WeChat's event push included
    });
    try {
      const alice = await login(rig, "alice");
      const bob = await login(rig, "bob");
      const tokens = [null, alice.token, bob.token, ADMIN, AUDITOR, "garbage", alice.token + "x"];
      const routes = new Map<string, { method: string; path: string }>();
      for (const r of rig.svc.app.routes) {
        if (r.method === "ALL") continue;
        routes.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
      }
      assert.ok(routes.size >= 7, `routes found: ${[...routes.keys()].join(", ")}`);
      let sent = 0;
      const statuses = new Map<number, number>();
      for (const { method, path } of routes.values()) {
        for (let i = 0; i < PER_ENDPOINT[store]; i++) {
          const url = rig.svc.url + path.replace(/:[A-Za-z]+/g, () => g.segment()) +
            (g.int(4) === 0 ? `?${g.pick(FIELDS)}=${encodeURIComponent(g.string())}` : "");
          const headers: Record<string, string> = {};
          const token = g.pick(tokens);
          if (token !== null) headers.authorization = `Bearer ${token}`;
          const contentType = g.contentType();
          if (contentType !== undefined) headers["content-type"] = contentType;
          const body = method === "GET" || method === "HEAD" ? undefined : g.body();
          const head = await rig.svc.store.head();
          const res = await fetch(url, { method, headers, body });
          const text = await res.text();
          sent++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const where = `seed ${seed}: ${method} ${url} -> ${res.status} ${text.slice(0, 200)}`;
          assert.ok(res.status < 500, where);
          if (res.status >= 400) {
            const parsed = JSON.parse(text);
            assert.deepEqual(Object.keys(parsed), ["error"], where);
            assert.equal(typeof parsed.error.code, "string", where);
            assert.equal(typeof parsed.error.message, "string", where);
            assert.doesNotMatch(text, /\bat .*:\d+:\d+|file:\/\/|secret/i, where);
            assert.deepEqual(await rig.svc.store.head(), head, `log changed: ${where}`);
          }
        }
      }
      assert.ok(sent >= 2_000);
      // The fuzz got past auth and into validation, and some requests were good enough to land.
      for (const status of [200, 400, 401, 403, 404, 413, 415]) {
        assert.ok(statuses.has(status), `no ${status} among ${JSON.stringify([...statuses])}`);
      }
    } finally {
      await rig.close();
    }
  });
}
