/**
 * Helpers for HTTP tests of the credits-in endpoints: the service pointed at a WeChat simulator,
 * logins through the real `POST /v1/sessions`, JSON calls.
 *
 * @module
 */
import { startWeChatSim } from "../../tools/wechat_sim.ts";
import { startService, type StoreKind, TEST_ENV, type TestService } from "../helpers/service.ts";
import type { Clock } from "../../src/shared/clock.ts";

/** Both stores, for tests that run on each. */
export const STORES: StoreKind[] = ["memory", "redis"];

/** A running simulator. */
export type Sim = Awaited<ReturnType<typeof startWeChatSim>>;

/** The service and its simulator, stopped together. */
export interface Rig {
  svc: TestService;
  sim: Sim;
  close(): Promise<void>;
}

/** Starts a simulator and the service pointed at it. */
export async function startRig(
  store: StoreKind,
  env: Record<string, string> = {},
  clock?: Clock,
): Promise<Rig> {
  const sim = await startWeChatSim();
  const svc = await startService({
    store,
    clock,
    env: {
      WECHAT_API_BASE: sim.url,
      WECHAT_APPID: sim.state.appid,
      WECHAT_SECRET: sim.state.secret,
      ...env,
    },
  });
  return {
    svc,
    sim,
    async close() {
      await svc.close();
      await sim.close();
    },
  };
}

/** A JSON call's status, headers and parsed body (`null` when the body is not JSON). */
export interface Reply {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** Sends `body` as JSON (or a raw string as-is) with optional bearer token and headers. */
export async function call(
  url: string,
  method: string,
  body?: unknown,
  token?: string | null,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** A fresh `wx.login` code for `user` from the simulator. */
export async function simCode(sim: Sim, user: string): Promise<{ code: string; openid: string }> {
  const res = await fetch(`${sim.url}/__sim/codes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user }),
  });
  return await res.json();
}

/** Logs `user` in through the service; returns the session token and openId. */
export async function login(rig: Rig, user: string): Promise<{ token: string; openId: string }> {
  const { code } = await simCode(rig.sim, user);
  const reply = await call(`${rig.svc.url}/v1/sessions`, "POST", { code });
  if (reply.status !== 200) throw new Error(`login failed: ${JSON.stringify(reply.body)}`);
  return { token: reply.body.token, openId: reply.body.openId };
}

/** The admin bearer token the test service runs with. */
export const ADMIN = TEST_ENV.ADMIN_TOKEN;
/** The audit bearer token the test service runs with. */
export const AUDITOR = TEST_ENV.AUDIT_TOKEN;
