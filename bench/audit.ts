/**
 * Audit benchmark (issue 5), through the real Redis path: @upstash/redis -> Upstash REST bridge
 * (own process) -> redis-server, as production reads the log.
 *
 *   deno run -A bench/audit.ts [--events 1000000] [--runs 2]
 *
 * A synthetic but production-shaped log (bench/audit_log.ts) is written straight into Redis in
 * the store's layout (appended and sealed), and its live projection built by the store's
 * rebuild. Each figure is then measured in a fresh process (so memory figures belong to that run
 * alone), `--runs` times, keeping the best:
 * - verify + rebuild on two threads (`auditRedisInParallel`, as `deno task replay` runs it):
 *   chain check and in-memory replay with its report (the issue's figure), and with the
 *   comparison with the live projection (the CLI's whole job);
 * - the same on one thread (`auditStore`, as `GET /v1/audit/verify` runs it), and verify alone;
 * - the NDJSON export over HTTP (`GET /v1/events`, server and client in one process);
 * - memory (RSS and JS heap) at the start, middle and end of each run.
 * Baselines from the same run: reading the same pages and doing nothing with them, and
 * canonical JSON + SHA-256 alone over events already in memory.
 *
 * @module
 */
import { type AuditProgress, auditStore } from "../src/audit/audit.ts";
import { canonicalEvent, GENESIS, linkHash } from "../src/chain/chain.ts";
import { logPages } from "../src/audit/pages.ts";
import { auditRedisInParallel } from "../src/audit/parallel.ts";
import { createApp } from "../src/app.ts";
import { openBackends, redisParallelLog } from "../src/backends.ts";
import { loadConfig } from "../src/config/config.ts";
import { systemClock } from "../src/shared/clock.ts";
import type { StoredEvent } from "../src/ledger/events.ts";
import { createRedisStore } from "../src/store/redis/redis.ts";
import { syntheticEvents, writeLog } from "./audit_log.ts";
import { fmt, startBenchRig } from "./rig.ts";

const PREFIX = "bench:audit";
const SEGMENT = 100_000;
const TARGET = 200_000;
const AUDIT_TOKEN = "bench-audit-token-0123456789";

function argValue(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

/** A memory sample: how far the run got, RSS and JS heap in MB. */
interface Sample {
  seq: number;
  rss: number;
  heap: number;
}

/** What one measured run reports to the parent (one JSON line on stdout). */
interface PhaseResult {
  events: number;
  seconds: number;
  samples: Sample[];
  extra?: Record<string, unknown>;
}

type Phase = "read" | "hash" | "verify" | "audit" | "full" | "parallel" | "par-full" | "export";

/** Garbage collection on demand (children run with --expose-gc): heap figures are live data. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

function sample(seq: number, collect = false): Sample {
  if (collect) gc();
  const m = Deno.memoryUsage();
  return { seq, rss: m.rss / 1e6, heap: m.heapUsed / 1e6 };
}

/** Runs one phase in this (child) process. */
async function runPhase(phase: Phase, env: Record<string, string>): Promise<PhaseResult> {
  const connection = { url: env.url, token: env.token, prefix: PREFIX, segmentEvents: SEGMENT };
  const store = createRedisStore(connection);
  const now = Number(env.now);
  const head = await store.head();
  const samples: Sample[] = [sample(0, true)];
  // A collection when the run passes the middle and 95% of the log, so those heaps are live data.
  const marks = [0.5, 0.95];
  const progress = (p: AuditProgress | { seq: number }) => {
    const mark = marks.length > 0 && p.seq >= head.seq * marks[0];
    if (mark) marks.shift();
    samples.push(sample(p.seq, mark));
  };
  const started = performance.now();
  const done = (events: number, extra?: Record<string, unknown>): PhaseResult => {
    const seconds = (performance.now() - started) / 1000;
    samples.push(sample(events, true));
    return { events, seconds, samples, extra };
  };
  switch (phase) {
    case "read": {
      let count = 0;
      let next = 50_000;
      for await (const chunk of logPages(store, { after: 0, to: head.seq })) {
        count += chunk.events.length;
        if (count >= next) progress({ seq: count }), next += 50_000;
      }
      return done(count);
    }
    case "hash": {
      const events: StoredEvent[] = [];
      for await (const chunk of logPages(store, { after: 0, to: Math.min(head.seq, 200_000) })) {
        events.push(...chunk.events);
      }
      const t = performance.now();
      let prev = GENESIS;
      for (const event of events) prev = linkHash(prev, canonicalEvent(event));
      if (prev !== events.at(-1)!.hash) throw new Error("the sample does not verify");
      return { events: events.length, seconds: (performance.now() - t) / 1000, samples };
    }
    case "verify":
    case "audit":
    case "full": {
      const result = await auditStore(store, {
        replay: phase !== "verify",
        compare: phase === "full",
        now,
        onProgress: progress,
        progressEveryMs: 250,
      });
      if (!result.verify.ok || !result.verify.complete) {
        throw new Error(`verification failed: ${JSON.stringify(result.verify.break)}`);
      }
      if ((result.report?.anomalies.count ?? 0) > 0) throw new Error("anomalies in the replay");
      if ((result.comparison?.mismatches ?? 0) > 0) throw new Error("projection mismatch");
      return done(result.verify.events, { report: result.report, comparison: result.comparison });
    }
    case "parallel":
    case "par-full": {
      const result = await auditRedisInParallel(redisParallelLog(store, connection), {
        replay: true,
        compare: phase === "par-full",
        now,
        onProgress: progress,
        progressEveryMs: 250,
      });
      if (!result.verify.ok || !result.verify.complete) {
        throw new Error(`verification failed: ${JSON.stringify(result.verify.break)}`);
      }
      if (result.report!.anomalies.count > 0) throw new Error("anomalies in the replay");
      if ((result.comparison?.mismatches ?? 0) > 0) throw new Error("projection mismatch");
      return done(result.verify.events, { report: result.report, comparison: result.comparison });
    }
    case "export": {
      const config = loadConfig({
        AUDIT_TOKEN,
        UPSTASH_REDIS_REST_URL: env.url,
        UPSTASH_REDIS_REST_TOKEN: env.token,
        LEDGER_PREFIX: PREFIX,
      });
      const { app } = createApp({ config, backends: openBackends(config), clock: systemClock });
      const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/events`, {
        headers: { authorization: `Bearer ${AUDIT_TOKEN}`, accept: "application/x-ndjson" },
      });
      let bytes = 0;
      let lines = 0;
      let next = 50_000;
      for await (const chunk of res.body!) {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
        if (lines >= next) progress({ seq: lines }), next += 50_000;
      }
      const result = done(lines, { bytes });
      await server.shutdown();
      return result;
    }
  }
}

/** Runs a phase in a fresh child process. */
async function spawnPhase(phase: Phase, env: Record<string, string>): Promise<PhaseResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      "--phase",
      phase,
    ],
    env: { BENCH_AUDIT: JSON.stringify(env) },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`phase ${phase} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

function memoryLine(samples: Sample[], events: number): string {
  const at = (share: number) => samples.find((s) => s.seq >= events * share) ?? samples.at(-1)!;
  const f = (s: Sample) => `${s.rss.toFixed(0)}/${s.heap.toFixed(0)} (seq ${fmt(s.seq)})`;
  const peak = Math.max(...samples.map((s) => s.rss));
  return `start ${f(samples[0])}, middle ${f(at(0.5))}, end ${f(at(0.95))}, peak RSS ${
    peak.toFixed(0)
  }`;
}

async function main(): Promise<void> {
  const events = Number(argValue("--events") ?? 1_000_000);
  const runs = Number(argValue("--runs") ?? 2);
  const rig = await startBenchRig();
  try {
    console.log(
      `writing ${fmt(events)} chained events straight into Redis (the store's sealed layout)...`,
    );
    let t = performance.now();
    const written = await writeLog(rig.direct, PREFIX, syntheticEvents({ events }), {
      segmentEvents: SEGMENT,
    });
    const fillRate = events / ((performance.now() - t) / 1000);
    const store = createRedisStore({ ...rig.upstash, prefix: PREFIX, segmentEvents: SEGMENT });
    const now = written.head.at + 60_000;
    t = performance.now();
    const rebuilt = await store.rebuild(now);
    const rebuildRate = rebuilt.events / ((performance.now() - t) / 1000);
    console.log(
      `  fill ${fmt(fillRate)} events/s; live projection built by rebuild ` +
        `(${fmt(rebuildRate)} events/s, ${fmt(rebuilt.users)} users)`,
    );
    const env = { url: rig.upstash.url, token: rig.upstash.token, now: String(now) };
    const phases: Phase[] = [
      "read",
      "hash",
      "verify",
      "audit",
      "full",
      "parallel",
      "par-full",
      "export",
    ];
    const best: Partial<Record<Phase, PhaseResult>> = {};
    for (let run = 1; run <= runs; run++) {
      for (const phase of phases) {
        const result = await spawnPhase(phase, env);
        const rate = result.events / result.seconds;
        console.log(`  run ${run}: ${phase.padEnd(8)} ${fmt(rate).padStart(9)} events/s`);
        const previous = best[phase];
        if (!previous || rate > previous.events / previous.seconds) best[phase] = result;
      }
    }
    const rate = (phase: Phase) => best[phase]!.events / best[phase]!.seconds;
    const [readRate, hashRate, auditRate] = [rate("read"), rate("hash"), rate("parallel")];
    console.log(
      `\naudit of ${fmt(events)} events through @upstash/redis -> REST bridge (own process) -> ` +
        `redis-server (${Deno.build.os}, ${navigator.hardwareConcurrency} cores shared with ` +
        `other work: figures are noisy), best of ${runs}`,
    );
    console.log("figure                                     events/s   vs reads  vs hashing");
    const row = (name: string, phase: Phase, note = "") =>
      console.log(
        `${name.padEnd(40)} ${fmt(rate(phase)).padStart(10)}   ${
          (rate(phase) / readRate).toFixed(2).padStart(6)
        }x   ${(rate(phase) / hashRate).toFixed(2).padStart(6)}x  ${note}`,
      );
    const vsTarget = (r: number, target: number, name: string) =>
      r >= target ? `>= ${name} ok` : `< ${name} MISSED`;
    row(
      "verify + rebuild, two threads (the CLI)",
      "parallel",
      vsTarget(auditRate, TARGET, "200,000"),
    );
    row("  + live comparison (deno task replay)", "par-full");
    row("verify + rebuild, one thread (endpoint)", "audit");
    row("  verify only, one thread", "verify");
    row("  + live comparison, one thread", "full");
    row("NDJSON export over HTTP", "export", vsTarget(rate("export"), auditRate, "verify+rebuild"));
    row("baseline: page reads, nothing else", "read");
    row("baseline: canonical JSON + SHA-256", "hash");
    const exported = best.export!;
    console.log(
      `export: ${((exported.extra!.bytes as number) / 1e6).toFixed(0)} MB at ${
        ((exported.extra!.bytes as number) / 1e6 / exported.seconds).toFixed(1)
      } MB/s`,
    );
    console.log(
      "memory, RSS / live JS heap (after a collection) in MB, in each run's own process:",
    );
    for (const phase of ["read", "verify", "audit", "parallel", "par-full", "export"] as Phase[]) {
      console.log(`  ${phase.padEnd(8)} ${memoryLine(best[phase]!.samples, best[phase]!.events)}`);
    }
    const report = best.parallel!.extra!.report as {
      events: { byType: Record<string, number> };
      users: number;
    };
    console.log(
      `log: ${Object.entries(report.events.byType).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}`,
    );
    console.log(
      `${fmt(report.users)} users hold credits at the end; the fold keeps only credits alive ` +
        `by the log's clock (expired ones are counted and dropped)`,
    );
  } finally {
    await rig.close();
  }
}

if (import.meta.main) {
  const phase = argValue("--phase") as Phase | undefined;
  if (phase) {
    const result = await runPhase(phase, JSON.parse(Deno.env.get("BENCH_AUDIT")!));
    console.log(JSON.stringify(result));
    Deno.exit(0);
  }
  await main();
}
