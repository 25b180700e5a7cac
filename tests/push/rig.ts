/**
 * A push test rig: the WeChat simulator over HTTP and the real service (Redis store through the
 * Upstash bridge, or the memory store) pointed at it, with helpers that give users credits in
 * both the ledger and the simulator.
 *
 * @module
 */
import { startService, type StoreKind, TEST_ENV, type TestService } from "../helpers/service.ts";
import { startWeChatSim } from "../../tools/wechat_sim.ts";
import type { CreditKind, StoredEvent } from "../../src/ledger/events.ts";
import type { LedgerStore } from "../../src/ledger/store.ts";
import { simControl as simControlOf } from "../helpers/sim_control.ts";

export type Json = Record<string, unknown>;

/** The brief simulator statistics. */
export interface SimStatsBrief {
  sends: Record<string, Record<string, number>>;
  sendsAccepted: number;
  tokens: { classic: number; stable: number };
  rejections: Record<string, number>;
  faults: Record<string, number>;
  peakInFlight: number;
}

/** A running simulator plus service. */
export interface PushRig {
  sim: Awaited<ReturnType<typeof startWeChatSim>>;
  service: TestService;
  /** Gives a user form/prepay credits (ledger and sim) or subscribe accepts. */
  give(openId: string, formId: string, kind?: CreditKind, templateId?: string): Promise<void>;
  /** Gives many users one form credit each, fast (one sim call, concurrent ledger calls). */
  giveMany(credits: { openId: string; formId: string }[]): Promise<void>;
  /** POSTs to the service as admin. */
  call(path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** POSTs to a simulator control endpoint. */
  simControl(path: string, body: unknown): Promise<Json>;
  stats(): Promise<SimStatsBrief>;
  close(): Promise<void>;
}

/** The sim's credentials, known to the service through its environment. */
export const SIM_ENV = { WECHAT_APPID: "wx_sim_appid", WECHAT_SECRET: "sim_secret" };

/** Starts a simulator and a service on `store`. */
export async function startPushRig(
  store: StoreKind,
  env: Record<string, string> = {},
  simLatencyMs = 0,
): Promise<PushRig> {
  const sim = await startWeChatSim({ latencyMs: simLatencyMs });
  const service = await startService({
    store,
    env: {
      ...SIM_ENV,
      WECHAT_API_BASE: sim.url,
      WECHAT_TIMEOUT_MS: "2000",
      PUSH_RETRY_BASE_MS: "5",
      ...env,
    },
  });
  const simControl = (path: string, body: unknown) => simControlOf(sim.url, path, body);
  return {
    sim,
    service,
    simControl,
    async give(openId, formId, kind = "form", templateId) {
      if (kind === "subscribe") {
        await simControl("/__sim/grants", { openid: openId, templateId, count: 1 });
      } else {
        await simControl("/__sim/credits", { openid: openId, kind, id: formId });
      }
      const result = await service.ledger.collect(openId, [{ formId, kind, templateId }]);
      if (result.accepted.length !== 1) throw new Error(`credit ${formId} not collected`);
    },
    async giveMany(credits) {
      for (let i = 0; i < credits.length; i += 2000) {
        await simControl(
          "/__sim/credits",
          credits.slice(i, i + 2000).map((c) => ({ openid: c.openId, kind: "form", id: c.formId })),
        );
      }
      let next = 0;
      await Promise.all(Array.from({ length: 32 }, async () => {
        while (next < credits.length) {
          const c = credits[next++];
          await service.ledger.collect(c.openId, [{ formId: c.formId, kind: "form" }]);
        }
      }));
    },
    call(path, body, headers = {}) {
      return fetch(`${service.url}${path}`, {
        method: body === undefined ? "GET" : "POST",
        headers: {
          authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    },
    async stats() {
      return await (await fetch(`${sim.url}/__sim/stats?brief=1`)).json();
    },
    async close() {
      await service.push?.worker.stop();
      await service.close();
      await sim.close();
    },
  };
}

/** The whole log of a store. */
export async function readLog(store: LedgerStore): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (;;) {
    const page = await store.readEvents(all.length, 2000);
    if (page.length === 0) return all;
    all.push(...page);
  }
}

/** A message body for TPL_ORDER. */
export const ORDER = { templateId: "TPL_ORDER", data: { keyword1: { value: "shipped" } } };

/**
 * Accounts for every credit from the log alone: each FormIdConsumed must be followed (same
 * pushId, openId, formId) by a PushSucceeded, a PushFailed, or a FormIdReleased. Returns the
 * consumptions without an outcome (should be empty) and counts per fate.
 */
export function auditCredits(log: StoredEvent[]) {
  const open = new Map<string, number>();
  const fates: Record<string, number> = {};
  const key = (d: Json) => `${d.openId}\u0000${d.formId}\u0000${d.pushId}`;
  for (const event of log) {
    const d = event.data as Json;
    if (event.type === "FormIdConsumed") open.set(key(d), (open.get(key(d)) ?? 0) + 1);
    if (event.type === "PushSucceeded" || event.type === "PushFailed") {
      if (d.formId === undefined) continue;
      const k = key(d);
      if (!open.get(k)) continue;
      const fate = event.type === "PushSucceeded" ? "sent" : `failed:${d.class}`;
      // A failure whose credit is returned is settled by its FormIdReleased.
      if (
        event.type === "PushFailed" &&
        ["transient", "request", "token", "quota"].includes(d.class as string)
      ) {
        continue;
      }
      fates[fate] = (fates[fate] ?? 0) + 1;
      open.set(k, open.get(k)! - 1);
    }
    if (event.type === "FormIdReleased") {
      const k = key(d);
      if (!open.get(k)) throw new Error(`release without consumption: ${k}`);
      fates.released = (fates.released ?? 0) + 1;
      open.set(k, open.get(k)! - 1);
    }
  }
  const unsettled = [...open.entries()].filter(([, n]) => n !== 0).map(([k]) => k);
  return { unsettled, fates };
}
