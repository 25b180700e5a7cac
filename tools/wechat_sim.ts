/**
 * WeChat server API simulator (login, access tokens, template and subscribe messages, the
 * account's subscribe templates) with control endpoints under `/__sim/` for tests and
 * benchmarks. See WECHAT_API.md and SUBSCRIBE_MESSAGES.md for the spec.
 *
 * Subscribe templates set up with their keywords (`POST /__sim/templates` with `templates`) are
 * listed by `GET /wxaapi/newtmpl/gettemplate`, and a subscribe send to one checks every keyword
 * the way WeChat does (47003 naming the key). This check is the sim's own: it stands in for
 * WeChat, so it deliberately shares no code with src/wechat/keyword_rules.ts. Templates known
 * by id only (the defaults, `{ ids }`) are not listed and keep the old length-only check.
 */
import { type Context, Hono } from "hono";

const DAY_MS = 86_400_000;
const CODE_TTL_MS = 5 * 60_000;
const FORM_TTL_MS = 7 * DAY_MS;
const DEFAULT_TEMPLATES = ["TPL_ORDER", "TPL_REMIND", "TPL_SUB"];
const FAULT_KINDS = ["busy", "freq", "http500", "timeout", "token_expired", "quota", "reset"];
const MOCK_FORM_IDS = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];
const STATES = ["developer", "trial", "formal"];
const LANGS = ["zh_CN", "en_US", "zh_HK", "zh_TW"];
/** Max value length per subscribe-message data key kind (thing1, name2, ...). */
const VALUE_LIMITS: Record<string, number> = {
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

type Json = Record<string, unknown>;
type Api = "template" | "subscribe";

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
}

/** Options for `startWeChatSim`. */
export interface SimOptions {
  port?: number;
  appid?: string;
  secret?: string;
  latencyMs?: number;
  seed?: number;
}

/** Seeded PRNG (mulberry32) returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function freshState(o: SimOptions): SimState {
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

function randomId(chars: number): string {
  return b64url(crypto.getRandomValues(new Uint8Array(Math.ceil(chars * 0.75) + 1))).slice(
    0,
    chars,
  );
}

/** Stable 28-char openid for a user name under an appid: "o" + base64url(SHA-256), truncated. */
export async function deriveOpenid(user: string, appid = "wx_sim_appid"): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`${appid}:${user}`),
  );
  return ("o" + b64url(new Uint8Array(digest))).slice(0, 28);
}

async function deriveUnionid(user: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`union:${user}`));
  return ("o" + b64url(new Uint8Array(digest))).slice(0, 28);
}

/**
 * Waits without blocking other requests. Only `close()` cuts a wait short: like the real server,
 * the sim does not notice a client that gave up.
 */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// ---- subscribe keyword rules (WeChat's sendMessage table; stricter reading where it is vague) ----
// Characters are counted in UTF-16 units (an emoji is 2); digits and letters are ASCII; a symbol
// is \p{P}, \p{S} or a plain space; control/format characters and other blanks never pass.

type CharKind = "han" | "digit" | "letter" | "symbol" | "other" | "bad";

function charKind(ch: string): CharKind {
  if (ch === " ") return "symbol";
  if (/[\p{C}\p{Z}]/u.test(ch)) return "bad";
  if (ch >= "0" && ch <= "9") return "digit";
  if ((ch >= "A" && ch <= "Z") || (ch >= "a" && ch <= "z")) return "letter";
  if (/\p{sc=Han}/u.test(ch)) return "han";
  return /[\p{P}\p{S}]/u.test(ch) ? "symbol" : "other";
}

const onlyKinds = (v: string, ...kinds: CharKind[]) =>
  Array.from(v).every((ch) => kinds.includes(charKind(ch)));

/** Two ASCII digits within 0..max. */
const twoDigits = (t: string, max: number) => /^[0-9][0-9]$/.test(t) && Number(t) <= max;

function simClock(t: string): boolean {
  const [h, m, sec, ...rest] = t.split(":");
  return rest.length === 0 && m !== undefined && twoDigits(h, 23) && twoDigits(m, 59) &&
    (sec === undefined || twoDigits(sec, 59));
}

/** Whether y-m-d names a real day; a missing year is a leap year, a missing day the 1st. */
function realDay(y: string | undefined, m: string, d: string | undefined): boolean {
  const [yy, mm, dd] = [Number(y ?? 2000), Number(m), Number(d ?? 1)];
  const day = new Date(Date.UTC(yy, mm - 1, dd));
  day.setUTCFullYear(yy);
  return day.getUTCFullYear() === yy && day.getUTCMonth() === mm - 1 && day.getUTCDate() === dd;
}

function simDate(t: string): boolean {
  const cn = /^(?:([0-9]{4})年)?(?:([0-9]{1,2})月)(?:([0-9]{1,2})日)?$/.exec(t);
  if (cn) return (cn[1] !== undefined || cn[3] !== undefined) && realDay(cn[1], cn[2], cn[3]);
  const sep = /[-/.]/.exec(t)?.[0];
  if (!sep) return false;
  const parts = t.split(sep);
  if (!parts.every((p) => /^[0-9]+$/.test(p))) return false;
  const shape = parts.map((p) => p.length).join(",");
  if (shape === "4,2,2") return realDay(parts[0], parts[1], parts[2]);
  if (shape === "4,2") return realDay(parts[0], parts[1], undefined);
  return shape === "2,2" && realDay(undefined, parts[0], parts[1]);
}

function simMoment(t: string, needClock: boolean): boolean {
  const [a, b, ...rest] = t.split(" ");
  if (rest.length > 0) return false;
  if (b === undefined) return needClock ? simClock(a) : simDate(a);
  return simDate(a) && simClock(b);
}

function simAmount(v: string): boolean {
  const chars = Array.from(v);
  if (chars.length < 2 || !/^\p{Sc}$/u.test(chars[0])) return false;
  let rest = chars.slice(1).join("");
  if (rest.endsWith("元")) rest = rest.slice(0, -1);
  const [int, frac, ...more] = rest.split(".");
  const digitsOnly = (p: string | undefined) => p === undefined || /^[0-9]+$/.test(p);
  return more.length === 0 && /^[0-9]+$/.test(int) && digitsOnly(frac) &&
    int.length + (frac?.length ?? 0) <= 10;
}

function simCar(v: string): boolean {
  const chars = Array.from(v);
  if (v.length > 8) return false;
  return chars.every((ch, i) => {
    const kind = charKind(ch);
    const edge = i === 0 || i === chars.length - 1;
    return kind === "digit" || kind === "letter" || (edge && kind === "han");
  });
}

/** Whether `v` (not empty) keeps the rule of keyword type `type`. */
const SIM_RULES: Record<string, (v: string) => boolean> = {
  thing: (v) => v.length <= 20,
  short_thing: (v) => v.length <= 5,
  number: (v) => v.length <= 32 && /^[0-9]+(\.[0-9]+)?$/.test(v),
  letter: (v) => v.length <= 32 && onlyKinds(v, "letter"),
  symbol: (v) => v.length <= 5 && onlyKinds(v, "symbol"),
  character_string: (v) => v.length <= 32 && onlyKinds(v, "digit", "letter", "symbol"),
  phone_number: (v) => v.length <= 17 && onlyKinds(v, "digit", "symbol") && /[0-9]/.test(v),
  phrase: (v) => v.length <= 5 && onlyKinds(v, "han"),
  name: (v) =>
    onlyKinds(v, "han", "letter", "symbol") &&
    v.length <= (Array.from(v).some((ch) => charKind(ch) === "han") ? 10 : 20),
  car_number: simCar,
  amount: simAmount,
  time: (v) => v.split("~").length <= 2 && v.split("~").every((p) => simMoment(p, true)),
  date: (v) => v.split("~").length <= 2 && v.split("~").every((p) => simMoment(p, false)),
};

/**
 * WeChat's errmsg (before the rid) for the first keyword of `data` that `tpl` refuses, or null.
 * Keywords are checked in the template's order, then keys the template does not have.
 */
function keywordFault(tpl: SimTemplate, data: unknown): string | null {
  if (!isObj(data)) return "argument invalid! data invalid";
  for (const { key, enumValues } of tpl.keywords) {
    const entry = data[key];
    if (entry === undefined) return `argument invalid! data.${key}.value is empty`;
    const v = isObj(entry) ? entry.value : undefined;
    if (typeof v !== "string") return `argument invalid! data.${key}.value invalid`;
    if (!/\S/.test(v)) return `argument invalid! data.${key}.value is empty`;
    const type = key.replace(/[0-9]+$/, "");
    const rule = SIM_RULES[type];
    const ok = !Array.from(v).some((ch) => charKind(ch) === "bad") &&
      (enumValues ? enumValues.includes(v) : rule !== undefined && rule(v));
    if (!ok) return `argument invalid! data.${key}.value invalid`;
  }
  const known = new Set(tpl.keywords.map((k) => k.key));
  const extra = Object.keys(data).find((key) => !known.has(key));
  return extra === undefined ? null : `argument invalid! data.${extra} invalid`;
}

/** A sample value per type for gettemplate's `example`. */
const SAMPLES: Record<string, string> = {
  thing: "示例内容",
  short_thing: "示例",
  number: "12",
  letter: "ABC",
  symbol: "-",
  character_string: "NO20240101",
  time: "15:01",
  date: "2019年10月1日",
  amount: "¥12.50",
  phone_number: "+86-0766-66888866",
  car_number: "粤A8Z888挂",
  name: "张三",
  phrase: "配送中",
};

/** The template as gettemplate answers it. */
function templateEntry(t: SimTemplate): Json {
  const line = (k: SimTemplate["keywords"][number], text: string) => `${k.label}:${text}\n`;
  const enums = t.keywords.filter((k) => k.enumValues);
  return {
    priTmplId: t.id,
    title: t.title,
    content: t.keywords.map((k) => line(k, `{{${k.key}.DATA}}`)).join(""),
    example: t.keywords.map((k) =>
      line(k, k.enumValues?.[0] ?? SAMPLES[k.key.replace(/[0-9]+$/, "")] ?? "")
    ).join(""),
    type: t.type,
    ...(enums.length > 0
      ? {
        keywordEnumValueList: enums.map((k) => ({
          keywordCode: `${k.key}.DATA`,
          enumValueList: k.enumValues,
        })),
      }
      : {}),
  };
}

/** A SimTemplate from the setup API's JSON, or why not. */
function readSimTemplate(b: unknown): SimTemplate | string {
  if (!isObj(b) || typeof b.id !== "string" || !b.id) return "template id (string) required";
  const type = b.type ?? 2;
  if (type !== 2 && type !== 3) return `template ${b.id}: type must be 2 or 3`;
  if (!Array.isArray(b.keywords) || b.keywords.length === 0) {
    return `template ${b.id}: keywords (non-empty array) required`;
  }
  const keywords: SimTemplate["keywords"] = [];
  for (const k of b.keywords) {
    if (!isObj(k) || typeof k.key !== "string" || !/^[a-z_]+[0-9]+$/.test(k.key)) {
      return `template ${b.id}: each keyword needs a key like thing1`;
    }
    const ev = k.enumValues;
    if (ev !== undefined && (!Array.isArray(ev) || !ev.every((v) => typeof v === "string"))) {
      return `template ${b.id}: ${k.key}.enumValues must be a string array`;
    }
    if (keywords.some((x) => x.key === k.key)) return `template ${b.id}: ${k.key} twice`;
    keywords.push({
      key: k.key,
      label: typeof k.label === "string" ? k.label : k.key,
      ...(ev ? { enumValues: ev as string[] } : {}),
    });
  }
  return { id: b.id, title: typeof b.title === "string" ? b.title : b.id, type, keywords };
}

function buildApp(s: SimState, opts: SimOptions, stop: AbortSignal): Hono {
  const app = new Hono();
  const now = () => Date.now() + s.clockOffsetMs;
  const rid = () => `${Math.floor(now() / 1000).toString(16)}-${randomId(8)}-${randomId(8)}`;
  const bump = (m: Record<string, number>, k: string) => (m[k] = (m[k] ?? 0) + 1);
  const fail = (c: Context, errcode: number, errmsg: string) => {
    bump(s.stats.rejections, String(errcode));
    return c.json({ errcode, errmsg: `${errmsg} rid: ${rid()}` });
  };
  const readJson = async (c: Context): Promise<Json | null> => {
    try {
      const body = await c.req.json();
      return isObj(body) ? body : null;
    } catch {
      return null;
    }
  };

  // Latency applies to every WeChat API call; control endpoints answer at once.
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/__sim/")) return await next();
    s.inFlight++;
    s.stats.peakInFlight = Math.max(s.stats.peakInFlight, s.inFlight);
    try {
      await sleep(s.latencyMs, stop);
      await next();
    } finally {
      s.inFlight--;
    }
  });

  app.get("/sns/jscode2session", (c) => {
    const q = c.req.query();
    const answer = (body: Json) => {
      if (typeof body.errcode === "number") bump(s.stats.rejections, String(body.errcode));
      // The real endpoint answers JSON with content-type text/plain.
      return c.body(JSON.stringify(body), 200, { "content-type": "text/plain" });
    };
    const err = (errcode: number, msg: string) =>
      answer({ errcode, errmsg: `${msg} rid: ${rid()}` });
    if (q.grant_type !== undefined && q.grant_type !== "authorization_code") {
      return err(40002, "invalid grant_type");
    }
    if (!q.appid) return err(41002, "appid missing");
    if (q.appid !== s.appid) return err(40013, "invalid appid");
    if (!q.secret) return err(41004, "appsecret missing");
    if (q.secret !== s.secret) return err(40125, "invalid appsecret");
    if (!q.js_code) return err(41008, "missing code");
    if (s.loginFault.count > 0) {
      s.loginFault.count--;
      const msg: Record<number, string> = {
        [-1]: "system error",
        45011: "api minute-quota reach limit",
        40226: "high risk user",
      };
      return err(s.loginFault.errcode, msg[s.loginFault.errcode] ?? "error");
    }
    const code = s.codes.get(q.js_code);
    if (!code) return err(40029, "invalid code");
    if (code.used) return err(40163, "code been used");
    if (now() - code.issuedAt > CODE_TTL_MS) return err(40029, "invalid code");
    code.used = true;
    s.stats.logins++;
    const unionid = s.users.get(code.openid)?.unionid;
    return answer({
      session_key: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
      openid: code.openid,
      ...(unionid ? { unionid } : {}),
    });
  });

  const issue = (kind: "classic" | "stable"): TokenRec => {
    const rec = {
      token: randomId(136),
      kind,
      expiresAt: now() + s.expiresInSec * 1000,
      invalidAt: Infinity,
    };
    s.tokens.set(rec.token, rec);
    s.stats.tokens[kind]++;
    return rec;
  };
  const checkCreds = (c: Context, appid: unknown, secret: unknown, grant: unknown) => {
    if (grant !== "client_credential") return fail(c, 40002, "invalid grant_type");
    if (!appid) return fail(c, 41002, "appid missing");
    if (appid !== s.appid) return fail(c, 40013, "invalid appid");
    if (!secret) return fail(c, 41004, "appsecret missing");
    if (secret !== s.secret) return fail(c, 40125, "invalid appsecret");
    return null;
  };

  app.get("/cgi-bin/token", (c) => {
    const q = c.req.query();
    const bad = checkCreds(c, q.appid, q.secret, q.grant_type);
    if (bad) return bad;
    const prev = s.classicCurrent ? s.tokens.get(s.classicCurrent) : undefined;
    if (prev) prev.invalidAt = Math.min(prev.invalidAt, now() + s.classicGraceMs);
    const rec = issue("classic");
    s.classicCurrent = rec.token;
    return c.json({ access_token: rec.token, expires_in: s.expiresInSec });
  });

  app.post("/cgi-bin/stable_token", async (c) => {
    const b = await readJson(c);
    if (!b) return fail(c, 47001, "data format error");
    const bad = checkCreds(c, b.appid, b.secret, b.grant_type);
    if (bad) return bad;
    const t = now();
    const cur = s.stableCurrent ? s.tokens.get(s.stableCurrent) : undefined;
    // Renews early: 5 minutes for a 7200 s token, proportionally less for shorter test lifetimes.
    const early = Math.min(300, s.expiresInSec / 24) * 1000;
    if (b.force_refresh !== true && cur && t < cur.expiresAt - early && t < cur.invalidAt) {
      return c.json({
        access_token: cur.token,
        expires_in: Math.floor((cur.expiresAt - t) / 1000),
      });
    }
    if (b.force_refresh === true) {
      const day = Math.floor(t / DAY_MS);
      if (day !== s.forceDay) [s.forceDay, s.forceCount] = [day, 0];
      if (s.forceRefreshLimits && t - s.forceAt < 30_000) {
        return fail(
          c,
          45011,
          "api minute-quota reach limit, force_refresh needs 30 s between calls",
        );
      }
      if (s.forceRefreshLimits && s.forceCount >= 20) {
        return fail(c, 45009, "reach max api daily quota limit");
      }
      s.forceAt = t;
      s.forceCount++;
      if (cur) cur.invalidAt = Math.min(cur.invalidAt, t);
    }
    const rec = issue("stable");
    s.stableCurrent = rec.token;
    return c.json({ access_token: rec.token, expires_in: s.expiresInSec });
  });

  const faultAnswer = (c: Context, kind: string) => {
    bump(s.stats.faults, kind);
    if (kind === "busy") return fail(c, -1, "system error");
    if (kind === "freq") {
      return fail(c, 45011, "api minute-quota reach limit mustslower retry next minute");
    }
    if (kind === "quota") return fail(c, 45009, "reach max api daily quota limit");
    if (kind === "token_expired") return fail(c, 42001, "access_token expired");
    bump(s.stats.rejections, kind);
    return kind === "reset" ? c.text("Bad Gateway", 502) : c.text("Internal Server Error", 500);
  };

  const badData = (data: unknown, api: Api): string | null => {
    if (!isObj(data)) return "data";
    for (const [key, v] of Object.entries(data)) {
      if (!isObj(v) || typeof v.value !== "string") return `data.${key}.value`;
      const limit = api === "subscribe" ? VALUE_LIMITS[key.replace(/\d+$/, "")] : undefined;
      if (limit !== undefined && (v.value.length === 0 || [...v.value].length > limit)) {
        return `data.${key}.value`;
      }
    }
    return null;
  };

  const badToken = (c: Context) => {
    const token = c.req.query("access_token");
    if (!token) return fail(c, 41001, "access_token missing");
    const rec = s.tokens.get(token);
    const t = now();
    if (!rec || t >= rec.invalidAt) {
      return fail(c, 40001, "invalid credential, access_token is invalid or not latest");
    }
    if (t >= rec.expiresAt) return fail(c, 42001, "access_token expired");
    return null;
  };

  app.get("/wxaapi/newtmpl/gettemplate", (c) => {
    const bad = badToken(c);
    if (bad) return bad;
    return c.json({
      errcode: 0,
      errmsg: "ok",
      data: [...s.subscribeTemplates.values()].map(templateEntry),
    });
  });

  const send = async (c: Context, api: Api) => {
    const b = await readJson(c);
    if (!b) return fail(c, 47001, "data format error");
    let fault: string | undefined;
    if (s.faults.rate > 0 && s.faults.kinds.length > 0 && s.rng() < s.faults.rate) {
      fault = s.faults.kinds[Math.floor(s.rng() * s.faults.kinds.length)];
      if (fault !== "timeout") return faultAnswer(c, fault);
    }
    const bad = badToken(c);
    if (bad) return bad;
    const t = now();
    const templateId = b.template_id;
    if (typeof templateId !== "string" || !s.templates.has(templateId)) {
      return fail(c, 40037, "invalid template_id");
    }
    const page = b.page;
    if (page !== undefined && page !== "") {
      const path = typeof page === "string" ? page.split("?")[0].replace(/^\//, "") : null;
      if (path === null || (s.pages && !s.pages.has(path))) return fail(c, 41030, "invalid page");
    }
    const typed = api === "subscribe" ? s.subscribeTemplates.get(templateId) : undefined;
    if (typed) {
      const refusal = keywordFault(typed, b.data);
      if (refusal) return fail(c, 47003, refusal);
    } else if (api === "subscribe" || b.data !== undefined) {
      const field = b.data === undefined ? "data" : badData(b.data, api);
      if (field) return fail(c, 47003, `argument invalid! ${field} invalid`);
    }
    if (api === "subscribe") {
      const st = b.miniprogram_state, lang = b.lang;
      if (st !== undefined && !STATES.includes(st as string)) {
        return fail(c, 47003, "argument invalid! miniprogram_state invalid");
      }
      if (lang !== undefined && !LANGS.includes(lang as string)) {
        return fail(c, 47003, "argument invalid! lang invalid");
      }
    }
    const touser = b.touser;
    if (typeof touser !== "string" || !s.users.has(touser)) return fail(c, 40003, "invalid openid");
    let creditId: string;
    if (api === "template") {
      const formId = typeof b.form_id === "string" ? b.form_id : "";
      const cr = s.credits.get(formId);
      if (!cr || cr.openid !== touser || t - cr.registeredAt >= FORM_TTL_MS) {
        return fail(c, 41028, "invalid form id");
      }
      if (cr.used >= cr.uses) return fail(c, 41029, "form id used count reach limit");
      cr.used++;
      creditId = formId;
    } else {
      const key = `${touser}\u0000${templateId}`;
      const left = s.grants.get(key) ?? 0;
      if (left <= 0) return fail(c, 43101, "user refuse to accept the msg");
      s.grants.set(key, left - 1);
      creditId = `grant:${templateId}`;
    }
    const msgid = s.nextMsgid++;
    s.stats.sendsAccepted++;
    bump(s.stats.sends[touser] ??= {}, creditId);
    s.stats.delivered.push({
      msgid,
      api,
      touser,
      templateId,
      creditId,
      ...(typeof page === "string" && page ? { page } : {}),
      data: b.data,
      at: t,
    });
    if (fault === "timeout") {
      bump(s.stats.faults, "timeout");
      await sleep(s.faults.timeoutMs, stop);
    }
    return c.json({ errcode: 0, errmsg: "ok", msgid });
  };

  app.post("/cgi-bin/message/wxopen/template/send", (c) => send(c, "template"));
  app.post("/cgi-bin/message/subscribe/send", (c) => send(c, "subscribe"));

  // ---- control endpoints ----
  const badReq = (c: Context, error: string) => c.json({ error }, 400);
  const register = async (user?: unknown, openid?: unknown, unionid?: unknown) => {
    const id = typeof openid === "string" && openid
      ? openid
      : await deriveOpenid(String(user), s.appid);
    const prev = s.users.get(id) ?? {};
    const union = typeof unionid === "string"
      ? unionid
      : unionid === true
      ? await deriveUnionid(String(user))
      : prev.unionid;
    s.users.set(id, {
      ...(typeof user === "string" ? { user } : prev.user ? { user: prev.user } : {}),
      ...(union ? { unionid: union } : {}),
    });
    return { openid: id, ...(union ? { unionid: union } : {}) };
  };
  const many = async (c: Context) => {
    try {
      const body = await c.req.json();
      const list = Array.isArray(body) ? body : [body];
      return list.every(isObj) ? (list as Json[]) : null;
    } catch {
      return null;
    }
  };

  app.post("/__sim/codes", async (c) => {
    const b = await readJson(c);
    if (!b || typeof b.user !== "string" || !b.user) return badReq(c, "user (string) required");
    const user = await register(b.user, undefined, b.unionid);
    const code = randomId(32);
    s.codes.set(code, { openid: user.openid, issuedAt: now(), used: false });
    return c.json({ code, ...user });
  });

  app.post("/__sim/users", async (c) => {
    const b = await readJson(c);
    if (!b || (typeof b.user !== "string" && typeof b.openid !== "string")) {
      return badReq(c, "user or openid required");
    }
    return c.json(await register(b.user, b.openid, b.unionid));
  });

  app.post("/__sim/login-fault", async (c) => {
    const b = await readJson(c);
    if (!b || ![0, -1, 45011, 40226].includes(b.errcode as number)) {
      return badReq(c, "errcode must be 0, -1, 45011 or 40226");
    }
    s.loginFault = { errcode: b.errcode as number, count: b.errcode ? Number(b.count ?? 1) : 0 };
    return c.json({ ok: true, ...s.loginFault });
  });

  app.post("/__sim/credits", async (c) => {
    const list = await many(c);
    if (!list) return badReq(c, "JSON object or array expected");
    for (const b of list) {
      if (typeof b.openid !== "string" || typeof b.id !== "string" || !b.id) {
        return badReq(c, "openid and id (strings) required");
      }
      if (b.kind !== "form" && b.kind !== "prepay") {
        return badReq(c, 'kind must be "form" or "prepay"');
      }
      if (MOCK_FORM_IDS.includes(b.id)) return badReq(c, "DevTools placeholder is never a credit");
      if (s.credits.has(b.id)) return c.json({ error: `credit ${b.id} already registered` }, 409);
    }
    for (const b of list) {
      if (!s.users.has(b.openid as string)) await register(undefined, b.openid);
      s.credits.set(b.id as string, {
        openid: b.openid as string,
        kind: b.kind as "form" | "prepay",
        uses: b.kind === "form" ? 1 : 3,
        used: 0,
        registeredAt: now(),
      });
    }
    return c.json({ ok: true, count: list.length });
  });

  app.post("/__sim/grants", async (c) => {
    const list = await many(c);
    if (!list) return badReq(c, "JSON object or array expected");
    for (const b of list) {
      const n = b.count ?? 1;
      if (typeof b.openid !== "string" || typeof b.templateId !== "string") {
        return badReq(c, "openid and templateId (strings) required");
      }
      if (!Number.isInteger(n) || (n as number) < 0) {
        return badReq(c, "count must be an integer >= 0");
      }
    }
    for (const b of list) {
      if (!s.users.has(b.openid as string)) await register(undefined, b.openid);
      const key = `${b.openid}\u0000${b.templateId}`;
      s.grants.set(key, (s.grants.get(key) ?? 0) + ((b.count ?? 1) as number));
    }
    return c.json({ ok: true, count: list.length });
  });

  // `{ ids: [...] }` adds templates known by id only; `{ templates: [{ id, title?, type?: 2|3,
  // keywords: [{ key, label?, enumValues? }] }] }` adds (or redefines) subscribe templates that
  // gettemplate lists and sends are checked against. `replace: true` drops every template first.
  app.post("/__sim/templates", async (c) => {
    const b = await readJson(c);
    const ids = b?.ids ?? [];
    if (!b || !Array.isArray(ids) || !ids.every((x) => typeof x === "string")) {
      return badReq(c, "ids (string[]) required");
    }
    if (b.ids === undefined && b.templates === undefined) {
      return badReq(c, "ids (string[]) required");
    }
    const defs: SimTemplate[] = [];
    if (b.templates !== undefined) {
      if (!Array.isArray(b.templates)) return badReq(c, "templates must be an array");
      for (const raw of b.templates) {
        const def = readSimTemplate(raw);
        if (typeof def === "string") return badReq(c, def);
        defs.push(def);
      }
    }
    if (b.replace === true) {
      s.templates.clear();
      s.subscribeTemplates.clear();
    }
    for (const id of ids) s.templates.add(id);
    for (const def of defs) {
      s.templates.add(def.id);
      s.subscribeTemplates.set(def.id, def);
    }
    return c.json({ ok: true, templates: [...s.templates] });
  });

  app.post("/__sim/faults", async (c) => {
    const b = await readJson(c);
    if (!b) return badReq(c, "JSON object expected");
    const rate = Number(b.rate ?? s.faults.rate);
    const kinds = (b.kinds ?? s.faults.kinds) as string[];
    if (!(rate >= 0 && rate <= 1)) return badReq(c, "rate must be within 0..1");
    if (!Array.isArray(kinds) || !kinds.every((k) => FAULT_KINDS.includes(k))) {
      return badReq(c, `kinds must be among ${FAULT_KINDS.join(", ")}`);
    }
    s.faults = { rate, kinds, timeoutMs: Number(b.timeoutMs ?? s.faults.timeoutMs) };
    if (b.latencyMs !== undefined) s.latencyMs = Number(b.latencyMs);
    if (b.seed !== undefined) s.rng = prng(Number(b.seed));
    return c.json({ ok: true, ...s.faults, latencyMs: s.latencyMs });
  });

  app.post("/__sim/config", async (c) => {
    const b = await readJson(c);
    if (!b) return badReq(c, "JSON object expected");
    if (b.latencyMs !== undefined) s.latencyMs = Number(b.latencyMs);
    if (b.classicGraceMs !== undefined) s.classicGraceMs = Number(b.classicGraceMs);
    if (b.expiresInSec !== undefined) s.expiresInSec = Number(b.expiresInSec);
    if (b.forceRefreshLimits !== undefined) s.forceRefreshLimits = b.forceRefreshLimits === true;
    if (b.pages !== undefined) {
      s.pages = Array.isArray(b.pages)
        ? new Set(b.pages.map((p) => String(p).replace(/^\//, "")))
        : null;
    }
    return c.json({
      ok: true,
      latencyMs: s.latencyMs,
      classicGraceMs: s.classicGraceMs,
      expiresInSec: s.expiresInSec,
      forceRefreshLimits: s.forceRefreshLimits,
      pages: s.pages ? [...s.pages] : null,
    });
  });

  app.post("/__sim/clock", async (c) => {
    const b = await readJson(c);
    const ms = Number(b?.advanceMs);
    if (!Number.isFinite(ms) || ms < 0) return badReq(c, "advanceMs (number >= 0) required");
    s.clockOffsetMs += ms;
    return c.json({ ok: true, nowMs: now() });
  });

  app.post("/__sim/expire-token", (c) => {
    const t = now();
    let expired = 0;
    for (const rec of s.tokens.values()) {
      if (rec.expiresAt > t && rec.invalidAt > t) [rec.expiresAt, expired] = [t, expired + 1];
    }
    return c.json({ ok: true, expired });
  });

  app.post("/__sim/reset", (c) => {
    Object.assign(s, freshState(opts), { inFlight: s.inFlight });
    return c.json({ ok: true });
  });

  app.get("/__sim/stats", (c) => {
    const brief = c.req.query("brief") === "1";
    const grants: Record<string, Record<string, number>> = {};
    for (const [key, n] of s.grants) {
      const [openid, tpl] = key.split("\u0000");
      (grants[openid] ??= {})[tpl] = n;
    }
    return c.json({
      ...s.stats,
      ...(brief ? { delivered: undefined } : { grants }),
      nowMs: now(),
      inFlight: s.inFlight,
      latencyMs: s.latencyMs,
    });
  });

  return app;
}

/**
 * Start the WeChat simulator on 127.0.0.1 (port 0 = any free port).
 * `state` is the live state object; tests should prefer the `/__sim/` control endpoints.
 */
export async function startWeChatSim(
  opts: SimOptions = {},
): Promise<{ url: string; close(): Promise<void>; state: SimState }> {
  const state = freshState(opts);
  const stop = new AbortController();
  const app = buildApp(state, opts, stop.signal);
  const { promise: listening, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => resolve() },
    app.fetch,
  );
  await listening;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    state,
    close() {
      stop.abort();
      return (closing ??= server.shutdown());
    },
  };
}

if (import.meta.main) {
  const sim = await startWeChatSim({
    port: Number(Deno.env.get("PORT") ?? 8089),
    appid: Deno.env.get("WECHAT_APPID") || undefined,
    secret: Deno.env.get("WECHAT_SECRET") || undefined,
    latencyMs: Number(Deno.env.get("SIM_LATENCY_MS") ?? 0),
  });
  console.log(`wechat sim listening on ${sim.url} (appid ${sim.state.appid})`);
}
