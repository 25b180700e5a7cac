/**
 * The WeChat server API simulator on its own listener (`deno task sim`). The simulator itself
 * lives in src/dev/wechat_sim/ (the dev mode embeds it in the service); this module re-exports
 * it for tests and benchmarks and keeps the command line.
 *
 * ```
 * PORT=8089 WECHAT_APPID=wx_sim_appid WECHAT_SECRET=sim_secret deno task sim
 * ```
 *
 * @module
 */
import { startWeChatSim } from "../src/dev/wechat_sim/sim.ts";

export {
  createWeChatSim,
  type EmbeddedWeChatSim,
  startWeChatSim,
} from "../src/dev/wechat_sim/sim.ts";
export {
  type Credit,
  type Delivered,
  deriveOpenid,
  prng,
  type SimOptions,
  type SimState,
  type SimStats,
  type SimTemplate,
  type TokenRec,
} from "../src/dev/wechat_sim/state.ts";

if (import.meta.main) {
  const sim = await startWeChatSim({
    port: Number(Deno.env.get("PORT") ?? 8089),
    appid: Deno.env.get("WECHAT_APPID") || undefined,
    secret: Deno.env.get("WECHAT_SECRET") || undefined,
    latencyMs: Number(Deno.env.get("SIM_LATENCY_MS") ?? 0),
  });
  console.log(`wechat sim listening on ${sim.url} (appid ${sim.state.appid})`);
}
