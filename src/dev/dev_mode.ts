/**
 * Dev mode's parts: throwaway secrets made at start, the WeChat simulator served by the same
 * listener, and the banner that prints the secrets once. `main.ts` merges `settings` into the
 * environment, so the service runs its ordinary code, on the embedded store, against the
 * simulator over real HTTP.
 *
 * The simulator shares the service's port rather than opening its own: one port to free, one
 * base URL for the reader of the quick start, and nothing else to collide with. It is dispatched
 * before the service's app (so none of the service's middleware, limits or routes see it): the
 * WeChat API under `/__wechat/` (WECHAT_API_BASE), its control API under `/__sim/`.
 *
 * @module
 */
import { createWeChatSim, type EmbeddedWeChatSim } from "./wechat_sim/sim.ts";

/** A request handler as `Deno.serve` calls it. */
export type ServeHandler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** Where the embedded simulator's WeChat API is mounted (WECHAT_API_BASE's path). */
export const WECHAT_PATH = "/__wechat";
/** Where the embedded simulator's control API is mounted (as on its own listener). */
export const SIM_CONTROL_PATH = "/__sim";
/** Dev mode listens on loopback only: its secrets are printed and the simulator logs anyone in. */
export const DEV_HOSTNAME = "127.0.0.1";

/** A running dev mode's parts. */
export interface DevMode {
  /** Variables to lay over the environment: PORT, the secrets, the simulator's credentials. */
  settings: Record<string, string>;
  /** Options for `Deno.serve`: loopback only, on the chosen port. */
  listen: { hostname: string; port: number };
  /** The simulator, for tests. */
  sim: EmbeddedWeChatSim;
  /** Wraps the service's handler: simulator paths to the simulator, the rest to `app`. */
  handler(app: ServeHandler): ServeHandler;
  /** The lines to print once at start: the secrets, the URLs, the quick start's export line. */
  banner(): string;
}

/**
 * Makes dev mode's secrets and simulator for `port` (0: a free loopback port is chosen now,
 * since WECHAT_API_BASE must name it before the service is built).
 *
 * @example
 * ```ts
 * const dev = openDevMode(8000);
 * const config = loadConfig({ ...Deno.env.toObject(), ...dev.settings });
 * Deno.serve(dev.listen, dev.handler(createApp({ config, backends, clock }).app.fetch));
 * console.log(dev.banner());
 * ```
 */
export function openDevMode(port: number): DevMode {
  const chosen = port === 0 ? freeLoopbackPort() : port;
  const appid = `wxdev${hex(7).slice(0, 13)}`; // 18 characters, like a real appid
  const secret = hex(16); // 32 hex digits, like a real AppSecret
  const origin = `http://${DEV_HOSTNAME}:${chosen}`;
  const settings = {
    PORT: String(chosen),
    SESSION_SECRET: `dev-session-${hex(24)}`,
    ADMIN_TOKEN: `dev-admin-${hex(16)}`,
    AUDIT_TOKEN: `dev-audit-${hex(16)}`,
    WECHAT_APPID: appid,
    WECHAT_SECRET: secret,
    WECHAT_API_BASE: `${origin}${WECHAT_PATH}`,
  };
  const sim = createWeChatSim({ appid, secret });
  return {
    settings,
    listen: { hostname: DEV_HOSTNAME, port: chosen },
    sim,
    handler: (app) => (request, info) => {
      const url = new URL(request.url);
      if (url.pathname.startsWith(`${SIM_CONTROL_PATH}/`)) return sim.fetch(request);
      if (url.pathname.startsWith(`${WECHAT_PATH}/`)) {
        url.pathname = url.pathname.slice(WECHAT_PATH.length);
        return sim.fetch(new Request(url, request));
      }
      return app(request, info);
    },
    banner: () =>
      [
        "dev mode: throwaway secrets, made for this run and printed only here:",
        `  SESSION_SECRET=${settings.SESSION_SECRET}`,
        `  ADMIN_TOKEN=${settings.ADMIN_TOKEN}`,
        `  AUDIT_TOKEN=${settings.AUDIT_TOKEN}`,
        `dev mode: WeChat is the simulator in this process (appid ${appid}, secret ${secret}):`,
        `  its WeChat API: WECHAT_API_BASE=${settings.WECHAT_API_BASE}`,
        `  its control API: ${origin}${SIM_CONTROL_PATH}/ ` +
        `(POST ${SIM_CONTROL_PATH}/codes {"user":"alice"} gives alice a wx.login code)`,
        `dev mode: store: embedded memory store, nothing survives a restart; ` +
        `listening on ${DEV_HOSTNAME} only`,
        "dev mode: for the README's quick start, paste this line into another terminal:",
        `export LEDGER=${origin} ADMIN_TOKEN=${settings.ADMIN_TOKEN} ` +
        `AUDIT_TOKEN=${settings.AUDIT_TOKEN}`,
      ].join("\n"),
  };
}

/** `bytes` random bytes as lowercase hex. */
function hex(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A loopback port free right now (the listener that found it is closed at once). */
function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: DEV_HOSTNAME, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
