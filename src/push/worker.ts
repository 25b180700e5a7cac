/**
 * The broadcast worker step: take chunks from the shared work queue (reclaiming chunks a lost
 * worker held too long), deliver each, acknowledge it, and finish or stop the broadcast. Any
 * number of instances run it at once. A self-hosted instance runs it in a loop ({@link
 * BroadcastWorker.start}); on Deno Deploy `Deno.cron` calls {@link BroadcastWorker.step} with a
 * deadline. A worker holds at most `chunksInFlight` chunks (pending entries) at a time.
 *
 * @module
 */
import type { WorkItem, WorkQueue } from "../coordination/coordination.ts";
import { type BroadcastInfo, broadcastPushId, type Broadcasts, type Chunk } from "./broadcast.ts";
import type { Deliverer } from "./deliver.ts";

/** Worker settings. */
export interface WorkerSettings {
  chunksInFlight: number;
  reclaimMs: number;
  pollMs: number;
}

/** What one step did. */
export interface StepReport {
  chunks: number;
  deliveries: number;
}

/** Works broadcast chunks. */
export class BroadcastWorker {
  /** This worker's consumer name in the queue's consumer group. */
  readonly consumer: string;
  #loop: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;

  constructor(
    private readonly queue: WorkQueue,
    private readonly broadcasts: Broadcasts,
    private readonly deliverer: Deliverer,
    private readonly settings: WorkerSettings,
    consumer?: string,
  ) {
    this.consumer = consumer ?? `w-${crypto.randomUUID()}`;
  }

  /**
   * Works chunks until none is left or `deadline` (epoch ms) passes; chunks already started
   * are finished. Returns what it did.
   */
  async step(deadline = Infinity): Promise<StepReport> {
    const report: StepReport = { chunks: 0, deliveries: 0 };
    const running = new Set<Promise<void>>();
    for (;;) {
      const free = this.settings.chunksInFlight - running.size;
      let items: WorkItem[] = [];
      if (free > 0 && Date.now() < deadline && !this.#stopping) {
        items = await this.queue.next(this.consumer, free, this.settings.reclaimMs);
      }
      for (const item of items) {
        const task = this.#work(item, report).catch((err) => {
          // The chunk stays pending and is reclaimed later; never log payloads or tokens.
          console.error(`broadcast worker: chunk ${item.queue}/${item.id} failed:`, errName(err));
        });
        running.add(task);
        task.finally(() => running.delete(task));
      }
      if (running.size === 0) return report;
      // Wait for a slot before asking again (an idle queue is not polled in a tight loop).
      await Promise.race(running);
    }
  }

  /** Runs {@link step} in a loop until {@link stop}, pausing `pollMs` when idle. */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = (async () => {
      while (!this.#stopping) {
        let didWork = false;
        try {
          didWork = (await this.step()).chunks > 0;
        } catch (err) {
          console.error("broadcast worker: step failed:", errName(err));
        }
        if (!didWork && !this.#stopping) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.settings.pollMs);
            this.#wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.#wake = null;
        }
      }
    })();
  }

  /** Asks an idle loop to look for work now (after a broadcast is created here). */
  poke(): void {
    this.#wake?.();
  }

  /** Stops the loop after the chunks in hand are done. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
  }

  async #work(item: WorkItem, report: StepReport): Promise<void> {
    const info = await this.broadcasts.info(item.queue);
    if (!info || info.state !== "running") {
      await this.queue.ack(item); // finished, stopped or expired: nothing left to do
      return;
    }
    const chunk = JSON.parse(item.payload) as Chunk;
    const refs = chunk.openIds.map((openId, i) => ({
      openId,
      pushId: broadcastPushId(info.broadcastId, chunk.offset + i),
    }));
    // A long chunk (retries with backoff) keeps telling the queue it is alive, so it is not
    // reclaimed from under a live worker.
    const heartbeat = setInterval(() => {
      this.queue.touch(item, this.consumer).catch(() => {});
    }, Math.max(50, Math.floor(this.settings.reclaimMs / 3)));
    let batch;
    try {
      batch = await this.deliverer.deliverMany(refs, info.message, info.broadcastId);
    } finally {
      clearInterval(heartbeat);
    }
    const { reports, quotaReached } = batch;
    report.chunks++;
    report.deliveries += reports.filter((r) => r.status === "sent").length;
    if (quotaReached) {
      await this.#stop(info);
      return;
    }
    await this.queue.ack(item);
    await this.broadcasts.finishIfComplete(info);
  }

  async #stop(info: BroadcastInfo): Promise<void> {
    console.warn(`broadcast ${info.broadcastId}: stopped, WeChat's daily quota (45009) reached`);
    await this.broadcasts.stop(info, "quota");
  }
}

function errName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : "error";
}
