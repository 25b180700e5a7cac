/**
 * The owner of the live projection's read scripts (view.lua, users.lua, projection.lua): each
 * reads the live version and its keys in one call, so a rebuild's swap never splits a read.
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { type CreditView, viewOf } from "../../ledger/credit_rules.ts";
import type { ProjectionPage, UserPage } from "../../ledger/store.ts";
import { parseCredits } from "./credit_value.ts";
import type { LedgerKeys } from "./keys.ts";
import { NOT_INDEXED } from "./log_writer.ts";
import { loadScript, type LuaScript, scriptSource } from "./scripts.ts";

/**
 * view.lua.
 *
 * @example
 * ```ts
 * redis.createScript(VIEW_LUA).exec([keys.projection], [prefix, openId, now]);
 * ```
 */
export const VIEW_LUA = scriptSource(["view"], { NOT_INDEXED });
/**
 * users.lua.
 *
 * @example
 * ```ts
 * redis.createScript(USERS_LUA).exec([keys.projection], [prefix, "0", "100"]);
 * ```
 */
export const USERS_LUA = scriptSource(["users"]);
/**
 * projection.lua.
 *
 * @example
 * ```ts
 * redis.createScript(PROJECTION_LUA).exec([keys.projection], [prefix, "0", "100", String(now)]);
 * ```
 */
export const PROJECTION_LUA = scriptSource(["projection"]);

/**
 * Reads the live projection of one ledger.
 *
 * @example
 * ```ts
 * const reader = new ProjectionReader(redis, ledgerKeys(prefix), prefix);
 * const { valid } = await reader.view("o1", Date.now());
 * ```
 */
export class ProjectionReader {
  readonly #view: LuaScript;
  readonly #users: LuaScript;
  readonly #projection: LuaScript;
  readonly #keys: string[];

  constructor(redis: Redis, keys: LedgerKeys, readonly prefix: string) {
    this.#view = loadScript(redis, VIEW_LUA);
    this.#users = loadScript(redis, USERS_LUA);
    this.#projection = loadScript(redis, PROJECTION_LUA);
    this.#keys = [keys.projection];
  }

  /** One user's valid credits at `now`, read through the user's credit index. */
  async view(openId: string, now: number): Promise<CreditView> {
    const args = [this.prefix, openId, String(now)];
    const flat = await this.#view.exec(this.#keys, args) as string[];
    return viewOf(parseCredits(flat), now);
  }

  /** A page of the users whose latest expiry is after `now`. */
  async users(cursor: string, count: number, now: number): Promise<UserPage> {
    const page = await this.#users.exec(
      this.#keys,
      [this.prefix, cursor, String(count)],
    ) as string[];
    const openIds: string[] = [];
    for (let i = 1; i < page.length; i += 2) {
      if (Number(page[i + 1]) > now) openIds.push(page[i]);
    }
    return { cursor: String(page[0]), openIds };
  }

  /** A page of users with their stored credits (users whose latest expiry is after `now`). */
  async page(cursor: string, count: number, now: number): Promise<ProjectionPage> {
    const page = await this.#projection.exec(
      this.#keys,
      [this.prefix, cursor, String(count), String(now)],
    ) as unknown[];
    const users = [];
    for (let i = 1; i < page.length; i += 2) {
      users.push({ openId: String(page[i]), credits: parseCredits(page[i + 1] as string[]) });
    }
    return { cursor: String(page[0]), users };
  }
}
