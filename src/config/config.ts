/**
 * Environment -> one typed, validated `Config`. A bad value stops the service at start with a
 * message naming the variable; secrets are read here and never printed.
 *
 * @module
 */

import { type Env, envInt } from "../shared/env.ts";
import { type IpRange, parseIpRange } from "../shared/ip_range.ts";
import { type PushSettings, readPushSettings } from "./push_settings.ts";
import { readSubscribeSettings, type SubscribeSettings } from "./subscribe_settings.ts";

/** Everything the service reads from its environment. */
export interface Config {
  port: number;
  /** Upstash (or the local bridge) REST endpoint; `null` selects the embedded memory store. */
  redis: { url: string; token: string } | null;
  /** Prefix of every Redis key: one per ledger (e.g. per mini-program appid). */
  prefix: string;
  /** How long a form/prepay credit lives after collection, in seconds (WeChat: 7 days). */
  formIdTtlSeconds: number;
  /** How long a subscribe credit lives, in seconds; `null`: until spent (WeChat's rule). */
  subscribeTtlSeconds: number | null;
  /** Events per log segment stream (Upstash caps one key at 100 MB). */
  segmentEvents: number;
  /** Held back from a form/prepay credit's TTL so none is spent at the edge of its window. */
  formIdSafetySeconds: number;
  /**
   * Most live credits one user may hold (`MAX_CREDITS_PER_USER`), and live subscribe credits
   * per template (`MAX_CREDITS_PER_TEMPLATE`): the ledger's `CreditCaps`.
   */
  creditCaps: { perUser: number; perTemplate: number };
  /**
   * The subscribe templates a subscription report may add credits for (`SUBSCRIBE_TEMPLATES`,
   * comma-separated ids); `null`: any.
   */
  subscribeTemplates: ReadonlySet<string> | null;
  /** The WeChat API: base URL (a simulator in tests), the mini-program's appid and secret. */
  wechat: {
    apiBase: string;
    appid: string | null;
    secret: string | null;
    tokenMode: "stable" | "classic";
    /**
     * How message sends reach WeChat (`WECHAT_HTTP_CLIENT`): `pool`, the project's keep-alive
     * HTTP/1.1 pool (a quarter of fetch's CPU per call), or `fetch`. Default `pool`, or `fetch`
     * when a proxy is set (`HTTPS_PROXY`/`HTTP_PROXY`), which only fetch honours.
     */
    httpClient: "pool" | "fetch";
  };
  /** HS256 key for session JWTs; `null` disables the session endpoints. */
  sessionSecret: string | null;
  /** Session token lifetime in seconds. */
  sessionTtlSeconds: number;
  /** Bearer token for admin endpoints; `null` disables them. */
  adminToken: string | null;
  /** Bearer token for read-only audit endpoints; `null`: only the admin token reads. */
  auditToken: string | null;
  /** How long a request body may take to arrive before the request gets 408, in ms. */
  requestBodyTimeoutMs: number;
  /** Server-side verifications and NDJSON exports running at once: per token, and overall. */
  auditConcurrency: { perToken: number; overall: number };
  /** Upload and login rate limits: requests per window, per openId and per client IP. */
  rateLimit: { windowSeconds: number; perUser: number; perIp: number };
  /**
   * Header holding the client IP behind proxies, believed only from `trustedProxies` (the
   * right-most address that is not a trusted proxy is the client); `null`: the peer address.
   */
  clientIpHeader: string | null;
  /** Peers (CIDR ranges) whose forwarding header is believed: `TRUSTED_PROXIES`. */
  trustedProxies: IpRange[];
  /** How long a WeChat login call may take before it counts as unavailable, in ms. */
  wechatLoginTimeoutMs: number;
  /** Push delivery, the WeChat message client and the broadcast worker (src/push/settings.ts). */
  push: PushSettings;
  /** WeChat's message push, the confirmation window and template syncs (subscribe_settings.ts). */
  subscribe: SubscribeSettings;
}

/** A configuration problem, with every bad variable listed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads and validates the configuration.
 *
 * @example
 * ```ts
 * const config = loadConfig(Deno.env.toObject());
 * ```
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const int = <T extends number | null>(name: string, fallback: T, min: number, max: number) =>
    envInt(env, problems, name, fallback, min, max);
  const url = env.UPSTASH_REDIS_REST_URL || undefined;
  const token = env.UPSTASH_REDIS_REST_TOKEN || undefined;
  if (url && !/^https?:\/\/[^\s]+$/.test(url)) {
    problems.push(`UPSTASH_REDIS_REST_URL must be an http(s) URL, got ${redactedUrl(url)}`);
  }
  if (url && !token) {
    problems.push("UPSTASH_REDIS_REST_TOKEN is required with UPSTASH_REDIS_REST_URL");
  }
  const prefix = env.LEDGER_PREFIX || "formid";
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix)) {
    problems.push(`LEDGER_PREFIX must be 1-64 of [A-Za-z0-9_.:-], got "${prefix}"`);
  }
  const secret = (name: string, minLength: number) => {
    const value = env[name] || null;
    if (value !== null && value.length < minLength) {
      problems.push(`${name} must be at least ${minLength} characters`);
    }
    return value;
  };
  const apiBase = (env.WECHAT_API_BASE || "https://api.weixin.qq.com").replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s]+$/.test(apiBase)) {
    problems.push(`WECHAT_API_BASE must be an http(s) URL, got ${redactedUrl(apiBase)}`);
  }
  const tokenMode = env.WECHAT_TOKEN_MODE || "stable";
  if (tokenMode !== "stable" && tokenMode !== "classic") {
    problems.push(`WECHAT_TOKEN_MODE must be "stable" or "classic", got "${tokenMode}"`);
  }
  const proxied = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"]
    .some((name) => !!env[name]);
  const httpClient = env.WECHAT_HTTP_CLIENT || (proxied ? "fetch" : "pool");
  if (httpClient !== "pool" && httpClient !== "fetch") {
    problems.push(`WECHAT_HTTP_CLIENT must be "pool" or "fetch", got "${httpClient}"`);
  }
  const config: Config = {
    port: int("PORT", 8000, 0, 65535)!,
    redis: url && token ? { url, token } : null,
    prefix,
    formIdTtlSeconds: int("FORMID_TTL_SECONDS", 604_800, 1, 604_800)!,
    subscribeTtlSeconds: int("SUBSCRIBE_TTL_SECONDS", null, 1, 10 * 365 * 86_400),
    segmentEvents: int("SEGMENT_EVENTS", 100_000, 1, 600_000)!,
    formIdSafetySeconds: int("FORMID_SAFETY_SECONDS", 3_600, 0, 86_400)!,
    creditCaps: {
      perUser: int("MAX_CREDITS_PER_USER", 500, 1, 100_000)!,
      perTemplate: int("MAX_CREDITS_PER_TEMPLATE", 100, 1, 100_000)!,
    },
    subscribeTemplates: subscribeTemplates(env, problems),
    wechat: {
      apiBase,
      appid: env.WECHAT_APPID || null,
      secret: secret("WECHAT_SECRET", 1),
      tokenMode: tokenMode === "classic" ? "classic" : "stable",
      httpClient: httpClient === "fetch" ? "fetch" : "pool",
    },
    sessionSecret: secret("SESSION_SECRET", 32),
    sessionTtlSeconds: int("SESSION_TTL_SECONDS", 7_200, 60, 30 * 86_400)!,
    adminToken: secret("ADMIN_TOKEN", 16),
    auditToken: secret("AUDIT_TOKEN", 16),
    requestBodyTimeoutMs: int("REQUEST_BODY_TIMEOUT_MS", 10_000, 100, 300_000)!,
    auditConcurrency: {
      perToken: int("AUDIT_CONCURRENCY_PER_TOKEN", 2, 1, 64)!,
      overall: int("AUDIT_CONCURRENCY", 4, 1, 256)!,
    },
    rateLimit: {
      windowSeconds: int("RATE_LIMIT_WINDOW_SECONDS", 60, 1, 86_400)!,
      perUser: int("RATE_LIMIT_PER_USER", 120, 1, 1_000_000_000)!,
      perIp: int("RATE_LIMIT_PER_IP", 1_200, 1, 1_000_000_000)!,
    },
    ...clientIpSettings(env, problems),
    wechatLoginTimeoutMs: int("WECHAT_LOGIN_TIMEOUT_MS", 5_000, 100, 60_000)!,
    push: readPushSettings(env, problems),
    subscribe: readSubscribeSettings(env, problems, env.WECHAT_APPID || null),
  };
  if (config.formIdSafetySeconds >= config.formIdTtlSeconds) {
    problems.push("FORMID_SAFETY_SECONDS must be less than FORMID_TTL_SECONDS");
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * A URL as it may appear in an error: scheme and host only. A pasted URL may carry a password
 * (`rediss://default:<password>@host`), a token in its query or path: none of it is printed.
 *
 * @example
 * ```ts
 * redactedUrl("rediss://default:secret@eu1.upstash.io:6379");
 * // => "rediss://eu1.upstash.io:6379" (credentials, path and query not shown)
 * ```
 */
export function redactedUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return "a value that is not a URL";
  }
  const hidden = parsed.username || parsed.password || parsed.search || parsed.hash ||
    parsed.pathname.replace(/^\/$/, "");
  const shown = `${parsed.protocol}//${parsed.host}`;
  return hidden ? `"${shown}" (credentials, path and query not shown)` : `"${shown}"`;
}

/** SUBSCRIBE_TEMPLATES: comma-separated template ids (1-128 visible ASCII, no comma), or unset. */
function subscribeTemplates(env: Env, problems: string[]): ReadonlySet<string> | null {
  const raw = env.SUBSCRIBE_TEMPLATES;
  if (raw === undefined || raw.trim() === "") return null;
  const ids = new Set<string>();
  for (const entry of raw.split(",").map((e) => e.trim())) {
    if (/^[\x21-\x2b\x2d-\x7e]{1,128}$/.test(entry)) ids.add(entry);
    else {
      problems.push(
        `SUBSCRIBE_TEMPLATES must list template ids (1-128 visible ASCII) separated by commas, got "${entry}"`,
      );
    }
  }
  return ids;
}

/**
 * CLIENT_IP_HEADER (a header name, lower-cased) and TRUSTED_PROXIES (comma-separated CIDR ranges
 * or addresses). A forwarding header is believed only from a trusted proxy, so naming a header
 * needs the proxies too; naming proxies alone reads `X-Forwarded-For`.
 */
function clientIpSettings(
  env: Env,
  problems: string[],
): { clientIpHeader: string | null; trustedProxies: IpRange[] } {
  const trustedProxies: IpRange[] = [];
  for (const entry of (env.TRUSTED_PROXIES ?? "").split(",").map((e) => e.trim())) {
    if (entry === "") continue;
    const range = parseIpRange(entry);
    if (range) trustedProxies.push(range);
    else problems.push(`TRUSTED_PROXIES must list CIDR ranges or IP addresses, got "${entry}"`);
  }
  const raw = env.CLIENT_IP_HEADER;
  if (raw === undefined || raw === "") {
    return { clientIpHeader: trustedProxies.length > 0 ? "x-forwarded-for" : null, trustedProxies };
  }
  if (!/^[A-Za-z0-9-]{1,64}$/.test(raw)) {
    problems.push(`CLIENT_IP_HEADER must be a header name, got "${raw}"`);
    return { clientIpHeader: null, trustedProxies };
  }
  if (trustedProxies.length === 0 && !(env.TRUSTED_PROXIES ?? "").trim()) {
    problems.push(
      "CLIENT_IP_HEADER needs TRUSTED_PROXIES (the proxies' addresses): anyone reaching the " +
        "port directly could otherwise choose their own client IP",
    );
  }
  return { clientIpHeader: raw.toLowerCase(), trustedProxies };
}
