/**
 * Real service processes (main.ts) for crash tests: each one shares the rig's Redis (through the
 * Upstash bridge), ledger prefix and WeChat simulator, and can be killed without warning.
 *
 * @module
 */
import { upstashFromEnv } from "../helpers/rig.ts";
import { freePort } from "../helpers/redis_server.ts";
import { TEST_ENV } from "../helpers/service.ts";
import { type PushRig, SIM_ENV } from "./rig.ts";

/** A running main.ts. */
export interface Instance {
  url: string;
  child: Deno.ChildProcess;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

/** Starts main.ts against the rig's store and simulator; resolves once it answers /healthz. */
export async function startInstance(
  rig: PushRig,
  env: Record<string, string>,
  upstash = upstashFromEnv(),
): Promise<Instance> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../main.ts", import.meta.url).pathname],
    env: {
      ...TEST_ENV,
      ...SIM_ENV,
      PORT: String(port),
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      LEDGER_PREFIX: rig.service.config.prefix,
      WECHAT_API_BASE: rig.sim.url,
      WORKER_POLL_MS: "50",
      ...env,
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  let alive = true;
  const status = child.status.then((s) => (alive = false, s));
  for (const end = Date.now() + 20_000;;) {
    try {
      await (await fetch(`${url}/healthz`)).body?.cancel();
      break;
    } catch {
      if (!alive || Date.now() > end) {
        if (alive) child.kill("SIGKILL");
        await status;
        throw new Error("main.ts did not start");
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    child,
    async kill() {
      if (alive) child.kill("SIGKILL");
      await status;
    },
  };
}

/** Polls `check` every 20 ms until it is true; throws after `ms`. */
export async function until(check: () => Promise<boolean>, ms: number, what: string) {
  for (const end = Date.now() + ms; !(await check());) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
