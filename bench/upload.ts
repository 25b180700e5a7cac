/**
 * Upload throughput (issues 3 and 15): `POST /v1/formids` with 5 fresh formIds per request, 64
 * connections, 20,000 users' session tokens in rotation (more than the cache of verified tokens
 * holds), through the full path (session JWT, strict JSON, one atomic ledger call that counts
 * the rate limits per openId and IP too) on the Redis store: @upstash/redis -> Upstash REST
 * bridge (own process) -> redis-server. Printed beside a bare Hono JSON endpoint measured in
 * the same run with the same load, and the ratio (target: at least 10 %); beside the session
 * check and the two limits counted alone (no ledger); and the Upstash commands billed per upload
 * (target: at most 0.1), from the bridge's counter (`GET /_bridge/commands` before and after).
 *
 *   deno run -A bench/upload.ts [--seconds 10] [--connections 64]
 *
 * Load comes from `wrk` (Debian package `wrk`) with a Lua script; without wrk, from a Deno load
 * loop in a child process. CPU time per upload of this process (the app), the bridge and
 * redis-server is printed too: on a shared machine it moves less than throughput does.
 *
 * @module
 */
import process from "node:process";
import { Hono } from "hono";
import { createApp } from "../src/app.ts";
import { openBackends } from "../src/backends.ts";
import { loadConfig } from "../src/config/config.ts";
import { systemClock } from "../src/shared/clock.ts";
import { enforceLimits, storeLimiters } from "../src/http/middleware/rate_limit.ts";
import { clientIp } from "../src/http/middleware/client_ip.ts";
import {
  issueSession,
  requireSession,
  type SessionVariables,
} from "../src/http/middleware/session_token.ts";
import {
  type BenchRig,
  billedCommands,
  fmt,
  processCpuSeconds,
  redisCpuSeconds,
  startBenchRig,
} from "./rig.ts";

const SECONDS = Number(argValue("--seconds") ?? 10);
const CONNECTIONS = Number(argValue("--connections") ?? 64);
/** Users whose session tokens the load rotates through: more than a cache of verified tokens holds. */
const USERS = 20_000;
const PER_UPLOAD = 5;
const SECRET = "bench-session-secret-0123456789abcdef";

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** wrk script: each request a random user's token and 5 formIds unique to thread and count. */
const WRK_SCRIPT = `
local tokens = {}
local counter = 0
local thread_id = 0
local run = ""
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid
  run = args[2]
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  math.randomseed(thread_id * 7919 + #run)
end

function request()
  counter = counter + 1
  local ids = {}
  for k = 1, ${PER_UPLOAD} do
    ids[k] = string.format('"%s-%d-%d-%d"', run, thread_id, counter, k)
  end
  local body = '{"formIds":[' .. table.concat(ids, ",") .. ']}'
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]
  return wrk.format("POST", wrk.path, headers, body)
end

accepted = 0
duplicates = 0
function response(status, headers, body)
  accepted = accepted + tonumber(body:match('"accepted":(%d+)') or 0)
  duplicates = duplicates + tonumber(body:match('"duplicates":(%d+)') or 0)
end

function done(summary, latency, requests)
  local a, d = 0, 0
  for _, t in ipairs(threads) do a = a + t:get("accepted"); d = d + t:get("duplicates") end
  print(string.format("ACCEPTED %d DUPLICATES %d", a, d))
end
`;

interface LoadResult {
  requests: number;
  /** formIds the answers counted as accepted and as duplicates (wrk only). */
  accepted: number | null;
  duplicates: number | null;
  perSecond: number;
  non2xx: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

async function wrk(
  url: string,
  tokensFile: string,
  scriptFile: string,
  seconds = SECONDS,
): Promise<LoadResult> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t2",
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      "--latency",
      "-s",
      scriptFile,
      url,
      "--",
      tokensFile,
      crypto.randomUUID().slice(0, 8), // formIds unique to this run, not just to this thread
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const requests = Number(text.match(/(\d+) requests in/)?.[1] ?? NaN);
  const perSecond = Number(text.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? NaN);
  if (!Number.isFinite(perSecond)) throw new Error(`wrk output not understood:\n${text}`);
  const non2xx = Number(text.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
  const ms = (label: string) => {
    const m = text.match(new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`));
    if (!m) return null;
    return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
  };
  const counted = text.match(/ACCEPTED (\d+) DUPLICATES (\d+)/);
  return {
    requests,
    perSecond,
    non2xx,
    accepted: counted ? Number(counted[1]) : null,
    duplicates: counted ? Number(counted[2]) : null,
    p50Ms: ms("50"),
    p99Ms: ms("99"),
  };
}

/** Fallback without wrk: a Deno child process keeping CONNECTIONS requests in flight. */
async function denoLoad(url: string, tokens: string[]): Promise<LoadResult> {
  const code = `
    const [url, seconds, conns, tokens] = JSON.parse(Deno.args[0]);
    let n = 0, bad = 0; const end = Date.now() + seconds * 1000;
    await Promise.all(Array.from({ length: conns }, async (_, w) => {
      for (let i = 0; Date.now() < end; i++) {
        const ids = Array.from({ length: ${PER_UPLOAD} }, (_, k) => "d" + w + "-" + i + "-" + k);
        const res = await fetch(url, { method: "POST", body: JSON.stringify({ formIds: ids }),
          headers: { "content-type": "application/json",
            authorization: "Bearer " + tokens[(w * 31 + i) % tokens.length] } });
        await res.body?.cancel(); n++; if (res.status >= 300) bad++;
      }
    }));
    console.log(JSON.stringify({ n, bad }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code, JSON.stringify([url, SECONDS, CONNECTIONS, tokens])],
    stdout: "piped",
  }).output();
  const { n, bad } = JSON.parse(new TextDecoder().decode(out.stdout));
  return {
    requests: n,
    perSecond: n / SECONDS,
    non2xx: bad,
    accepted: null,
    duplicates: null,
    p50Ms: null,
    p99Ms: null,
  };
}

/** CPU seconds used so far by this process, the bridge (Linux: /proc) and redis-server. */
async function cpuSeconds(rig: BenchRig): Promise<{ app: number; bridge: number; redis: number }> {
  const { user, system } = process.cpuUsage();
  return {
    app: (user + system) / 1e6,
    bridge: await processCpuSeconds(rig.bridgePid),
    redis: await redisCpuSeconds(rig.direct),
  };
}

const rig = await startBenchRig();
const tmp = await Deno.makeTempDir({ prefix: "formid-bench-" });
const servers: Deno.HttpServer[] = [];
try {
  const config = loadConfig({
    UPSTASH_REDIS_REST_URL: rig.upstash.url,
    UPSTASH_REDIS_REST_TOKEN: rig.upstash.token,
    LEDGER_PREFIX: "bench:upload",
    SESSION_SECRET: SECRET,
    // Limits are counted on every request (part of the path) but set high enough never to refuse.
    RATE_LIMIT_PER_USER: "1000000000",
    RATE_LIMIT_PER_IP: "1000000000",
  });
  const backends = openBackends(config);
  const { store } = backends;
  const { app } = createApp({ config, backends, clock: systemClock });
  const bare = new Hono().post("/bare", async (c) => {
    const body = await c.req.json();
    return c.json({ accepted: body.formIds.length, duplicates: 0, rejected: [] });
  });
  // The checks alone, without the ledger: the session check and the two rate limits (per
  // openId, per IP) counted alone through the same bridge (one script call for the checks made
  // while one is in flight), as logins and credit views count them.
  const limiters = storeLimiters(store, systemClock);
  const { windowSeconds, perUser, perIp } = config.rateLimit;
  const userLimit = limiters({ limit: "floor-user", tokens: perUser, windowSeconds });
  const ipLimit = limiters({ limit: "floor-ip", tokens: perIp, windowSeconds });
  const floor = new Hono<{ Variables: SessionVariables }>().post(
    "/floor",
    requireSession(config, systemClock),
    async (c) => {
      const body = await c.req.json();
      await enforceLimits([[userLimit, c.get("openId")], [
        ipLimit,
        clientIp(c, { header: null, trustedProxies: [] }),
      ]]);
      return c.json({ accepted: body.formIds.length, duplicates: 0, rejected: [] });
    },
  );
  const serve = (
    fetch: (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>,
  ) => {
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, fetch);
    servers.push(server);
    return `http://127.0.0.1:${server.addr.port}`;
  };
  const appUrl = serve(app.fetch);
  const bareUrl = serve(bare.fetch);
  const floorUrl = serve(floor.fetch);

  const tokens: string[] = [];
  for (let u = 0; u < USERS; u++) {
    const openId = `oBench${String(u).padStart(22, "0")}`;
    tokens.push((await issueSession(openId, SECRET, 86_400, systemClock)).token);
  }
  const tokensFile = `${tmp}/tokens.txt`;
  const scriptFile = `${tmp}/upload.lua`;
  await Deno.writeTextFile(tokensFile, tokens.join("\n") + "\n");
  await Deno.writeTextFile(scriptFile, WRK_SCRIPT);
  const useWrk = await hasWrk();
  const load = (url: string) => useWrk ? wrk(url, tokensFile, scriptFile) : denoLoad(url, tokens);

  // Warm up both (JIT, script cache, connections), then measure.
  if (useWrk) await wrk(`${appUrl}/v1/formids`, tokensFile, scriptFile, 2);
  const headBefore = await store.head();
  const billBefore = await billedCommands(rig);
  const cpuBefore = await cpuSeconds(rig);
  const full = await load(`${appUrl}/v1/formids`);
  const cpuAfter = await cpuSeconds(rig);
  const billAfter = await billedCommands(rig);
  const headAfter = await store.head();
  const bareBefore = process.cpuUsage();
  const base = await load(`${bareUrl}/bare`);
  const bareCpu = process.cpuUsage(bareBefore);
  const floorBefore = await cpuSeconds(rig);
  const limitsOnly = await load(`${floorUrl}/floor`);
  const floorAfter = await cpuSeconds(rig);

  // The ceiling under the HTTP path: the same 5-credit ledger calls, 64 at a time, no HTTP.
  const { ledger } = createApp({ config, backends, clock: systemClock });
  let calls = 0;
  const until = performance.now() + SECONDS * 500;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, w) => {
    while (performance.now() < until) {
      const n = calls++;
      const openId = `oCeiling${String(n % USERS).padStart(20, "0")}`;
      const items = Array.from({ length: PER_UPLOAD }, (_, k) => ({
        formId: `c-${w}-${n}-${k}`,
        kind: "form" as const,
      }));
      await ledger.collect(openId, items);
    }
  }));
  const ceiling = calls / ((performance.now() - started) / 1000);

  const appended = headAfter.seq - headBefore.seq;
  const okUploads = full.requests - full.non2xx;
  const lat = (r: LoadResult) =>
    r.p50Ms === null ? "" : `  p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms?.toFixed(1)} ms`;
  console.log(
    `load: ${useWrk ? "wrk -t2" : "deno loop"}, ${CONNECTIONS} connections, ${SECONDS} s each, ` +
      `${PER_UPLOAD} formIds per upload, ${USERS} users; ${navigator.hardwareConcurrency} cores`,
  );
  console.log(`bare Hono JSON endpoint : ${fmt(base.perSecond)} req/s${lat(base)}`);
  console.log(`POST /v1/formids (redis): ${fmt(full.perSecond)} uploads/s${lat(full)}`);
  console.log(`ratio full / bare       : ${(full.perSecond / base.perSecond * 100).toFixed(1)} %`);
  console.log(
    `session + 2 rate limits: ${fmt(limitsOnly.perSecond)} req/s${
      lat(limitsOnly)
    }  (the checks counted alone, no ledger)`,
  );
  console.log(`ledger.collect alone   : ${fmt(ceiling)} calls/s (5 credits each, no HTTP)`);
  console.log(
    `events appended: ${fmt(appended)} (${fmt(okUploads)} uploads x ${PER_UPLOAD}), ` +
      `${fmt(appended / SECONDS)} events/s; non-2xx: ${full.non2xx}`,
  );
  const perUpload = (k: "app" | "bridge" | "redis") =>
    (cpuAfter[k] - cpuBefore[k]) * 1e6 / Math.max(1, full.requests);
  console.log(
    `CPU per upload          : app ${fmt(perUpload("app"))} us, bridge ${
      fmt(perUpload("bridge"))
    } us, redis-server ${fmt(perUpload("redis"))} us (wrk not counted); bare endpoint: ${
      fmt((bareCpu.user + bareCpu.system) / Math.max(1, base.requests))
    } us per request`,
  );
  const perCheck = (k: "app" | "bridge" | "redis") =>
    (floorAfter[k] - floorBefore[k]) * 1e6 / Math.max(1, limitsOnly.requests);
  console.log(
    `CPU per request, checks : app ${fmt(perCheck("app"))} us, bridge ${
      fmt(perCheck("bridge"))
    } us, redis-server ${fmt(perCheck("redis"))} us (session + 2 rate limits alone, no ledger)`,
  );
  if (full.accepted !== null) {
    console.log(
      `answers: ${fmt(full.accepted)} formIds accepted, ${fmt(full.duplicates!)} duplicates`,
    );
  }
  const billed = billAfter.total - billBefore.total;
  const byName = Object.entries(billAfter.byName)
    .map(([name, n]) => [name, n - (billBefore.byName[name] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${fmt(n)}`)
    .join(", ");
  console.log(
    `Upstash commands billed : ${fmt(billed)} for ${fmt(full.requests)} uploads = ${
      (billed / Math.max(1, full.requests)).toFixed(3)
    } per upload (${byName}; the bridge's counter)`,
  );
  const ratio = full.perSecond / base.perSecond;
  console.log(`target >= 10 % of the bare endpoint: ${ratio >= 0.1 ? "met" : "NOT met"}`);
  console.log(
    `target <= 0.1 commands per upload: ${billed / full.requests <= 0.1 ? "met" : "NOT met"}`,
  );
  await store.close();
} finally {
  for (const server of servers) await server.shutdown();
  await Deno.remove(tmp, { recursive: true });
  await rig.close();
}
