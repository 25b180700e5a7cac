/**
 * The simulator's control API for subscriptions, under `/__sim/`:
 *
 * - `POST /__sim/subscribe`: a user's `wx.requestSubscribeMessage` as WeChat's backend sees it.
 *   Kept choices ("always keep") answer at once with no dialog; the other templates get the
 *   scripted dialog answers. Each accept counts a grant (long-term: switches the template on), and
 *   the same call pushes `subscribe_msg_popup_event` to the configured URL, so the grants the
 *   simulator holds and the events the service receives come from the same accepts.
 * - `POST /__sim/revoke`: the user turns templates off in the settings page (grants dropped,
 *   long-term off, kept choice `reject`), pushing `subscribe_msg_change_event`.
 * - `GET|POST /__sim/settings`: the main switch and kept choices `wx.getSetting` reads.
 * - `POST /__sim/push-config`, `GET /__sim/pushes`: where and how events are pushed; what was.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import { type SimContext } from "./context.ts";
import { pushEvent, settlePushes } from "./push_dispatch.ts";
import { deriveOpenid, isObj, type Json } from "./state.ts";
import {
  ACCEPT_ANSWERS,
  isAccept,
  type PushTarget,
  recordAccept,
  revokeTemplate,
  settingsOf,
} from "./user_subscriptions.ts";

/** Answers a scripted dialog may give (`ban` stands for a template WeChat has banned). */
const DIALOG_ANSWERS = [...ACCEPT_ANSWERS, "reject", "ban"];
const FAIL = "requestSubscribeMessage:fail";

/**
 * Mounts the subscription control endpoints on `app`.
 *
 * @example
 * ```ts
 * subscribeControlRoutes(app, simContext(state, {}, stop.signal));
 * ```
 */
export function subscribeControlRoutes(app: Hono, ctx: SimContext): void {
  const { s, now, readJson } = ctx;
  const badReq = (c: Context, error: string) => c.json({ error }, 400);
  const openidOf = async (b: Json | Record<string, string>): Promise<string | null> => {
    if (typeof b.openid === "string" && b.openid) {
      if (!s.users.has(b.openid)) s.users.set(b.openid, {});
      return b.openid;
    }
    if (typeof b.user !== "string" || !b.user) return null;
    const openid = await deriveOpenid(b.user, s.appid);
    if (!s.users.has(openid)) s.users.set(openid, { user: b.user });
    return openid;
  };
  const isLongTerm = (id: string) => s.subscribeTemplates.get(id)?.type === 3;

  app.post("/__sim/subscribe", async (c) => {
    const b = await readJson(c);
    const openid = b ? await openidOf(b) : null;
    if (!b || !openid) return badReq(c, "user or openid required");
    const ids = b.tmplIds, answers = b.answers ?? {};
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === "string")) {
      return badReq(c, "tmplIds (string[]) required");
    }
    if (
      !isObj(answers) || !Object.values(answers).every((a) => DIALOG_ANSWERS.includes(a as string))
    ) {
      return badReq(c, `each answer is one of ${DIALOG_ANSWERS.join(", ")}`);
    }
    if (ids.length > 1 && Object.values(answers).includes("acceptWithAudio")) {
      return badReq(c, "acceptWithAudio: WeChat offers the voice reminder only for one template");
    }
    // WeChat's errCodes of wx.requestSubscribeMessage, in the order it checks them.
    const fail = (errCode: number, why: string) =>
      c.json({ ok: false, openid, result: { errMsg: `${FAIL} ${why}`, errCode }, dialog: [] });
    const user = settingsOf(s.sub, openid);
    if (ids.length === 0) return fail(10001, "TmplIds can't be empty");
    if (ids.length > s.sub.maxTmplIds) return fail(20003, "Templates count out of max bounds");
    if (!ids.every((id) => s.templates.has(id))) {
      return fail(20001, "No template data return, verify the template id exist");
    }
    if (new Set(ids.map(isLongTerm)).size > 1) {
      return fail(20002, "Templates type must be same");
    }
    if (!user.mainSwitch) return fail(20004, "The main switch is switched off");

    const result: Record<string, string> = { errMsg: "requestSubscribeMessage:ok" };
    const dialog: string[] = [];
    const popup: { templateId: string; status: string; popupScene: string }[] = [];
    const titles = new Set<string>();
    const scene = typeof b.popupScene === "string" ? b.popupScene : "0";
    for (const id of ids as string[]) {
      const title = s.subscribeTemplates.get(id)?.title ?? id;
      if (titles.has(title)) { // a second template with the same title is filtered out
        result[id] = "filter";
        continue;
      }
      titles.add(title);
      const kept = user.items.get(id);
      const answer = kept ?? (answers[id] as string | undefined) ?? "reject";
      result[id] = answer;
      if (kept === undefined) dialog.push(id);
      if (isAccept(answer)) recordAccept(s.sub, s.grants, openid, id, isLongTerm(id));
      const pushed = answer !== "ban" && (kept === undefined || s.sub.push?.silentEvents);
      if (pushed) popup.push({ templateId: id, status: answer, popupScene: scene });
    }
    if (b.keep === true) {
      for (const id of dialog) user.items.set(id, isAccept(result[id]) ? result[id] : "reject");
    }
    const push = await pushEvent(
      s.sub,
      openid,
      { event: "subscribe_msg_popup_event", items: popup },
      now(),
    );
    return c.json({ ok: true, openid, result, dialog, push });
  });

  app.post("/__sim/revoke", async (c) => {
    const b = await readJson(c);
    const openid = b ? await openidOf(b) : null;
    const ids = b?.templateIds;
    if (!b || !openid) return badReq(c, "user or openid required");
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === "string")) {
      return badReq(c, "templateIds (non-empty string[]) required");
    }
    const dropped: Record<string, number> = {};
    for (const id of ids as string[]) dropped[id] = revokeTemplate(s.sub, s.grants, openid, id);
    const items = (ids as string[]).map((templateId) => ({ templateId, status: "reject" }));
    const push = await pushEvent(
      s.sub,
      openid,
      { event: "subscribe_msg_change_event", items },
      now(),
    );
    return c.json({ ok: true, openid, dropped, push });
  });

  app.get("/__sim/settings", async (c) => {
    const openid = await openidOf(c.req.query());
    if (!openid) return badReq(c, "user or openid required");
    const user = settingsOf(s.sub, openid);
    // As wx.getSetting: itemSettings only when the user kept a choice for some template.
    return c.json({
      mainSwitch: user.mainSwitch,
      ...(user.items.size > 0 ? { itemSettings: Object.fromEntries(user.items) } : {}),
    });
  });

  app.post("/__sim/settings", async (c) => {
    const b = await readJson(c);
    const openid = b ? await openidOf(b) : null;
    if (!b || !openid) return badReq(c, "user or openid required");
    const items = b.items ?? {};
    if (b.mainSwitch !== undefined && typeof b.mainSwitch !== "boolean") {
      return badReq(c, "mainSwitch must be a boolean");
    }
    if (!isObj(items) || !Object.values(items).every((v) => v === null || typeof v === "string")) {
      return badReq(c, "items maps template ids to accept | reject | ban (or null to forget)");
    }
    const user = settingsOf(s.sub, openid);
    if (typeof b.mainSwitch === "boolean") user.mainSwitch = b.mainSwitch;
    for (const [id, v] of Object.entries(items)) {
      if (v === null) user.items.delete(id);
      else user.items.set(id, v as string);
    }
    return c.json({
      ok: true,
      openid,
      mainSwitch: user.mainSwitch,
      items: Object.fromEntries(user.items),
    });
  });

  app.post("/__sim/push-config", async (c) => {
    const b = await readJson(c);
    if (!b) return badReq(c, "JSON object expected");
    if (b.url === null) {
      s.sub.push = null;
      return c.json({ ok: true, push: null });
    }
    const target = readPushTarget(b, s.appid);
    if (typeof target === "string") return badReq(c, target);
    s.sub.push = target;
    const { token: _t, encodingAESKey: _k, ...shown } = target; // secrets are never answered
    return c.json({ ok: true, push: shown });
  });

  app.get("/__sim/pushes", async (c) => {
    if (c.req.query("wait") === "1") await settlePushes(s.sub);
    const openid = c.req.query("openid");
    return c.json({
      pushes: openid ? s.sub.pushes.filter((p) => p.openId === openid) : s.sub.pushes,
      pending: s.sub.pending.size,
    });
  });
}

const MODES = ["plain", "compatible", "safe"];

/** The push settings from `POST /__sim/push-config`, or why not. */
function readPushTarget(b: Json, appid: string): PushTarget | string {
  const num = (v: unknown, d: number) => (v === undefined ? d : Number(v));
  const mode = b.mode ?? "safe", format = b.format ?? "json";
  if (typeof b.url !== "string" || !/^https?:\/\//.test(b.url)) return "url (http URL) required";
  if (typeof b.token !== "string" || !/^[A-Za-z0-9]{3,32}$/.test(b.token)) {
    return "token: 3-32 letters or digits, as the admin console takes";
  }
  if (!MODES.includes(mode as string)) return "mode must be plain, compatible or safe";
  if (format !== "json" && format !== "xml") return "format must be json or xml";
  const key = b.encodingAESKey;
  if (key !== undefined && (typeof key !== "string" || !/^[A-Za-z0-9]{43}$/.test(key))) {
    return "encodingAESKey: 43 letters or digits";
  }
  if (mode !== "plain" && key === undefined) return `${mode} mode needs an encodingAESKey`;
  const target: PushTarget = {
    url: b.url,
    token: b.token,
    appid: typeof b.appid === "string" ? b.appid : appid,
    mode: mode as PushTarget["mode"],
    format,
    ...(typeof key === "string" ? { encodingAESKey: key } : {}),
    toUserName: typeof b.toUserName === "string" ? b.toUserName : "gh_sim_original",
    retries: num(b.retries, 3),
    duplicates: num(b.duplicates, 0),
    delayMs: num(b.delayMs, 0),
    timeoutMs: num(b.timeoutMs, 5_000),
    sentEvents: b.sentEvents !== false,
    silentEvents: b.silentEvents === true,
  };
  const counts = [target.retries, target.duplicates, target.delayMs, target.timeoutMs];
  if (!counts.every((n) => Number.isInteger(n) && n >= 0)) {
    return "retries, duplicates, delayMs and timeoutMs are integers >= 0";
  }
  return target;
}
