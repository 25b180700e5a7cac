/**
 * The limits kept their meaning when they moved into the collect's script call: one sequence
 * of uploads (several users and IPs, concurrent uploads coalesced into one batch, windows
 * crossed, a manual clock) replayed through the old limiter (`@upstash/ratelimit`'s fixed
 * window against the real bridge, as the service configured it) and through the ledger's
 * collect with its limit checks on each store gets the same decisions, and collects exactly the
 * allowed uploads.
 */
import assert from "node:assert/strict";
import { Ratelimit } from "@upstash/ratelimit";
import { createApp } from "../../../src/app.ts";
import { openBackends } from "../../../src/backends.ts";
import { loadConfig } from "../../../src/config/config.ts";
import type { CollectItem } from "../../../src/ledger/ledger.ts";
import type { LimitDecision } from "../../../src/ledger/limits.ts";
import { ManualClock } from "../../../src/shared/clock.ts";
import { upstashClient } from "../../../src/shared/upstash_client.ts";
import { uniquePrefix, upstashFromEnv } from "../../helpers/rig.ts";
import { TEST_ENV } from "../../helpers/service.ts";
import { STORES } from "../login_helpers.ts";

const WINDOW_SECONDS = 60;
const WINDOW = WINDOW_SECONDS * 1000;
const PER_USER = 4;
const PER_IP = 7;
/** 500 ms into a window. */
const START = Date.UTC(2026, 10, 25, 12, 0, 0) + 500;

interface Upload {
  openId: string;
  ip: string;
  items: CollectItem[];
}

/** Uploads made at one instant: concurrent, so the ledger sends them in one batch. */
interface Round {
  at: number;
  uploads: Upload[];
}

/** A small seeded generator (mulberry32), so the sequence is the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The sequence: 60 rounds of 1-8 uploads by 6 users from 3 IPs (a user mostly from one), each
 * round 0 ms to half a window after the last, or 1 ms after the next window starts (never on
 * its first millisecond: see `oldDecisions`); one upload in ten has only expired formIds, so it
 * collects nothing and still counts.
 */
function sequence(): Round[] {
  const next = random(15);
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const rounds: Round[] = [];
  let at = START;
  let n = 0;
  for (let r = 0; r < 60; r++) {
    const step = next();
    if (step < 0.2) at = (Math.floor(at / WINDOW) + 1) * WINDOW + 1;
    else if (step < 0.5) at += 0;
    else at += Math.floor(next() * WINDOW / 2);
    if (at % WINDOW === 0) at++;
    const uploads: Upload[] = [];
    for (let u = 0, size = 1 + Math.floor(next() * 8); u < size; u++) {
      const user = Math.floor(next() * 6);
      const ip = next() < 0.8 ? `10.0.0.${user % 3}` : pick(["10.0.0.0", "10.0.0.1", "::1"]);
      const expired = next() < 0.1;
      const items = Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({
        formId: `f${n++}`,
        kind: "form" as const,
        ...(expired ? { collectedAt: at - 30 * 86_400_000 } : {}),
      }));
      uploads.push({ openId: `user${user}`, ip, items });
    }
    rounds.push({ at, uploads });
  }
  return rounds;
}

/** What a request's checks decided: per-user first, then per-IP. */
type Decisions = LimitDecision[];

const plain = ({ success, limit, remaining, reset }: LimitDecision) => ({
  success,
  limit,
  remaining,
  reset,
});

/**
 * The old limiter, configured as the service configured it (keys `<prefix>:rl:<name>:<id>:<window>`,
 * its per-process cache of refused identifiers on), each upload after the other with `Date.now`
 * at the round's time. (Its cache keeps an identifier refused through the first millisecond of
 * the next window, `reset < Date.now()`, where the window rule `floor(now / window)` has moved
 * on: the sequence never lands on a window's first millisecond.)
 */
async function oldDecisions(rounds: Round[]): Promise<Decisions[]> {
  const prefix = uniquePrefix("replay-old");
  const limiter = (name: string, tokens: number) =>
    new Ratelimit({
      redis: upstashClient(upstashFromEnv()),
      limiter: Ratelimit.fixedWindow(tokens, `${WINDOW_SECONDS} s`),
      prefix: `${prefix}:rl:${name}`,
      analytics: false,
      timeout: 0,
    });
  const [user, ip] = [limiter("user", PER_USER), limiter("ip", PER_IP)];
  const realNow = Date.now;
  const decisions: Decisions[] = [];
  try {
    for (const round of rounds) {
      Date.now = () => round.at;
      for (const upload of round.uploads) {
        const pair = await Promise.all([user.limit(upload.openId), ip.limit(upload.ip)]);
        decisions.push(pair.map(plain));
      }
    }
  } finally {
    Date.now = realNow;
  }
  return decisions;
}

/** The service's ledger on `store` with a manual clock: each round's uploads collected at once. */
async function newDecisions(
  store: "memory" | "redis",
  rounds: Round[],
): Promise<{ decisions: Decisions[]; collected: string[] }> {
  const { url, token } = upstashFromEnv();
  const config = loadConfig({
    ...TEST_ENV,
    ...(store === "redis"
      ? {
        UPSTASH_REDIS_REST_URL: url,
        UPSTASH_REDIS_REST_TOKEN: token,
        LEDGER_PREFIX: uniquePrefix("replay-new"),
      }
      : {}),
    RATE_LIMIT_PER_USER: String(PER_USER),
    RATE_LIMIT_PER_IP: String(PER_IP),
    RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
  });
  const clock = new ManualClock(START);
  const backends = openBackends(config, clock);
  const { ledger } = createApp({ config, backends, clock });
  const { user, ip } = backends.limiters;
  const decisions: Decisions[] = [];
  try {
    for (const round of rounds) {
      clock.advance(round.at - clock.now());
      const settled: Decisions[] = [];
      await Promise.all(
        round.uploads.map((upload, u) =>
          ledger.collect(upload.openId, upload.items, config.creditCaps, {
            checks: [user.check(upload.openId), ip.check(upload.ip)],
            settle: (d) => void (settled[u] = d.map(plain)),
          })
        ),
      );
      decisions.push(...settled);
    }
    const events = await backends.store.readEvents(0, 10_000);
    return {
      decisions,
      collected: events.map((e) => String((e.data as { formId: string }).formId)),
    };
  } finally {
    await backends.close();
  }
}

Deno.test("rate limit: a replayed sequence of uploads gets @upstash/ratelimit's decisions, on both stores", async () => {
  const rounds = sequence();
  const uploads = rounds.flatMap((r) => r.uploads);
  const old = await oldDecisions(rounds);
  const allowed = old.map((pair) => pair.every((d) => d.success));
  // The sequence exercises what it should.
  assert.ok(uploads.length > 200, `${uploads.length} uploads`);
  assert.ok(allowed.filter((a) => !a).length > 30, "many refused");
  assert.ok(allowed.filter((a) => a).length > 60, "many allowed");
  assert.ok(old.some(([u, i]) => u.success && !i.success), "refused per IP only");
  assert.ok(old.some(([u, i]) => !u.success && i.success), "refused per user only");
  const windows = new Set(rounds.map((r) => Math.floor(r.at / WINDOW)));
  assert.ok(windows.size >= 5, `${windows.size} windows`);
  let mixed = 0;
  let o = 0;
  for (const round of rounds) {
    const mine = allowed.slice(o, o += round.uploads.length);
    if (mine.includes(true) && mine.includes(false)) mixed++;
  }
  assert.ok(mixed > 5, "batches holding allowed and refused uploads");

  const expected = uploads
    .filter((u, i) => allowed[i] && u.items[0].collectedAt === undefined)
    .flatMap((u) => u.items.map((item) => item.formId));
  for (const store of STORES) {
    const replay = await newDecisions(store, rounds);
    assert.equal(replay.decisions.length, old.length);
    for (let i = 0; i < old.length; i++) {
      assert.deepEqual(replay.decisions[i], old[i], `${store}: upload ${i}`);
    }
    assert.deepEqual(replay.collected, expected, `${store}: exactly the allowed uploads collect`);
  }
});

Deno.test("rate limit (redis): counts made by @upstash/ratelimit carry over (the same keys)", async () => {
  const prefix = uniquePrefix("carry");
  const old = new Ratelimit({
    redis: upstashClient(upstashFromEnv()),
    limiter: Ratelimit.fixedWindow(3, `${WINDOW_SECONDS} s`),
    prefix: `${prefix}:rl:user`,
    analytics: false,
    timeout: 0,
  });
  const realNow = Date.now;
  try {
    Date.now = () => START;
    assert.equal((await old.limit("alice")).remaining, 2);
    assert.equal((await old.limit("alice")).remaining, 1);
  } finally {
    Date.now = realNow;
  }
  const { url, token } = upstashFromEnv();
  const config = loadConfig({
    ...TEST_ENV,
    UPSTASH_REDIS_REST_URL: url,
    UPSTASH_REDIS_REST_TOKEN: token,
    LEDGER_PREFIX: prefix,
    RATE_LIMIT_PER_USER: "3",
    RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
  });
  const clock = new ManualClock(START + 1);
  const backends = openBackends(config, clock);
  try {
    const { user } = backends.limiters;
    assert.deepEqual(await user.limit("alice"), {
      success: true,
      limit: 3,
      remaining: 0,
      reset: START - 500 + WINDOW,
    });
    assert.equal((await user.limit("alice")).success, false);
  } finally {
    await backends.close();
  }
});
