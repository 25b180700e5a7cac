/**
 * The simulator's control API under `/__sim/`: login codes for named test users, users, credits
 * and grants WeChat would know, templates, faults, latency, the clock, token expiry, reset and
 * stats. Tests, benchmarks and the dev mode's quick start drive the simulated WeChat with it.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { type SimContext } from "./context.ts";
import { readSimTemplate } from "./keywords.ts";
import {
  deriveOpenid,
  deriveUnionid,
  FAULT_KINDS,
  freshState,
  isObj,
  type Json,
  MOCK_FORM_IDS,
  prng,
  randomId,
  type SimTemplate,
} from "./state.ts";

/**
 * Mounts the control endpoints on `app`.
 *
 * @example
 * ```ts
 * controlRoutes(app, simContext(state, {}, stop.signal));
 * ```
 */
export function controlRoutes(app: Hono, ctx: SimContext): void {
  const { s, opts, now, readJson } = ctx;
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
      // A long-term template has no count: a grant switches it on.
      if (s.subscribeTemplates.get(b.templateId as string)?.type === 3) {
        if (b.count !== 0) s.sub.longTerm.add(key);
      } else s.grants.set(key, (s.grants.get(key) ?? 0) + ((b.count ?? 1) as number));
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
    if (b.maxTmplIds !== undefined) s.sub.maxTmplIds = Number(b.maxTmplIds);
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
      maxTmplIds: s.sub.maxTmplIds,
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
    const pending = s.sub.pending; // pushes in flight are still waited for by close()
    Object.assign(s, freshState(opts), { inFlight: s.inFlight });
    s.sub.pending = pending;
    return c.json({ ok: true });
  });

  app.get("/__sim/stats", (c) => {
    const brief = c.req.query("brief") === "1";
    const grants: Record<string, Record<string, number>> = {};
    for (const [key, n] of s.grants) {
      const [openid, tpl] = key.split("\u0000");
      (grants[openid] ??= {})[tpl] = n;
    }
    const longTerm: Record<string, string[]> = {};
    for (const key of s.sub.longTerm) {
      const [openid, tpl] = key.split("\u0000");
      (longTerm[openid] ??= []).push(tpl);
    }
    return c.json({
      ...s.stats,
      ...(brief ? { delivered: undefined } : { grants, longTerm }),
      nowMs: now(),
      inFlight: s.inFlight,
      latencyMs: s.latencyMs,
    });
  });
}
