/**
 * The simulator's WeChat API: `jscode2session`, classic and stable access tokens, the account's
 * subscribe templates, and template / subscribe message sends with WeChat's errcodes. Latency and
 * faults injected through the control API apply here.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { type SimContext } from "./context.ts";
import { keywordFault, templateEntry } from "./keywords.ts";
import { pushLater } from "./push_dispatch.ts";
import {
  type Api,
  CODE_TTL_MS,
  DAY_MS,
  FORM_TTL_MS,
  isObj,
  type Json,
  LANGS,
  randomId,
  sleep,
  STATES,
  type TokenRec,
  VALUE_LIMITS,
} from "./state.ts";
import { spendGrant } from "./user_subscriptions.ts";

/**
 * Mounts the WeChat API endpoints on `app`.
 *
 * @example
 * ```ts
 * wechatApiRoutes(app, simContext(state, {}, stop.signal));
 * ```
 */
export function wechatApiRoutes(app: Hono, ctx: SimContext): void {
  const { s, stop, now, rid, bump, fail, readJson } = ctx;
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
      const longTerm = s.subscribeTemplates.get(templateId)?.type === 3;
      const spent = spendGrant(s.sub, s.grants, touser, templateId, longTerm);
      if (spent === null) return fail(c, 43101, "user refuse to accept the msg");
      creditId = spent;
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
    if (api === "subscribe" && s.sub.push?.sentEvents) {
      const item = { templateId, msgId: String(msgid), errorCode: 0, errorStatus: "success" };
      pushLater(s.sub, touser, { event: "subscribe_msg_sent_event", items: [item] }, t);
    }
    if (fault === "timeout") {
      bump(s.stats.faults, "timeout");
      await sleep(s.faults.timeoutMs, stop);
    }
    return c.json({ errcode: 0, errmsg: "ok", msgid });
  };

  app.post("/cgi-bin/message/wxopen/template/send", (c) => send(c, "template"));
  app.post("/cgi-bin/message/subscribe/send", (c) => send(c, "subscribe"));
}
