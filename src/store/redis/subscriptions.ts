/**
 * The owner of the subscription state's other scripts: subscriptions.lua (one user's state),
 * templates.lua (the template registry's sync) and registry.lua (reading it). answer.lua, which
 * writes the state, has its own owner (answer.ts).
 *
 * @module
 */
import type { Redis } from "@upstash/redis";
import { canonicalJson } from "../../chain/chain.ts";
import type { RegisteredTemplate } from "../../ledger/registry.ts";
import { templatesSynced } from "../../ledger/subscribe_events.ts";
import type { AnswerSource, SubscribeSettings } from "../../ledger/subscribe_events.ts";
import type {
  SubscriptionView,
  TemplateSubscriptionView,
} from "../../ledger/subscription_state.ts";
import { CREDIT_SEPARATOR } from "./credit_value.ts";
import { encodeEntry } from "./entry.ts";
import type { LedgerKeys } from "./keys.ts";
import { type LogWriter, writingScriptSource } from "./log_writer.ts";
import { loadScript, type LuaScript, scriptSource } from "./scripts.ts";

/**
 * subscriptions.lua.
 *
 * @example
 * ```ts
 * redis.createScript(SUBSCRIPTIONS_LUA).exec([keys.projection], [prefix, openId, String(now)]);
 * ```
 */
export const SUBSCRIPTIONS_LUA = scriptSource(["subscriptions"]);
/**
 * registry.lua.
 *
 * @example
 * ```ts
 * redis.createScript(REGISTRY_LUA).exec([keys.projection], [prefix]);
 * ```
 */
export const REGISTRY_LUA = scriptSource(["registry"]);
/**
 * templates.lua with its prelude.
 *
 * @example
 * ```ts
 * redis.createScript(TEMPLATES_LUA); // what SubscriptionScripts loads
 * ```
 */
export const TEMPLATES_LUA = writingScriptSource("templates");

/**
 * The subscription reads and the registry's sync of one ledger.
 *
 * @example
 * ```ts
 * const subs = new SubscriptionScripts(redis, keys, prefix, log);
 * await subs.view("o1", Date.now());
 * ```
 */
export class SubscriptionScripts {
  readonly #view: LuaScript;
  readonly #registry: LuaScript;
  readonly #sync: LuaScript;
  readonly #keys: string[];

  constructor(
    redis: Redis,
    keys: LedgerKeys,
    readonly prefix: string,
    readonly log: LogWriter,
  ) {
    this.#view = loadScript(redis, SUBSCRIPTIONS_LUA);
    this.#registry = loadScript(redis, REGISTRY_LUA);
    this.#sync = log.load(TEMPLATES_LUA);
    this.#keys = [keys.projection];
  }

  /** One user's subscription state at `now`. */
  async view(openId: string, now: number): Promise<SubscriptionView> {
    const flat = await this.#view.exec(this.#keys, [this.prefix, openId, String(now)]) as (
      | string
      | number
    )[];
    const raw = String(flat[0]);
    let settings: SubscribeSettings | null = null;
    if (raw) {
      const data = JSON.parse(raw) as SubscribeSettings;
      settings = { mainSwitch: data.mainSwitch, itemSettings: data.itemSettings };
    }
    const templates: TemplateSubscriptionView[] = [];
    for (let i = 1; i < flat.length; i += 3) {
      const [answer, source] = String(flat[i + 1]).split(CREDIT_SEPARATOR);
      templates.push({
        templateId: String(flat[i]),
        answer,
        source: source as AnswerSource,
        awaitingWechat: Number(flat[i + 2]),
      });
    }
    templates.sort((
      a,
      b,
    ) => (a.templateId < b.templateId ? -1 : a.templateId > b.templateId ? 1 : 0));
    return { settings, templates };
  }

  /** The template registry, or `null`. */
  async templates(): Promise<RegisteredTemplate[] | null> {
    const raw = await this.#registry.exec(this.#keys, [this.prefix]);
    return typeof raw === "string" && raw !== "" ? JSON.parse(raw) as RegisteredTemplate[] : null;
  }

  /** Makes `templates` the registry; `false` when it already was. */
  async sync(templates: RegisteredTemplate[], now: number): Promise<boolean> {
    const event = templatesSynced(templates);
    const { t, d } = encodeEntry(event.type, event.data);
    const args = this.log.args(now);
    args.push(canonicalJson(event.data.templates), t, d);
    return Number(await this.log.write("templates", this.#sync, args)) === 1;
  }
}
