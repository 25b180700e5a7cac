/**
 * The WeChat access token, shared by every instance: cached in the key-value store (Redis, or
 * memory with the embedded store) until its expiry less a margin, and refreshed by one instance
 * at a time under a lock (SET NX PX, released by compare-and-delete) while the others wait for
 * the new value. A classic token fetch invalidates the previous token, so uncoordinated
 * refreshes would make instances invalidate each other; the lock prevents that.
 *
 * Neither the app secret nor a token is ever put in a log line or an error message.
 *
 * @module
 */
import type { Clock } from "../shared/clock.ts";
import { systemClock } from "../shared/clock.ts";
import type { KeyValue } from "../coordination/coordination.ts";
import { LOCAL, WeChatError } from "./errcodes.ts";

/** Where and how to get tokens. */
export interface TokenSettings {
  apiBase: string;
  appid: string;
  secret: string;
  mode: "stable" | "classic";
  /** Dropped from `expires_in` before the cached token counts as expired, in ms. */
  marginMs: number;
  /** How long a refresh may hold the lock, in ms. */
  lockMs: number;
  /** How long a caller waits for another instance's refresh before giving up, in ms. */
  waitMs: number;
  /** How long the token endpoint may take, in ms. */
  timeoutMs: number;
  /** How long this instance trusts its own copy before reading the shared cache again, in ms. */
  localTtlMs: number;
}

/** The shared access token with a single refresher. */
export class AccessTokens {
  #local: { token: string; until: number } | null = null;
  #loading: Promise<string> | null = null;
  readonly #key: string;
  readonly #lock: string;
  /** Token fetches this instance made (for tests and health reports). */
  fetches = 0;

  constructor(
    private readonly kv: KeyValue,
    private readonly settings: TokenSettings,
    private readonly clock: Clock = systemClock,
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.#key = `wx:${settings.appid}:token:${settings.mode}`;
    this.#lock = `${this.#key}:lock`;
  }

  /** A valid token: this instance's copy, the shared one, or a fresh one. */
  get(): Promise<string> {
    const local = this.#local;
    if (local && local.until > this.clock.now()) return Promise.resolve(local.token);
    // One load per instance at a time; concurrent callers share it.
    return this.#loading ??= this.#load().finally(() => this.#loading = null);
  }

  /**
   * Drops `token` after WeChat refused it (40001/40014/42001): from this instance, and from the
   * shared cache only while it is still the cached one, so a token another instance has just
   * refreshed is never thrown away.
   */
  async expire(token: string): Promise<void> {
    if (this.#local?.token === token) this.#local = null;
    await this.kv.deleteIfEquals(this.#key, token);
  }

  async #load(): Promise<string> {
    const deadline = this.clock.now() + this.settings.waitMs;
    for (;;) {
      const cached = await this.kv.get(this.#key);
      if (cached) return this.#keep(cached, this.settings.localTtlMs);
      const owner = crypto.randomUUID();
      if (await this.kv.set(this.#lock, owner, { nx: true, px: this.settings.lockMs })) {
        try {
          // Another instance may have refreshed between our read and our lock.
          const again = await this.kv.get(this.#key);
          if (again) return this.#keep(again, this.settings.localTtlMs);
          const { token, expiresInMs } = await this.#fetch();
          const ttl = expiresInMs > 2 * this.settings.marginMs
            ? expiresInMs - this.settings.marginMs
            : Math.max(1, Math.floor(expiresInMs / 2));
          await this.kv.set(this.#key, token, { px: ttl });
          return this.#keep(token, Math.min(ttl, this.settings.localTtlMs));
        } finally {
          await this.kv.deleteIfEquals(this.#lock, owner);
        }
      }
      if (this.clock.now() >= deadline) {
        throw new WeChatError(
          LOCAL.NO_TOKEN,
          "timed out waiting for another instance's token refresh",
        );
      }
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
    }
  }

  #keep(token: string, ttlMs: number): string {
    this.#local = { token, until: this.clock.now() + ttlMs };
    return token;
  }

  /** Calls WeChat's token endpoint; the URL and body carry the secret, so neither is logged. */
  async #fetch(): Promise<{ token: string; expiresInMs: number }> {
    const { apiBase, appid, secret, mode, timeoutMs } = this.settings;
    this.fetches++;
    let res: Response;
    try {
      res = mode === "classic"
        ? await this.fetcher(
          `${apiBase}/cgi-bin/token?grant_type=client_credential&appid=${
            encodeURIComponent(appid)
          }&secret=${encodeURIComponent(secret)}`,
          { signal: AbortSignal.timeout(timeoutMs) },
        )
        : await this.fetcher(`${apiBase}/cgi-bin/stable_token`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            grant_type: "client_credential",
            appid,
            secret,
            force_refresh: false,
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
    } catch {
      throw new WeChatError(LOCAL.NO_TOKEN, "token endpoint unreachable or too slow");
    }
    let body: Record<string, unknown>;
    try {
      body = await res.json();
    } catch {
      throw new WeChatError(LOCAL.NO_TOKEN, `token endpoint answered HTTP ${res.status}`);
    }
    if (typeof body.access_token === "string" && body.access_token) {
      const expiresIn = Number(body.expires_in) || 7200;
      return { token: body.access_token, expiresInMs: expiresIn * 1000 };
    }
    const errcode = Number(body.errcode);
    throw new WeChatError(
      Number.isFinite(errcode) && errcode !== 0 ? errcode : LOCAL.NO_TOKEN,
      `token endpoint: ${String(body.errmsg ?? "no token in the answer").slice(0, 200)}`,
    );
  }
}
