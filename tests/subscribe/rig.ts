/**
 * A rig for subscribe-message tests: the WeChat simulator and the real service with WeChat's
 * event push configured (safe mode, JSON, unless told otherwise), users logged in through the
 * real `POST /v1/sessions`, and WeChat's pushes signed and encrypted by the simulator's event
 * pusher (tools/wechat_sim_events.ts) and posted over HTTP.
 *
 * @module
 */
import type { ManualClock } from "../../src/shared/clock.ts";
import type { StoredEvent } from "../../src/ledger/events.ts";
import {
  type PostAttempt,
  postPush,
  signedPush,
  type SimEvent,
} from "../../tools/wechat_sim_events.ts";
import { readAll } from "../store/store_contract.ts";
import type { StoreKind } from "../helpers/service.ts";
import { ADMIN, call, login, type Reply, type Rig, startRig } from "../http/login_helpers.ts";
import { simControl as simControlOf } from "../helpers/sim_control.ts";

/** The push settings the service and the simulated WeChat share. */
export const PUSH = {
  token: "subToken123",
  encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
  mode: "safe" as const,
  format: "json" as const,
};

/** The service's environment for the event push (safe mode, JSON). */
export const PUSH_ENV = {
  WECHAT_PUSH_TOKEN: PUSH.token,
  WECHAT_PUSH_AES_KEY: PUSH.encodingAESKey,
  WECHAT_PUSH_MODE: PUSH.mode,
  WECHAT_PUSH_FORMAT: PUSH.format,
};

/** A one-time template with a `thing` and a `time`, and a long-term one with an enum phrase. */
export const SIM_TEMPLATES = [
  {
    id: "TPL_ONE",
    title: "到货提醒",
    type: 2,
    keywords: [{ key: "thing1", label: "物品" }, { key: "time2", label: "时间" }],
  },
  {
    id: "TPL_LONG",
    title: "航班动态",
    type: 3,
    keywords: [{ key: "phrase1", label: "状态", enumValues: ["延误", "准点"] }],
  },
];

/** The rig and its helpers. */
export interface SubRig extends Rig {
  clock: ManualClock | undefined;
  /** Posts one of WeChat's events for `openId`, signed and encrypted, as WeChat would. */
  wechat(openId: string, event: SimEvent, createTime?: number): Promise<PostAttempt>;
  /** A JSON call to the service as admin. */
  admin(path: string, body?: unknown): Promise<Reply>;
  /** A JSON call with a user's session token. */
  user(token: string, path: string, body?: unknown): Promise<Reply>;
  /** Calls a simulator control endpoint. */
  simControl(path: string, body: unknown): Promise<Record<string, unknown>>;
  /** The whole log. */
  log(): Promise<StoredEvent[]>;
  /** Logs a user in. */
  login(user: string): Promise<{ token: string; openId: string }>;
}

/**
 * Starts the rig; the simulator knows {@link SIM_TEMPLATES} and the service synced them once.
 *
 * @example
 * ```ts
 * const rig = await startSubRig("redis");
 * ```
 */
export async function startSubRig(
  store: StoreKind,
  options: { env?: Record<string, string>; clock?: ManualClock; sync?: boolean } = {},
): Promise<SubRig> {
  const rig = await startRig(store, { ...PUSH_ENV, ...options.env }, options.clock);
  const simControl = (path: string, body: unknown) => simControlOf(rig.sim.url, path, body);
  await simControl("/__sim/templates", { templates: SIM_TEMPLATES });
  const admin = (path: string, body?: unknown) =>
    call(`${rig.svc.url}${path}`, body === undefined ? "GET" : "POST", body, ADMIN);
  if (options.sync !== false) {
    const synced = await admin("/v1/templates/sync", {});
    if (synced.status !== 200) throw new Error(`sync: ${JSON.stringify(synced.body)}`);
  }
  return {
    ...rig,
    clock: options.clock,
    async wechat(openId, event, createTime) {
      const now = options.clock?.now() ?? Date.now();
      const seconds = Math.floor(now / 1000);
      const push = signedPush(event, { openId, createTime: createTime ?? seconds }, {
        ...PUSH,
        appid: rig.sim.state.appid,
      }, { timestamp: seconds });
      const [attempt] = await postPush(`${rig.svc.url}/v1/wechat/events`, push);
      return attempt;
    },
    admin,
    user: (token, path, body) =>
      call(`${rig.svc.url}${path}`, body === undefined ? "GET" : "POST", body, token),
    simControl,
    log: () => readAll(rig.svc.store),
    login: (user) => login(rig, user),
  };
}

/** A popup event answering `status` for each template. */
export function popup(...items: [string, string][]): SimEvent {
  return {
    event: "subscribe_msg_popup_event",
    items: items.map(([templateId, status]) => ({ templateId, status, popupScene: "0" })),
  };
}
