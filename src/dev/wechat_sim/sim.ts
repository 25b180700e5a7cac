/**
 * The WeChat server API simulator (login, access tokens, template and subscribe messages, the
 * account's subscribe templates) with control endpoints under `/__sim/` for tests, benchmarks and
 * the dev mode. Embeddable (`createWeChatSim`: a fetch handler to mount in another server) or on
 * a listener of its own (`startWeChatSim`).
 *
 * Subscribe templates set up with their keywords (`POST /__sim/templates` with `templates`) are
 * listed by `GET /wxaapi/newtmpl/gettemplate`, and a subscribe send to one checks every keyword
 * the way WeChat does (47003 naming the key). Templates known by id only (the defaults,
 * `{ ids }`) are not listed and keep the length-only check.
 *
 * @module
 */
import { Hono } from "hono";
import { controlRoutes } from "./control.ts";
import { simContext } from "./context.ts";
import { settlePushes } from "./push_dispatch.ts";
import { freshState, type SimOptions, type SimState } from "./state.ts";
import { subscribeControlRoutes } from "./subscribe_control.ts";
import { wechatApiRoutes } from "./wechat_api.ts";

/** A simulator without a listener: its handler, its live state, and `close()`. */
export interface EmbeddedWeChatSim {
  /** Answers one request; paths as WeChat's (`/sns/jscode2session`) and `/__sim/...`. */
  fetch(request: Request): Response | Promise<Response>;
  /** The live state; tests should prefer the `/__sim/` control endpoints. */
  state: SimState;
  /** Cuts injected waits (latency, timeouts) short. */
  close(): void;
}

/**
 * A simulator to mount inside another server.
 *
 * @example
 * ```ts
 * const sim = createWeChatSim({ appid: "wx_dev", secret: "s3cret" });
 * const res = await sim.fetch(new Request("http://sim/__sim/stats"));
 * ```
 */
export function createWeChatSim(opts: SimOptions = {}): EmbeddedWeChatSim {
  const state = freshState(opts);
  const stop = new AbortController();
  const app = new Hono();
  const ctx = simContext(state, opts, stop.signal);
  wechatApiRoutes(app, ctx); // first: its latency middleware covers every route
  controlRoutes(app, ctx);
  subscribeControlRoutes(app, ctx);
  return { fetch: (request) => app.fetch(request), state, close: () => stop.abort() };
}

/**
 * Starts the WeChat simulator on 127.0.0.1 (port 0 = any free port).
 * `state` is the live state object; tests should prefer the `/__sim/` control endpoints.
 *
 * @example
 * ```ts
 * const sim = await startWeChatSim();
 * const { code } = await (await fetch(`${sim.url}/__sim/codes`, { method: "POST", body: '{"user":"alice"}' })).json();
 * await sim.close();
 * ```
 */
export async function startWeChatSim(
  opts: SimOptions = {},
): Promise<{ url: string; close(): Promise<void>; state: SimState }> {
  const sim = createWeChatSim(opts);
  const { promise: listening, resolve } = Promise.withResolvers<void>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: opts.port ?? 0, onListen: () => resolve() },
    sim.fetch,
  );
  await listening;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    state: sim.state,
    close() {
      sim.close();
      // Pushes still being delivered (sent events) finish first: nothing is left running.
      return (closing ??= settlePushes(sim.state.sub).then(() => server.shutdown()));
    },
  };
}
