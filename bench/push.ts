/**
 * Push delivery benchmark: the seed design's loop (one message at a time: read the user's whole
 * credit list, trim it, call WeChat and wait) against ours (the real app, main.ts in its own
 * process: a broadcast created with `POST /v1/broadcasts` and worked by its worker loop, chunks
 * taken a slice of credits per Lua call, sends going out concurrently, outcomes recorded a slice
 * per Lua call with their audit events; completion observed through `GET /v1/broadcasts/:id`),
 * against the WeChat simulator with 50 ms latency per call, 20,000 users with 3 credits each,
 * Redis behind the Upstash REST bridge.
 *
 * Ours runs on the app's defaults, then on tuned settings, and with BEFORE_DIR (another
 * checkout, e.g. the code before a change) that checkout's app on its defaults first, all in one
 * run beside the same seed baseline. For each: deliveries per second, times the seed loop,
 * Upstash commands per delivery (the bridge's billed count: a script call is one, every command
 * of a pipeline counts), CPU per delivery of each process (app, redis-server, bridge,
 * simulator), and the app's cost while it ran: peak RSS and peak open
 * connections to the WeChat endpoint and to the Upstash endpoint (Linux /proc).
 *
 * Each app instance is measured started, as a deployment's is: before the clock starts it has
 * run a one-user broadcast (its templates synced, its access token fetched, its code warm); its
 * connections to WeChat are still cold.
 *
 * Run: `deno run -A bench/push.ts` (env: USERS=20000, BASELINE_USERS=300, LATENCY_MS=50,
 * TUNED_CONCURRENCY=2048, TUNED_CHUNK=500, TUNED_CHUNKS_IN_FLIGHT=12, TUNED=0 to skip the tuned
 * run, BEFORE_DIR=<checkout>, INSTANCES=2 for one more run on the defaults with that many app
 * instances working the broadcast together (the first is asked and measured), JSON=1 for a JSON
 * line, TIMELINE=1 for each run's progress as `ms:sent` at every poll).
 *
 * @module
 */
import { Redis } from "@upstash/redis";
import { createRedisStore } from "../src/store/redis/redis.ts";
import { freePort } from "../tests/helpers/redis_server.ts";
import { TEST_ENV } from "../tests/helpers/service.ts";
import {
  type BenchRig,
  billedCommands,
  processCpuSeconds,
  redisCpuSeconds,
  startBenchRig,
} from "./rig.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const USERS = env("USERS", 20_000);
/** Each run spends one credit per user: 3, or one per run when there are more runs. */
let CREDITS = 3;
const BASELINE_USERS = env("BASELINE_USERS", 300);
const LATENCY_MS = env("LATENCY_MS", 50);
const APPID = "wx_sim_appid";
const SECRET = "sim_secret";
/** Real template ids are 43 characters, openIds 28, formIds 32: events are hashed at real size. */
const TEMPLATE_ID = "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ6wjdkEQ";
const MESSAGE = { templateId: TEMPLATE_ID, data: { keyword1: { value: "your order shipped" } } };
const openIdOf = (i: number) => `oBench${String(i).padStart(22, "0")}`;
const formIdOf = (design: "f" | "s", i: number, k: number) =>
  `${design}${String(i).padStart(30, "0")}${k}`;
const DAY = 86_400_000;

/** Counts Upstash commands: every request to the bridge, by the commands in its body. */
let commands = 0;
let bridgeUrl = "";
const realFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (bridgeUrl && url.startsWith(bridgeUrl) && typeof init?.body === "string") {
    const body = JSON.parse(init.body);
    commands += url.endsWith("/pipeline") || url.endsWith("/multi-exec") ? body.length : 1;
  }
  return realFetch(input, init);
};

/** The WeChat simulator's process. */
interface Sim {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** The simulator in its own process, as WeChat is not in ours. */
async function startSim(): Promise<Sim> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../tools/wechat_sim.ts", import.meta.url).pathname],
    env: { PORT: String(port), SIM_LATENCY_MS: String(LATENCY_MS) },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0;; i++) {
    try {
      await (await realFetch(`${url}/__sim/stats?brief=1`)).body?.cancel();
      break;
    } catch {
      if (i > 200) throw new Error("simulator did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url,
    pid: child.pid,
    async close() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function simPost(url: string, path: string, body: unknown): Promise<void> {
  const res = await realFetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  await res.body?.cancel();
}

async function simStats(url: string): Promise<{ sendsAccepted: number; peakInFlight: number }> {
  return await (await realFetch(`${url}/__sim/stats?brief=1`)).json();
}

/** Runs `task` over `items` with `width` workers. */
async function pool<T>(items: T[], width: number, task: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++]);
  }));
}

interface Figures {
  deliveries: number;
  seconds: number;
  perSecond: number;
  commands: number;
  commandsPerDelivery: number;
  /**
   * CPU time per delivery, µs, of each process on the path but the app's: redis-server (INFO
   * cpu, its network work included), the bridge and the WeChat simulator (Linux /proc).
   */
  cpuUs: { redis: number; bridge: number; sim: number };
}

/**
 * CPU seconds used so far by redis-server, the bridge and the simulator. (INFO commandstats
 * would count a script's commands twice: in the script's time and in their own.)
 */
async function pathCpu(rig: BenchRig, simPid: number) {
  return {
    redis: await redisCpuSeconds(rig.direct),
    bridge: await processCpuSeconds(rig.bridgePid),
    sim: await processCpuSeconds(simPid),
  };
}

/** µs of CPU per delivery, process by process, between two pathCpu readings. */
function cpuPerDelivery(
  before: Awaited<ReturnType<typeof pathCpu>>,
  after: Awaited<ReturnType<typeof pathCpu>>,
  deliveries: number,
): Figures["cpuUs"] {
  const per = (k: keyof typeof before) => (after[k] - before[k]) * 1e6 / Math.max(1, deliveries);
  return { redis: per("redis"), bridge: per("bridge"), sim: per("sim") };
}

/**
 * The seed design, re-implemented: credits are a JSON list per user; for each user, read the
 * whole list, drop expired entries and take the first, write the rest back (the trim), then
 * call WeChat and wait for the answer before the next user.
 */
async function baseline(
  rig: BenchRig,
  sim: Sim,
  users: string[],
): Promise<Figures> {
  const simUrl = sim.url;
  const redis = new Redis({
    ...rig.upstash,
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  const token = (await (await realFetch(
    `${simUrl}/cgi-bin/token?grant_type=client_credential&appid=${APPID}&secret=${SECRET}`,
  )).json()).access_token as string;
  commands = 0;
  const cpu0 = await pathCpu(rig, sim.pid);
  let delivered = 0;
  const started = performance.now();
  for (const openId of users) {
    const key = `seed:credits:${openId}`;
    const list = await redis.lrange(key, 0, -1) as string[];
    const now = Date.now();
    const valid = list.map((s) => JSON.parse(s) as { formId: string; expiresAt: number })
      .filter((c) => c.expiresAt > now);
    const credit = valid.shift();
    await redis.del(key);
    if (valid.length > 0) await redis.rpush(key, ...valid.map((c) => JSON.stringify(c)));
    if (!credit) continue;
    const res = await fetch(
      `${simUrl}/cgi-bin/message/wxopen/template/send?access_token=${token}`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          touser: openId,
          template_id: MESSAGE.templateId,
          form_id: credit.formId,
          data: MESSAGE.data,
        }),
      },
    );
    if ((await res.json()).errcode === 0) delivered++;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    deliveries: delivered,
    seconds,
    perSecond: delivered / seconds,
    commands,
    commandsPerDelivery: commands / delivered,
    cpuUs: cpuPerDelivery(cpu0, await pathCpu(rig, sim.pid), delivered),
  };
}

/** An app's settings for one run: a label and the environment it adds to the common one. */
interface Settings {
  label: string;
  env: Record<string, string>;
  /** Where main.ts is (another checkout for a before/after pair), this one by default. */
  appDir?: string;
  /** App instances sharing the broadcast (its worker loop on each), 1 by default. */
  instances?: number;
}

/** What one app run used: peaks sampled while its broadcast ran. */
interface Cost {
  /** Highest resident set size seen, MB. */
  rssMb: number;
  /** Most open TCP connections to the WeChat endpoint (the simulator) at once. */
  wechatConnections: number;
  /** Most open TCP connections to the Upstash REST endpoint (the bridge) at once. */
  upstashConnections: number;
  /** Share of one core the app used while the broadcast ran. */
  appCpu: number;
}

/** The socket inodes a process holds (from /proc/<pid>/fd). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  try {
    for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
      try {
        const m = (await Deno.readLink(`/proc/${pid}/fd/${fd.name}`)).match(/^socket:\[(\d+)\]$/);
        if (m) inodes.add(m[1]);
      } catch { /* closed meanwhile */ }
    }
  } catch { /* not Linux, or gone */ }
  return inodes;
}

/** The process's established TCP connections per remote port (Linux /proc; empty elsewhere). */
async function connectionsByPort(pid: number): Promise<Map<number, number>> {
  const mine = await socketInodes(pid);
  const byPort = new Map<number, number>();
  for (const file of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = "";
    try {
      text = await Deno.readTextFile(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== "01" || !mine.has(f[9])) continue; // 01: ESTABLISHED
      const port = parseInt(f[2].split(":")[1], 16);
      byPort.set(port, (byPort.get(port) ?? 0) + 1);
    }
  }
  return byPort;
}

/** The process's resident set size in MB (Linux /proc; 0 elsewhere). */
async function rssMb(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/**
 * Ours: the real app (main.ts, in its own process, as deployed) with `settings`, its worker loop
 * on; one broadcast to every user with a credit, created with `POST /v1/broadcasts`, completion
 * observed through `GET /v1/broadcasts/:id` (every 100 ms; those reads are counted too). Commands
 * are the bridge's billed count; RSS and connections are sampled every fifth look.
 */
async function ours(
  rig: BenchRig,
  sim: Sim,
  prefix: string,
  settings: Settings,
): Promise<Figures & Cost> {
  const appDir = settings.appDir ?? new URL("..", import.meta.url).pathname;
  const spawn = (port: number) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${appDir.replace(/\/$/, "")}/main.ts`],
      env: {
        ...TEST_ENV,
        PORT: String(port),
        UPSTASH_REDIS_REST_URL: rig.upstash.url,
        UPSTASH_REDIS_REST_TOKEN: rig.upstash.token,
        LEDGER_PREFIX: prefix,
        WECHAT_API_BASE: sim.url,
        WECHAT_APPID: APPID,
        WECHAT_SECRET: SECRET,
        WECHAT_TOKEN_MODE: "classic",
        WORKER_ENABLED: "on",
        ...settings.env,
      },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
  // The first instance is the one asked and measured; the others only work chunks.
  const ports = Array.from({ length: settings.instances ?? 1 }, () => freePort());
  const children = ports.map(spawn);
  const [child] = children;
  const port = ports[0];
  const appUrl = `http://127.0.0.1:${port}`;
  const call = async (path: string, body?: unknown) => {
    const res = await realFetch(`${appUrl}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: {
        authorization: `Bearer ${TEST_ENV.ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    for (const p of ports) {
      for (let i = 0;; i++) {
        try {
          await (await realFetch(`http://127.0.0.1:${p}/healthz`)).body?.cancel();
          break;
        } catch {
          if (i > 400) throw new Error("the app did not start");
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
    // A started instance, as a deployment's is: its first template sync and token fetch done,
    // its code warm (a one-user broadcast to nobody who holds a credit, run to its end).
    const warm = await call("/v1/broadcasts", { ...MESSAGE, openIds: [openIdOf(USERS + 1)] });
    while ((await call(`/v1/broadcasts/${warm.broadcastId}`)).state === "running") {
      await new Promise((r) => setTimeout(r, 20));
    }
    const simPort = Number(new URL(sim.url).port);
    const bridgePort = Number(new URL(rig.upstash.url).port);
    const cost: Cost = { rssMb: 0, wechatConnections: 0, upstashConnections: 0, appCpu: 0 };
    const sample = async () => {
      const byPort = await connectionsByPort(child.pid);
      cost.rssMb = Math.max(cost.rssMb, await rssMb(child.pid));
      cost.wechatConnections = Math.max(cost.wechatConnections, byPort.get(simPort) ?? 0);
      cost.upstashConnections = Math.max(cost.upstashConnections, byPort.get(bridgePort) ?? 0);
    };
    const counts0 = await billedCommands(rig);
    const billed0 = counts0.total;
    const path0 = await pathCpu(rig, sim.pid);
    const cpu0 = await processCpuSeconds(child.pid);
    const started = performance.now();
    const { broadcastId, total } = await call("/v1/broadcasts", MESSAGE);
    const timeline = [`created ${(performance.now() - started).toFixed(0)} ms`];
    let status: { state: string; sent: number };
    // Progress every 100 ms; the /proc sample (hundreds of fds and every socket of the machine)
    // only every 500 ms, so the bench's own CPU stays out of the figure.
    for (let look = 0;; look++) {
      status = await call(`/v1/broadcasts/${broadcastId}`);
      timeline.push(`${(performance.now() - started).toFixed(0)}:${status.sent}`);
      if (status.state !== "running") break;
      if (look % 5 === 0) await sample();
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    cost.appCpu = (await processCpuSeconds(child.pid) - cpu0) / seconds;
    const path = await pathCpu(rig, sim.pid);
    const counts = await billedCommands(rig);
    const billed = counts.total - billed0;
    const byName = Object.entries(counts.byName)
      .map(([name, n]) => `${name} ${n - (counts0.byName[name] ?? 0)}`)
      .filter((e) => !e.endsWith(" 0"));
    console.error(`${settings.label}: commands ${byName.join(", ")}`);
    if (Deno.env.get("TIMELINE")) console.error(`${settings.label}: ${timeline.join(" ")}`);
    if (status.sent !== total) throw new Error(`not all sent: ${JSON.stringify(status)}`);
    return {
      deliveries: status.sent,
      seconds,
      perSecond: status.sent / seconds,
      commands: billed,
      commandsPerDelivery: billed / status.sent,
      cpuUs: cpuPerDelivery(path0, path, status.sent),
      ...cost,
    };
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => c.status));
  }
}

/**
 * The runs: the app on its defaults, then on tuned settings (env TUNED_CONCURRENCY=2048,
 * TUNED_CHUNK=500, TUNED_CHUNKS_IN_FLIGHT=12; TUNED=0 skips it), and, with BEFORE_DIR set to
 * another checkout (e.g. the code before a change), that checkout's app on its defaults first.
 * Each run spends one of the users' three credits.
 */
function runs(): Settings[] {
  const list: Settings[] = [];
  const before = Deno.env.get("BEFORE_DIR");
  if (before) list.push({ label: "before, its defaults", env: {}, appDir: before });
  list.push({ label: "defaults", env: {} });
  if (Deno.env.get("TUNED") !== "0") {
    const tuned = {
      WECHAT_CONCURRENCY: String(env("TUNED_CONCURRENCY", 2048)),
      BROADCAST_CHUNK_USERS: String(env("TUNED_CHUNK", 500)),
      WORKER_CHUNKS_IN_FLIGHT: String(env("TUNED_CHUNKS_IN_FLIGHT", 12)),
    };
    const label = Object.entries(tuned).map(([k, v]) => `${k}=${v}`).join(" ");
    list.push({ label: `tuned: ${label}`, env: tuned });
  }
  const instances = env("INSTANCES", 1);
  if (instances > 1) {
    list.push({ label: `defaults, ${instances} instances`, env: {}, instances });
  }
  return list;
}

async function main() {
  const planned = runs();
  CREDITS = Math.max(CREDITS, planned.length);
  const rig = await startBenchRig();
  const sim = await startSim();
  bridgeUrl = rig.upstash.url;
  try {
    const prefix = "bench:push";
    const users = Array.from({ length: USERS }, (_, i) => openIdOf(i));
    await simPost(sim.url, "/__sim/templates", { ids: [TEMPLATE_ID] });
    const t0 = performance.now();
    // The simulator learns every credit: ours (f-) and the baseline's (s-).
    const simCredits = users.flatMap((openId, i) =>
      Array.from({ length: CREDITS }, (_, k) => [
        { openid: openId, kind: "form", id: formIdOf("f", i, k) },
        { openid: openId, kind: "form", id: formIdOf("s", i, k) },
      ]).flat()
    );
    for (let i = 0; i < simCredits.length; i += 10_000) {
      await simPost(sim.url, "/__sim/credits", simCredits.slice(i, i + 10_000));
    }
    // Ours: the ledger, 3 credits per user in one collect each.
    const seedStore = createRedisStore({ ...rig.upstash, prefix, segmentEvents: 100_000 });
    const expiresAt = Date.now() + 6 * DAY;
    await pool(users.map((openId, i) => ({ openId, i })), 16, ({ openId, i }) =>
      seedStore.collect(
        openId,
        Array.from({ length: CREDITS }, (_, k) => ({
          formId: formIdOf("f", i, k),
          kind: "form" as const,
          uses: 1,
          expiresAt: expiresAt + k,
        })),
        Date.now(),
      ));
    // The baseline: a JSON list per user.
    const fill = rig.direct.pipeline();
    users.forEach((openId, i) => {
      fill.rpush(
        `seed:credits:${openId}`,
        ...Array.from(
          { length: CREDITS },
          (_, k) => JSON.stringify({ formId: formIdOf("s", i, k), expiresAt: expiresAt + k }),
        ),
      );
    });
    await fill.exec();
    console.error(
      `seeded ${USERS} users x ${CREDITS} credits in ${
        ((performance.now() - t0) / 1000).toFixed(1)
      } s`,
    );

    const before = (await simStats(sim.url)).sendsAccepted;
    const base = await baseline(rig, sim, users.slice(0, BASELINE_USERS));
    const seedSent = (await simStats(sim.url)).sendsAccepted - before;
    if (seedSent !== base.deliveries) throw new Error(`seed: the simulator accepted ${seedSent}`);
    console.error(`baseline: ${base.deliveries} deliveries in ${base.seconds.toFixed(1)} s`);
    const mine: (Figures & Cost & { label: string })[] = [];
    for (const settings of planned) {
      const sent0 = (await simStats(sim.url)).sendsAccepted;
      const run = await ours(rig, sim, prefix, settings);
      const accepted = (await simStats(sim.url)).sendsAccepted - sent0;
      if (accepted !== run.deliveries) {
        throw new Error(`${settings.label}: simulator accepted ${accepted}, not ${run.deliveries}`);
      }
      console.error(`${settings.label}: ${run.deliveries} in ${run.seconds.toFixed(1)} s`);
      mine.push({ label: settings.label, ...run });
    }
    const after = await simStats(sim.url);
    const result = {
      users: USERS,
      creditsPerUser: CREDITS,
      latencyMs: LATENCY_MS,
      baseline: base,
      ours: mine.map((m) => ({ ...m, ratio: m.perSecond / base.perSecond })),
      simPeakInFlight: after.peakInFlight,
    };
    if (Deno.env.get("JSON")) console.log(JSON.stringify(result));
    const f = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d });
    console.log(
      `push delivery, ${f(USERS)} users x ${CREDITS} credits, WeChat sim latency ${LATENCY_MS} ms`,
    );
    console.log(
      `| run | deliveries | seconds | deliveries/s | x seed | Upstash commands/delivery | CPU µs/delivery: app, redis-server, bridge, sim | app RSS MB | app CPU | WeChat conns | Upstash conns |`,
    );
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
    const path = ({ cpuUs }: Figures) => `${f(cpuUs.redis)}, ${f(cpuUs.bridge)}, ${f(cpuUs.sim)}`;
    console.log(
      `| seed baseline (one at a time) | ${f(base.deliveries)} | ${f(base.seconds, 1)} | ${
        f(base.perSecond, 1)
      } | 1 | ${f(base.commandsPerDelivery, 3)} | -, ${path(base)} | | | | |`,
    );
    for (const m of mine) {
      // The first instance's CPU; with more instances, theirs is not in the figure.
      const app = m.appCpu * m.seconds * 1e6 / m.deliveries;
      console.log(
        `| ${m.label} | ${f(m.deliveries)} | ${f(m.seconds, 1)} | ${f(m.perSecond)} | ${
          f(m.perSecond / base.perSecond)
        } | ${f(m.commandsPerDelivery, 3)} | ${f(app)}, ${path(m)} | ${f(m.rssMb)} | ${
          f(m.appCpu * 100)
        }% | ${m.wechatConnections} | ${m.upstashConnections} |`,
      );
    }
  } finally {
    await sim.close();
    await rig.close();
  }
}

if (import.meta.main) await main();
