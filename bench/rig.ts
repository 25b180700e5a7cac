/**
 * The real Redis path for benchmarks: a throwaway redis-server and the Upstash REST bridge in
 * front of it, exactly as `deno task test` runs them.
 *
 * @module
 */
import { Redis as IORedis } from "ioredis";
import { freePort, startRedisServer } from "../tests/helpers/redis_server.ts";
import type { CommandCounts } from "../tools/upstash_bridge.ts";

/** A running redis-server + bridge, and a direct client for measurements (INFO, fills). */
export interface BenchRig {
  redisUrl: string;
  upstash: { url: string; token: string };
  direct: IORedis;
  /** The bridge's process id (for its CPU time, Linux /proc). */
  bridgePid: number;
  close(): Promise<void>;
}

/**
 * Starts redis-server and the bridge. The bridge runs in its own process, as Upstash runs on its
 * own machines: in-process it would share the benchmark's one JavaScript thread.
 */
export async function startBenchRig(): Promise<BenchRig> {
  const redis = await startRedisServer();
  const token = crypto.randomUUID();
  const port = freePort();
  const bridge = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(Deno.env.get("BRIDGE_PROF") ? ["--cpu-prof", "--cpu-prof-dir=/tmp/bprof"] : []),
      new URL("../tools/upstash_bridge.ts", import.meta.url).pathname,
    ],
    env: { BRIDGE_TOKEN: token, REDIS_URL: redis.url, PORT: String(port) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(url);
  const direct = new IORedis(redis.url, { lazyConnect: false });
  return {
    redisUrl: redis.url,
    upstash: { url, token },
    direct,
    bridgePid: bridge.pid,
    async close() {
      direct.disconnect();
      bridge.kill("SIGTERM");
      await bridge.status;
      await redis.close();
    },
  };
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await (await fetch(url, { method: "POST", body: "[]" })).body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`bridge did not start at ${url}`);
}

/**
 * The commands Upstash would have billed so far, by the bridge's count (`GET /_bridge/commands`):
 * every command of a pipeline, a failed EVALSHA and its EVAL as two.
 */
export async function billedCommands(rig: BenchRig): Promise<CommandCounts> {
  const res = await fetch(`${rig.upstash.url}/_bridge/commands`, {
    headers: { authorization: `Bearer ${rig.upstash.token}` },
  });
  if (!res.ok) throw new Error(`the bridge's counter answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

/** Redis's `used_memory` in bytes. */
export async function usedMemory(direct: IORedis): Promise<number> {
  const info = await direct.info("memory");
  return Number(info.match(/^used_memory:(\d+)/m)![1]);
}

/** Total commands Redis has executed (from INFO stats). */
export async function commandsProcessed(direct: IORedis): Promise<number> {
  const info = await direct.info("stats");
  return Number(info.match(/^total_commands_processed:(\d+)/m)![1]);
}

/** Runs `task` `total` times with `concurrency` workers; returns operations per second. */
export async function throughput(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** `1234567.8` -> `"1,234,568"`. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** CPU seconds a process has used so far (Linux /proc; 0 elsewhere). */
export async function processCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return 0;
  }
}

/** CPU seconds redis-server has used so far (INFO cpu: user + system, every thread). */
export async function redisCpuSeconds(direct: IORedis): Promise<number> {
  const info = await direct.info("cpu");
  return ["used_cpu_sys", "used_cpu_user"]
    .map((k) => Number(info.match(new RegExp(`^${k}:([\\d.]+)`, "m"))![1]))
    .reduce((a, b) => a + b, 0);
}
