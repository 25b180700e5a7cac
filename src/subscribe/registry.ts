/**
 * The account's template registry at work: synced from WeChat's `gettemplate` on start (in the
 * background: start-up never waits for WeChat; a failure is logged without secrets and retried
 * every `TEMPLATE_SYNC_INTERVAL_SECONDS`), on demand (`POST /v1/templates/sync`) and when a push
 * or an event names a template the registry does not know (at most one sync per interval), and
 * read from the store (`LedgerStore.templates`) through a short cache, so every instance sees
 * another's sync within seconds.
 *
 * Until a first sync that lists any template the registry is absent: the allow-list `SUBSCRIBE_TEMPLATES` (or, unset,
 * any template) decides which templates may get subscribe credits, and a push's data is not
 * checked.
 *
 * @module
 */
import type { Clock } from "../shared/clock.ts";
import type { RegisteredTemplate } from "../ledger/registry.ts";
import type { LedgerStore } from "../ledger/store.ts";

/** Fetches the account's templates from WeChat (throws on any failure). */
export type TemplateSource = () => Promise<RegisteredTemplate[]>;

/** How the registry behaves. */
export interface RegistryOptions {
  /** Where templates come from; `null` without WeChat credentials (never synced). */
  source: TemplateSource | null;
  /** SUBSCRIBE_TEMPLATES: the fallback allow-list while no registry exists; `null`: any. */
  allowList: ReadonlySet<string> | null;
  /** Least time between two syncs for unknown templates, and between retries, in ms. */
  intervalMs: number;
  /** How long a read of the store's registry is reused, in ms (default 5,000). */
  cacheMs?: number;
}

/** What a sync did. */
export interface SyncResult {
  changed: boolean;
  templates: RegisteredTemplate[];
}

/**
 * The template registry of one instance.
 *
 * @example
 * ```ts
 * const registry = new TemplateRegistry(store, systemClock, { source, allowList: null,
 *   intervalMs: 60_000 });
 * registry.start();
 * await registry.find("TPL"); // the template, null (unknown), or undefined (no registry yet)
 * ```
 */
export class TemplateRegistry {
  #cache: RegistryRead | null = null;
  /** The store read under way, shared by the lookups that find the cache expired meanwhile. */
  #reading: Promise<RegistryRead> | null = null;
  #lastSync = -Infinity;
  #syncing: Promise<SyncResult> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly options: RegistryOptions,
  ) {}

  /** Whether templates can be synced (WeChat credentials are set). */
  get syncable(): boolean {
    return this.options.source !== null;
  }

  /** Starts the first sync in the background, retried until it succeeds or `stop()`. */
  start(): void {
    if (!this.options.source || this.#stopped) return;
    const attempt = () => {
      this.sync().catch((err) => {
        console.warn(`templates: sync failed, retrying later: ${describe(err)}`);
        if (!this.#stopped) this.#timer = setTimeout(attempt, this.options.intervalMs);
      });
    };
    attempt();
  }

  /** Stops the retries. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /**
   * Syncs now (one at a time: a caller during a sync shares it). Throws when WeChat cannot be
   * asked or answers an error.
   */
  sync(): Promise<SyncResult> {
    if (!this.options.source) return Promise.reject(new Error("WeChat credentials are not set"));
    this.#syncing ??= (async () => {
      try {
        this.#lastSync = this.clock.now();
        const templates = await this.options.source!();
        // An account that lists no template has no registry yet: the allow-list still decides.
        const changed = templates.length === 0 && (await this.store.templates()) === null
          ? false
          : await this.store.syncTemplates(templates, this.clock.now());
        // Reads begun before the sync must not answer for after it: the next read starts anew.
        this.#cache = null;
        this.#reading = null;
        return { changed, templates };
      } finally {
        this.#syncing = null;
      }
    })();
    return this.#syncing;
  }

  /** The registry (`null` before a first sync). */
  async list(): Promise<RegisteredTemplate[] | null> {
    return (await this.#read()).list;
  }

  /**
   * A template of the registry: the template, `null` when the registry does not know it (after
   * one sync attempt, at most one per interval), `undefined` when there is no registry.
   */
  async find(templateId: string): Promise<RegisteredTemplate | null | undefined> {
    let read = await this.#read();
    if (read.list === null && !this.options.source) return undefined;
    const known = read.byId.get(templateId);
    if (known) return known;
    // A sync under way (another request's, or start-up's) is waited for, not raced.
    const due = this.clock.now() - this.#lastSync >= this.options.intervalMs;
    if (this.options.source && (due || this.#syncing)) {
      try {
        await (this.#syncing ?? this.sync());
      } catch (err) {
        if (due) console.warn(`templates: sync for an unknown template failed: ${describe(err)}`);
      }
      read = await this.#read();
    }
    if (read.list === null) return undefined;
    return read.byId.get(templateId) ?? null;
  }

  /**
   * Whether subscribe credits may be added for `templateId` (the registry's templates once it
   * exists, else the allow-list, else any template), and whether it is long-term.
   */
  async classify(templateId: string): Promise<{ allowed: boolean; longTerm: boolean }> {
    const found = await this.find(templateId);
    if (found !== undefined) {
      return { allowed: found !== null, longTerm: found?.kind === "long-term" };
    }
    const allowList = this.options.allowList;
    return { allowed: allowList === null || allowList.has(templateId), longTerm: false };
  }

  #read(): Promise<RegistryRead> {
    const now = this.clock.now();
    if (this.#cache && now - this.#cache.at < (this.options.cacheMs ?? 5_000)) {
      return Promise.resolve(this.#cache);
    }
    // Under load many lookups find the cache expired at once: one store read serves them all.
    if (this.#reading) return this.#reading;
    const reading = this.store.templates().then((list) => {
      const read = { at: now, list, byId: new Map((list ?? []).map((t) => [t.id, t])) };
      // Kept unless a sync began meanwhile (its result is read afresh).
      if (this.#reading === reading) this.#cache = read;
      return read;
    }).finally(() => {
      if (this.#reading === reading) this.#reading = null;
    });
    this.#reading = reading;
    return reading;
  }
}

/** The store's registry as read at `at`, with its templates by id. */
interface RegistryRead {
  at: number;
  list: RegisteredTemplate[] | null;
  byId: Map<string, RegisteredTemplate>;
}

/** An error in one line, without a stack (messages here never hold a token or a URL). */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : typeof err;
}
