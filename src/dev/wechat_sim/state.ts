/**
 * The WeChat simulator's state: what it knows (users, login codes, tokens, credits, grants,
 * templates), its counters, its options, and its id helpers. The spec it follows: WeChat's
 * server API (jscode2session, tokens, message sends) as WECHAT_API.md and SUBSCRIBE_MESSAGES.md
 * describe it.
 *
 * @module
 */
import { freshSubscribeState, type SubscribeState } from "./user_subscriptions.ts";

/** One day in ms. */
export const DAY_MS = 86_400_000;
/** A `wx.login` code lives 5 minutes. */
export const CODE_TTL_MS = 5 * 60_000;
/** A formId / prepay_id lives 7 days. */
export const FORM_TTL_MS = 7 * DAY_MS;
const DEFAULT_TEMPLATES = ["TPL_ORDER", "TPL_REMIND", "TPL_SUB"];
/** The faults `POST /__sim/faults` can inject. */
export const FAULT_KINDS = [
  "busy",
  "freq",
  "http500",
  "timeout",
  "token_expired",
  "quota",
  "reset",
];
/** The placeholders DevTools gives instead of a formId: never a credit. */
export const MOCK_FORM_IDS = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];
/** `miniprogram_state` values a subscribe send accepts. */
export const STATES = ["developer", "trial", "formal"];
/** `lang` values a subscribe send accepts. */
export const LANGS = ["zh_CN", "en_US", "zh_HK", "zh_TW"];
/** Max value length per subscribe-message data key kind (thing1, name2, ...). */
export const VALUE_LIMITS: Record<string, number> = {
  thing: 20,
  name: 10,
  phrase: 5,
  symbol: 5,
  number: 32,
  letter: 32,
  character_string: 32,
  phone_number: 17,
  car_number: 8,
};

/** A JSON object. */
export type Json = Record<string, unknown>;
/** Which send API a message came through. */
export type Api = "template" | "subscribe";

/** A subscribe template the sim knows the keywords of; a keyword's type is its key's prefix. */
export interface SimTemplate {
  id: string;
  title: string;
  /** 2 one-time, 3 long-term (WeChat's codes). */
  type: 2 | 3;
  keywords: { key: string; label: string; enumValues?: string[] }[];
}

/** One access token, classic or stable. */
export interface TokenRec {
  token: string;
  kind: "classic" | "stable";
  expiresAt: number;
  invalidAt: number;
}

/** A formId (1 send) or prepay_id (3 sends) registered for one openid. */
export interface Credit {
  openid: string;
  kind: "form" | "prepay";
  uses: number;
  used: number;
  registeredAt: number;
}

/** One message the sim accepted (and therefore delivered). */
export interface Delivered {
  msgid: number;
  api: Api;
  touser: string;
  templateId: string;
  creditId: string;
  page?: string;
  data: unknown;
  at: number;
}

/** Counters exposed by `GET /__sim/stats`. */
export interface SimStats {
  tokens: { classic: number; stable: number };
  logins: number;
  sendsAccepted: number;
  /** openid -> credit id (form_id, or `grant:<templateId>`) -> accepted sends. */
  sends: Record<string, Record<string, number>>;
  /** errcode (or "http500"/"reset") -> rejected calls. */
  rejections: Record<string, number>;
  /** fault kind -> injected count. */
  faults: Record<string, number>;
  delivered: Delivered[];
  peakInFlight: number;
}

/** The live simulator state. */
export interface SimState {
  appid: string;
  secret: string;
  latencyMs: number;
  clockOffsetMs: number;
  classicGraceMs: number;
  expiresInSec: number;
  pages: Set<string> | null;
  forceRefreshLimits: boolean;
  users: Map<string, { user?: string; unionid?: string }>;
  codes: Map<string, { openid: string; issuedAt: number; used: boolean }>;
  tokens: Map<string, TokenRec>;
  classicCurrent: string | null;
  stableCurrent: string | null;
  forceAt: number;
  forceDay: number;
  forceCount: number;
  templates: Set<string>;
  /** Templates with keywords (their ids are in `templates` too). */
  subscribeTemplates: Map<string, SimTemplate>;
  credits: Map<string, Credit>;
  grants: Map<string, number>;
  faults: { rate: number; kinds: string[]; timeoutMs: number };
  rng: () => number;
  loginFault: { errcode: number; count: number };
  nextMsgid: number;
  inFlight: number;
  stats: SimStats;
  /** Long-term templates, kept choices, the main switch, event pushes. */
  sub: SubscribeState;
}

/** Options for `startWeChatSim`. */
export interface SimOptions {
  port?: number;
  appid?: string;
  secret?: string;
  latencyMs?: number;
  seed?: number;
}

/**
 * Seeded PRNG (mulberry32) returning floats in [0, 1).
 *
 * @example
 * ```ts
 * const rng = prng(1);
 * rng(); // the same first value for every run seeded 1
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A simulator's state as it starts (and as `POST /__sim/reset` leaves it).
 *
 * @example
 * ```ts
 * const s = freshState({ appid: "wx_dev", secret: "s3cret" });
 * ```
 */
export function freshState(o: SimOptions): SimState {
  return {
    appid: o.appid ?? "wx_sim_appid",
    secret: o.secret ?? "sim_secret",
    latencyMs: o.latencyMs ?? 0,
    clockOffsetMs: 0,
    classicGraceMs: 0,
    expiresInSec: 7200,
    pages: null,
    forceRefreshLimits: true,
    users: new Map(),
    codes: new Map(),
    tokens: new Map(),
    classicCurrent: null,
    stableCurrent: null,
    forceAt: -Infinity,
    forceDay: -1,
    forceCount: 0,
    templates: new Set(DEFAULT_TEMPLATES),
    subscribeTemplates: new Map(),
    credits: new Map(),
    grants: new Map(),
    faults: { rate: 0, kinds: [], timeoutMs: 30_000 },
    rng: prng(o.seed ?? 1),
    loginFault: { errcode: 0, count: 0 },
    nextMsgid: 3_000_000_001,
    inFlight: 0,
    sub: freshSubscribeState(),
    stats: {
      tokens: { classic: 0, stable: 0 },
      logins: 0,
      sendsAccepted: 0,
      sends: {},
      rejections: {},
      faults: {},
      delivered: [],
      peakInFlight: 0,
    },
  };
}

function b64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/**
 * `chars` random base64url characters.
 *
 * @example
 * ```ts
 * randomId(32); // a wx.login-like code
 * ```
 */
export function randomId(chars: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(Math.ceil(chars * 0.75) + 1))).slice(
    0,
    chars,
  );
}

/**
 * Stable 28-char openid for a user name under an appid: "o" + base64url(SHA-256), truncated.
 *
 * @example
 * ```ts
 * await deriveOpenid("alice"); // the openid a code for alice logs in as
 * ```
 */
export async function deriveOpenid(user: string, appid = "wx_sim_appid"): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${appid}:${user}`),
  );
  return ("o" + b64url(new Uint8Array(digest))).slice(0, 28);
}

/**
 * Stable unionid for a user name (the same under every appid).
 *
 * @example
 * ```ts
 * await deriveUnionid("alice");
 * ```
 */
export async function deriveUnionid(user: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`union:${user}`));
  return ("o" + b64url(new Uint8Array(digest))).slice(0, 28);
}

/**
 * Waits without blocking other requests. Only `close()` cuts a wait short: like the real server,
 * the sim does not notice a client that gave up.
 *
 * @example
 * ```ts
 * await sleep(s.latencyMs, stop);
 * ```
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  const waiting = sleepersOf(signal);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      waiting.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    waiting.add(done);
  });
}

/**
 * The waits a signal cuts short, behind one abort listener: a listener added and removed per wait
 * cost the simulator about 5 % of its time with hundreds of calls waiting (removal walks the list).
 */
const sleepers = new WeakMap<AbortSignal, Set<() => void>>();
function sleepersOf(signal: AbortSignal): Set<() => void> {
  let waiting = sleepers.get(signal);
  if (!waiting) {
    const set = new Set<() => void>();
    signal.addEventListener("abort", () => [...set].forEach((done) => done()), { once: true });
    sleepers.set(signal, set);
    waiting = set;
  }
  return waiting;
}

/**
 * Whether `v` is a JSON object (not null, not an array).
 *
 * @example
 * ```ts
 * isObj({}); // true
 * ```
 */
export const isObj = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
