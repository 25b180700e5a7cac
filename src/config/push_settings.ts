/**
 * The push settings (WeChat client, delivery retries, broadcast worker), read from the
 * environment as part of `loadConfig`. Every problem is reported with its variable's name.
 *
 * @module
 */
import { type Env, envInt } from "../shared/env.ts";

/** How pushes are sent and broadcasts worked. */
export interface PushSettings {
  /** WECHAT_TIMEOUT_MS: one send call's timeout; after it the outcome is unknown. */
  timeoutMs: number;
  /** WECHAT_CONCURRENCY: most WeChat calls in flight per instance (the connection bound). */
  concurrency: number;
  /** WECHAT_TOKEN_MARGIN_SECONDS: a cached token counts as expired this much early. */
  tokenMarginSeconds: number;
  /** PUSH_MAX_ATTEMPTS: attempts of one delivery on transient faults (1 = no retry). */
  maxAttempts: number;
  /** PUSH_MAX_CREDITS: credits one delivery may try when WeChat says a credit is spent. */
  maxCredits: number;
  /** PUSH_RETRY_BASE_MS: first backoff; doubled each retry, with full jitter. */
  retryBaseMs: number;
  /** BROADCAST_CHUNK_USERS: users per work item of a broadcast. */
  chunkUsers: number;
  /** WORKER_ENABLED: run the broadcast worker loop in this process (self-hosted). */
  workerEnabled: boolean;
  /** WORKER_CHUNKS_IN_FLIGHT: chunks one worker holds at once (its pending entries). */
  chunksInFlight: number;
  /** WORKER_POLL_MS: pause of an idle worker loop between looks for work. */
  pollMs: number;
  /** BROADCAST_RECLAIM_MS: a chunk held this long without an ack is taken over. */
  reclaimMs: number;
  /** IDEMPOTENCY_TTL_SECONDS: how long an Idempotency-Key's first outcome is kept. */
  idempotencyTtlSeconds: number;
}

/** Reads the push settings, adding any problem to `problems`. */
export function readPushSettings(env: Env, problems: string[]): PushSettings {
  const int = (name: string, fallback: number, min: number, max: number): number =>
    envInt(env, problems, name, fallback, min, max);
  const flag = (name: string, fallback: boolean): boolean => {
    const raw = env[name]?.toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "on", "yes"].includes(raw)) return true;
    if (["0", "false", "off", "no"].includes(raw)) return false;
    problems.push(`${name} must be on or off, got "${env[name]}"`);
    return fallback;
  };
  const settings: PushSettings = {
    timeoutMs: int("WECHAT_TIMEOUT_MS", 5_000, 50, 60_000),
    concurrency: int("WECHAT_CONCURRENCY", 1_024, 1, 4_096),
    tokenMarginSeconds: int("WECHAT_TOKEN_MARGIN_SECONDS", 300, 0, 3_600),
    maxAttempts: int("PUSH_MAX_ATTEMPTS", 4, 1, 10),
    maxCredits: int("PUSH_MAX_CREDITS", 3, 1, 20),
    retryBaseMs: int("PUSH_RETRY_BASE_MS", 200, 1, 60_000),
    chunkUsers: int("BROADCAST_CHUNK_USERS", 500, 1, 1_000),
    workerEnabled: flag("WORKER_ENABLED", true),
    // Each chunk in flight is one pending stream entry: far below Upstash's 1,000 per consumer.
    chunksInFlight: int("WORKER_CHUNKS_IN_FLIGHT", 12, 1, 100),
    pollMs: int("WORKER_POLL_MS", 1_000, 10, 60_000),
    reclaimMs: int("BROADCAST_RECLAIM_MS", 60_000, 100, 3_600_000),
    idempotencyTtlSeconds: int("IDEMPOTENCY_TTL_SECONDS", 86_400, 60, 7 * 86_400),
  };
  if (settings.reclaimMs <= settings.timeoutMs) {
    problems.push("BROADCAST_RECLAIM_MS must be greater than WECHAT_TIMEOUT_MS");
  }
  return settings;
}
