/**
 * A scripted `wx` for running the mini-program client in Deno: storage that outlives a client
 * (an app kill), `wx.request` over real HTTP, `wx.login` backed by the WeChat simulator, and
 * `wx.requestSubscribeMessage` / `wx.getSetting` backed by the simulator's subscriptions (kept
 * choices answer with no dialog; the dialog's answers are scripted). Test switches: `offline`,
 * and `gateway` answers (a proxy's 502).
 *
 * @module
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The client module, loaded as a mini-program would load it (CommonJS). */
// deno-lint-ignore no-explicit-any
export const clientModule: any = require("../../client/formid-ledger.js");

/** What the device keeps between app launches: the storage. */
export class DeviceStorage {
  readonly items = new Map<string, string>();
  /** The stored value as wx would return it (a copy), or "" when missing. */
  get(key: string): unknown {
    const raw = this.items.get(key);
    return raw === undefined ? "" : JSON.parse(raw);
  }
}

/** One request the client made. */
export interface SentRequest {
  method: string;
  path: string;
  // deno-lint-ignore no-explicit-any
  body: any;
  status: number | "offline" | "gateway";
}

/** Options: the device storage, the simulator and which user logs in on this device. */
export interface ScriptedWxOptions {
  storage: DeviceStorage;
  simUrl: string;
  user: string;
}

/** A scripted `wx` object. */
export class ScriptedWx {
  offline = false;
  /** Statuses the next requests get from a gateway in front of the service (not sent on). */
  gateway: number[] = [];
  /** Answers the user gives in the next dialogs (templates not listed: reject). */
  subscribeAnswers: Record<string, string> = {};
  /** Whether the user ticks "always keep" (总是保持以上选择) in the next dialogs. */
  keepChoice = false;
  /** Each `requestSubscribeMessage` call's template ids. */
  readonly subscribeCalls: string[][] = [];
  /** The template ids each dialog the user saw showed (a kept choice shows none). */
  readonly dialogs: string[][] = [];
  /** `getSetting` calls so far. */
  settingReads = 0;
  readonly sent: SentRequest[] = [];
  /** Called as each request leaves (e.g. to kill the app right then). */
  onSend: (request: SentRequest) => void = () => {};
  logins = 0;
  #inFlight = new Set<Promise<void>>();

  constructor(readonly options: ScriptedWxOptions) {}

  getStorageSync(key: string): unknown {
    return this.options.storage.get(key);
  }
  setStorageSync(key: string, value: unknown): void {
    this.options.storage.items.set(key, JSON.stringify(value));
  }
  removeStorageSync(key: string): void {
    this.options.storage.items.delete(key);
  }

  // deno-lint-ignore no-explicit-any
  request(o: any): { abort(): void } {
    const url = new URL(o.url);
    const body = typeof o.data === "string" ? JSON.parse(o.data) : o.data;
    const record: SentRequest = { method: o.method ?? "GET", path: url.pathname, body, status: 0 };
    this.sent.push(record);
    this.onSend(record);
    const run = async () => {
      await Promise.resolve();
      if (this.offline) {
        record.status = "offline";
        return o.fail?.({ errMsg: "request:fail net::ERR_INTERNET_DISCONNECTED" });
      }
      const gatewayStatus = this.gateway.shift();
      if (gatewayStatus !== undefined) {
        record.status = "gateway";
        return o.success?.({ statusCode: gatewayStatus, data: "Bad Gateway", header: {} });
      }
      let res: Response;
      try {
        res = await fetch(o.url, {
          method: o.method ?? "GET",
          headers: o.header,
          body: o.data === undefined
            ? undefined
            : typeof o.data === "string"
            ? o.data
            : JSON.stringify(o.data),
          signal: AbortSignal.timeout(o.timeout ?? 60_000),
        });
      } catch {
        record.status = "offline";
        return o.fail?.({ errMsg: "request:fail" });
      }
      record.status = res.status;
      const text = await res.text();
      let data: unknown = text;
      try {
        data = JSON.parse(text);
      } catch { /* wx hands over the text */ }
      o.success?.({ statusCode: res.status, data, header: Object.fromEntries(res.headers) });
    };
    const p = run().catch(() => {});
    this.#inFlight.add(p);
    p.finally(() => this.#inFlight.delete(p));
    return { abort() {} };
  }

  // deno-lint-ignore no-explicit-any
  login(o: any): void {
    this.logins++;
    if (this.offline) {
      queueMicrotask(() => o.fail?.({ errMsg: "login:fail" }));
      return;
    }
    fetch(`${this.options.simUrl}/__sim/codes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: this.options.user }),
    }).then((r) => r.json()).then(
      (b) => o.success?.({ code: b.code, errMsg: "login:ok" }),
      () => o.fail?.({ errMsg: "login:fail" }),
    );
  }

  /** A call to the simulator's control API, tracked like a request (see `settle`). */
  #sim(method: "GET" | "POST", path: string, body?: unknown): Promise<Record<string, unknown>> {
    const p = fetch(`${this.options.simUrl}${path}`, {
      method,
      headers: body === undefined ? undefined : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((r) => r.json());
    const done = p.then(() => {}, () => {});
    this.#inFlight.add(done);
    done.finally(() => this.#inFlight.delete(done));
    return p;
  }

  // deno-lint-ignore no-explicit-any
  requestSubscribeMessage(o: any): void {
    this.subscribeCalls.push([...o.tmplIds]);
    if (this.offline) {
      queueMicrotask(() => o.fail?.({ errMsg: "requestSubscribeMessage:fail", errCode: 10002 }));
      return;
    }
    this.#sim("POST", "/__sim/subscribe", {
      user: this.options.user,
      tmplIds: o.tmplIds,
      answers: this.subscribeAnswers,
      keep: this.keepChoice,
    }).then((b) => {
      if ((b.dialog as string[]).length > 0) this.dialogs.push(b.dialog as string[]);
      if (b.ok) o.success?.(b.result);
      else o.fail?.(b.result);
    }, () => o.fail?.({ errMsg: "requestSubscribeMessage:fail", errCode: 10002 }));
  }

  // deno-lint-ignore no-explicit-any
  getSetting(o: any): void {
    this.settingReads++;
    if (this.offline) {
      queueMicrotask(() => o.fail?.({ errMsg: "getSetting:fail" }));
      return;
    }
    const query = `user=${encodeURIComponent(this.options.user)}`;
    this.#sim("GET", `/__sim/settings?${query}`).then((b) => {
      const items = (b.itemSettings ?? {}) as Record<string, string>;
      // As WeChat: subscriptionsSetting only with withSubscriptions, and (as observed on
      // devices) the kept choices repeated beside itemSettings.
      const subscriptionsSetting = o.withSubscriptions ? { ...items, ...b } : undefined;
      o.success?.({ authSetting: {}, subscriptionsSetting, errMsg: "getSetting:ok" });
    }, () => o.fail?.({ errMsg: "getSetting:fail" }));
  }

  /** Requests to `path` so far. */
  calls(path: string): SentRequest[] {
    return this.sent.filter((r) => r.path === path);
  }

  /** Waits until no request is in flight. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
