/**
 * WeChat client transport benchmark: the CPU one send costs the sending process, through the
 * project's HTTP/1.1 pool (src/shared/http1_pool.ts) against `fetch` with a pooled keep-alive
 * client (the baseline, what the client used before), same run, same server: a `Deno.serve`
 * in its own process answering WeChat's send reply. 20,000 POSTs of a real-sized subscribe
 * message, 500 in flight (a broadcast's shape), after 2,000 to warm connections and code.
 *
 * Run: `deno run -A bench/wechat_client.ts` (env: CALLS=20000, IN_FLIGHT=500, ROUNDS=3).
 *
 * @module
 */
import process from "node:process";
import { Http1Pool } from "../src/shared/http1_pool.ts";
import { freePort } from "../tests/helpers/redis_server.ts";

const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
const CALLS = env("CALLS", 20_000);
const IN_FLIGHT = env("IN_FLIGHT", 500);
const ROUNDS = env("ROUNDS", 3);
const BODY = JSON.stringify({
  touser: "oBench0000000000000000000001",
  template_id: "bDmywsp2oEHjwAadTGKkUJ-eJEiMiOf7H-dZ6wjdkEQ",
  data: { thing1: { value: "your order shipped" } },
});

const port = freePort();
const server = new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    `const reply = JSON.stringify({ errcode: 0, errmsg: "ok", msgid: 3147483647123456 });
     Deno.serve({ port: ${port}, hostname: "127.0.0.1", onListen() {} }, async (req) => {
       await req.text();
       return new Response(reply, { headers: { "content-type": "application/json" } });
     });`,
  ],
  stdout: "null",
  stderr: "inherit",
}).spawn();
const url = `http://127.0.0.1:${port}/cgi-bin/message/subscribe/send?access_token=bench`;
for (let i = 0;; i++) {
  try {
    await (await fetch(url, { method: "POST", body: "{}" })).body?.cancel();
    break;
  } catch {
    if (i > 200) throw new Error("the server did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Post = () => Promise<string>;
const pool = new Http1Pool({ maxIdle: IN_FLIGHT });
const client = Deno.createHttpClient({ poolMaxIdlePerHost: IN_FLIGHT, poolIdleTimeout: 60_000 });
const transports: Record<string, Post> = {
  "fetch (baseline)": async () => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
      signal: AbortSignal.timeout(5_000),
      client,
    });
    return await res.text();
  },
  "HTTP/1.1 pool": async () => (await pool.post(url, BODY, 5_000)).body,
};

async function run(post: Post, calls: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (next++ < calls) JSON.parse(await post());
  }));
}

const figures = new Map<string, { perSecond: number[]; cpuUs: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, post] of Object.entries(transports)) {
    await run(post, 2_000);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run(post, CALLS);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const f = figures.get(name) ?? { perSecond: [], cpuUs: [] };
    f.perSecond.push(CALLS / seconds);
    f.cpuUs.push((cpu.user + cpu.system) / CALLS);
    figures.set(name, f);
  }
}
await pool.close();
client.close();
server.kill();
await server.status;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(figures.get("fetch (baseline)")!.cpuUs);
console.log(
  `WeChat send transport, ${CALLS.toLocaleString("en")} POSTs, ${IN_FLIGHT} in flight, ` +
    `median of ${ROUNDS} rounds`,
);
console.log("| transport | calls/s | client CPU µs/call | x baseline CPU |");
console.log("|---|---:|---:|---:|");
for (const [name, f] of figures) {
  const cpu = median(f.cpuUs);
  console.log(
    `| ${name} | ${Math.round(median(f.perSecond)).toLocaleString("en")} | ${cpu.toFixed(1)} | ${
      (cpu / base).toFixed(2)
    } |`,
  );
}
