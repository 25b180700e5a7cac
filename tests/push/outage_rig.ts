/**
 * A Redis of the test's own that can be taken away: a redis-server process (paused with SIGSTOP,
 * resumed with SIGCONT) and the Upstash REST bridge in its own process on a fixed port (stopped
 * and started again on the same address), for outage tests.
 *
 * @module
 */
import { freePort } from "../helpers/redis_server.ts";

/** A redis-server and a bridge in front of it, each a process of its own. */
export interface OutageRig {
  upstash: { url: string; token: string };
  /** SIGSTOP / SIGCONT the redis-server. */
  pauseRedis(): void;
  resumeRedis(): void;
  /** Kills the bridge process (SIGKILL): requests in flight are cut, new ones refused. */
  stopBridge(): Promise<void>;
  /** Starts the bridge again on the same port. */
  startBridge(): Promise<void>;
  close(): Promise<void>;
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const end = Date.now() + 15_000; !(await check());) {
    if (Date.now() > end) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts redis-server and the bridge. */
export async function startOutageRig(): Promise<OutageRig> {
  const redisPort = freePort();
  const redis = new Deno.Command("redis-server", {
    args: ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  await waitFor(async () => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port: redisPort })).close();
      return true;
    } catch {
      return false;
    }
  }, "redis-server");
  const token = crypto.randomUUID();
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  let bridge: Deno.ChildProcess | null = null;
  const start = async () => {
    bridge = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../../tools/upstash_bridge.ts", import.meta.url).pathname],
      env: { BRIDGE_TOKEN: token, REDIS_URL: redisUrl, PORT: String(port) },
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor(async () => {
      try {
        await (await fetch(url, { method: "POST", body: "[]" })).body?.cancel();
        return true;
      } catch {
        return false;
      }
    }, "the bridge");
  };
  const stop = async () => {
    if (!bridge) return;
    bridge.kill("SIGKILL");
    await bridge.status;
    bridge = null;
  };
  await start();
  return {
    upstash: { url, token },
    pauseRedis: () => redis.kill("SIGSTOP"),
    resumeRedis: () => redis.kill("SIGCONT"),
    stopBridge: stop,
    startBridge: start,
    async close() {
      await stop();
      redis.kill("SIGCONT");
      redis.kill("SIGKILL");
      await redis.status;
    },
  };
}
