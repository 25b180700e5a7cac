/**
 * The key-value store and work queues on Redis (Upstash REST), shared by every instance. Work
 * queues are one Redis Stream per queue (`<prefix>:bc:<name>:work`) with one consumer group;
 * a finished queue's stream is deleted whole, so no stream grows without bound.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import type { KeyValue, MissingEntry, SetOptions, WorkItem, WorkQueue } from "./coordination.ts";

const GROUP = "workers";

function source(name: string): string {
  return Deno.readTextFileSync(new URL(`./lua/${name}.lua`, import.meta.url));
}

/**
 * The source of delete_if_equals.lua (KEYS[1] the key, ARGV[1] the value it must hold; returns
 * 1 when deleted): releases a lock only while it is still ours. The Redis store's rebuild lock
 * uses it too.
 *
 * @example
 * ```ts
 * await redis.createScript(DELETE_IF_EQUALS_LUA).exec([lockKey], [token]);
 * ```
 */
export const DELETE_IF_EQUALS_LUA = source("delete_if_equals");

interface LuaScript {
  exec(keys: string[], args: string[]): Promise<unknown>;
}

/** {@link KeyValue} on Redis; every key is put under `prefix`. */
export class RedisKeyValue implements KeyValue {
  readonly #deleteIfEquals: LuaScript;
  readonly #setMissing: LuaScript;
  readonly #compareAndSet: LuaScript;
  constructor(private readonly redis: Redis, private readonly prefix: string) {
    this.#deleteIfEquals = redis.createScript(source("delete_if_equals")) as LuaScript;
    this.#setMissing = redis.createScript(source("set_missing")) as LuaScript;
    this.#compareAndSet = redis.createScript(source("compare_and_set")) as LuaScript;
  }

  async get(key: string): Promise<string | null> {
    const value = await this.redis.get<string>(this.#key(key));
    return value === null || value === undefined ? null : String(value);
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const reply = options.nx
      ? await this.redis.set(
        this.#key(key),
        value,
        options.px !== undefined ? { px: options.px, nx: true } : { nx: true },
      )
      : await this.redis.set(
        this.#key(key),
        value,
        options.px !== undefined ? { px: options.px } : undefined,
      );
    return reply !== null;
  }

  async setMissing(entries: MissingEntry[]): Promise<boolean[]> {
    if (entries.length === 0) return [];
    const keys = entries.map(({ key }) => this.#key(key));
    const args = entries.flatMap(({ value, px }) => [value, String(Math.max(1, Math.ceil(px)))]);
    const reply = await this.#setMissing.exec(keys, args) as unknown[];
    return reply.map((set) => Number(set) === 1);
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    return Number(await this.#deleteIfEquals.exec([this.#key(key)], [value])) === 1;
  }

  async compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    px: number,
  ): Promise<boolean> {
    const args = [
      expected === null ? "0" : "1",
      expected ?? "",
      next === null ? "0" : "1",
      next ?? "",
      String(Math.max(1, Math.ceil(px))),
    ];
    return Number(await this.#compareAndSet.exec([this.#key(key)], args)) === 1;
  }

  async del(...keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys.map((k) => this.#key(k)));
  }

  #key(key: string): string {
    return `${this.prefix}:${key}`;
  }
}

/** {@link WorkQueue} on Redis Streams with a consumer group. */
export class RedisWorkQueue implements WorkQueue {
  readonly #add: LuaScript;
  readonly #next: LuaScript;
  readonly #touch: LuaScript;
  readonly #active: string;
  readonly #streamPrefix: string;

  constructor(private readonly redis: Redis, prefix: string) {
    this.#add = redis.createScript(source("queue_add")) as LuaScript;
    this.#next = redis.createScript(source("queue_next")) as LuaScript;
    this.#touch = redis.createScript(source("queue_touch")) as LuaScript;
    this.#active = `${prefix}:bc:active`;
    this.#streamPrefix = `${prefix}:bc:`;
  }

  async add(queue: string, payloads: string[]): Promise<void> {
    // Bounded batches keep each request well under Upstash's request size limit.
    for (let i = 0; i < payloads.length || i === 0; i += 200) {
      await this.#add.exec(
        [this.#stream(queue), this.#active],
        [GROUP, queue, ...payloads.slice(i, i + 200)],
      );
      if (payloads.length === 0) break;
    }
  }

  async next(consumer: string, count: number, reclaimAfterMs: number): Promise<WorkItem[]> {
    const flat = await this.#next.exec(
      [this.#active],
      [this.#streamPrefix, GROUP, consumer, String(count), String(reclaimAfterMs)],
    ) as string[];
    const items: WorkItem[] = [];
    for (let i = 0; i < flat.length; i += 4) {
      items.push({
        queue: flat[i],
        id: flat[i + 1],
        payload: flat[i + 2],
        reclaimed: flat[i + 3] === "1",
      });
    }
    return items;
  }

  async touch(item: WorkItem, consumer: string): Promise<boolean> {
    return Number(
      await this.#touch.exec([this.#stream(item.queue)], [GROUP, consumer, item.id]),
    ) === 1;
  }

  async ack(item: WorkItem): Promise<void> {
    await this.redis.xack(this.#stream(item.queue), GROUP, item.id);
  }

  async drop(queue: string): Promise<void> {
    await this.redis.srem(this.#active, queue);
    await this.redis.del(this.#stream(queue));
  }

  #stream(queue: string): string {
    return `${this.#streamPrefix}${queue}:work`;
  }
}
