/**
 * Builds everything push needs from the configuration, the ledger store and the coordination
 * store beside it (both built by `backends.ts`): the token cache, the WeChat client, delivery,
 * broadcasts, the worker and idempotency.
 *
 * @module
 */
import type { Config } from "../config/config.ts";
import type { Clock } from "../shared/clock.ts";
import type { Coordination, KeyValue, WorkQueue } from "../coordination/coordination.ts";
import type { LedgerStore } from "../ledger/store.ts";
import { expiryRulesOf, Ledger } from "../ledger/ledger.ts";
import { WeChatClient } from "../wechat/client.ts";
import { AccessTokens } from "../wechat/token.ts";
import { Broadcasts } from "./broadcast.ts";
import { Deliverer } from "./deliver.ts";
import { Idempotency } from "./idempotency.ts";
import { Outbox } from "./outbox.ts";
import { Reconciler } from "./reconcile.ts";
import { BroadcastWorker } from "./worker.ts";

/**
 * Most outcomes the outbox holds (a few hundred bytes each): past it, sending waits for room,
 * so memory stays bounded however long the store is away.
 */
export const OUTBOX_MAX_OUTCOMES = 10_000;

/** The push machinery of one instance. */
export interface PushService {
  kv: KeyValue;
  queue: WorkQueue;
  tokens: AccessTokens;
  client: WeChatClient;
  deliverer: Deliverer;
  /** Outcomes waiting to be written while the store is unreachable. */
  outbox: Outbox;
  /** Settles unknown deliveries from WeChat's `subscribe_msg_sent_event` (`confirmSent`). */
  reconciler: Reconciler;
  broadcasts: Broadcasts;
  worker: BroadcastWorker;
  idempotency: Idempotency;
}

/** What the push machinery is built from; `fetch` lets a benchmark count calls. */
export interface PushDeps {
  config: Config;
  store: LedgerStore;
  /** Where the access token, idempotency records and broadcast work live. */
  coordination: Coordination;
  clock: Clock;
  fetch?: typeof fetch;
}

/**
 * Builds the push machinery, or `null` when WECHAT_APPID / WECHAT_SECRET are not set.
 *
 * @example
 * ```ts
 * const { store, coordination } = openBackends(config);
 * const push = createPushService({ config, store, coordination, clock: systemClock });
 * ```
 */
export function createPushService(
  { config, store, coordination, clock, fetch }: PushDeps,
): PushService | null {
  const { appid, secret, apiBase, tokenMode } = config.wechat;
  if (!appid || !secret) return null;
  const push = config.push;
  const { kv, queue } = coordination;
  const tokens = new AccessTokens(
    kv,
    {
      apiBase,
      appid,
      secret,
      mode: tokenMode,
      marginMs: push.tokenMarginSeconds * 1000,
      lockMs: Math.max(push.timeoutMs * 2, 5_000),
      waitMs: Math.max(push.timeoutMs * 3, 10_000),
      timeoutMs: push.timeoutMs,
      localTtlMs: 60_000,
    },
    clock,
    fetch,
  );
  const client = new WeChatClient(tokens, {
    apiBase,
    timeoutMs: push.timeoutMs,
    concurrency: push.concurrency,
    httpClient: config.wechat.httpClient,
  }, fetch);
  const ledger = new Ledger(store, expiryRulesOf(config), clock);
  const outbox = new Outbox((broadcastId, outcomes) => ledger.record(broadcastId, outcomes), {
    maxOutcomes: OUTBOX_MAX_OUTCOMES,
    baseDelayMs: 100,
    maxDelayMs: 5_000,
  });
  const reconciler = new Reconciler(kv, ledger);
  // A push's state is kept as long as its Idempotency-Key is: a retry finds what happened.
  const deliverer = new Deliverer(
    ledger,
    client,
    push,
    push.concurrency,
    outbox,
    push.idempotencyTtlSeconds * 1000,
    reconciler,
  );
  const broadcasts = new Broadcasts(store, kv, queue, clock, push.chunkUsers);
  const worker = new BroadcastWorker(queue, broadcasts, deliverer, push);
  const idempotency = new Idempotency(
    kv,
    push.idempotencyTtlSeconds * 1000,
    // A run past this is presumed lost and its key is free again; a retry is safe even while
    // the first still runs (the push's id, and so its state in the ledger, is the key's).
    push.timeoutMs * push.maxAttempts * push.maxCredits + push.retryBaseMs * 2 ** push.maxAttempts +
      5_000,
  );
  return {
    kv,
    queue,
    tokens,
    client,
    deliverer,
    outbox,
    reconciler,
    broadcasts,
    worker,
    idempotency,
  };
}
