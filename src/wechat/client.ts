/**
 * The WeChat message client: legacy template messages (form and prepay credits) and subscribe
 * messages (subscribe credits), with a timeout per call, a bound on calls in flight, pooled
 * keep-alive connections, and one token refresh and retry on 40001/40014/42001.
 *
 * It never touches the ledger: it answers what WeChat said, classified (see errcodes.ts).
 * Request URLs carry the access token, so neither a URL nor a fetch error's text is ever logged
 * or returned; failures get fixed messages.
 *
 * @module
 */
import { classify, type ErrClass, isTokenError, LOCAL, WeChatError } from "./errcodes.ts";
import { Limiter } from "./limiter.ts";
import { Http1Pool, type PostAnswer, PostError } from "../shared/http1_pool.ts";
import type { AccessTokens } from "./token.ts";

/** Message data as WeChat takes it: `{ keyword1: { value }, ... }` or `{ thing1: { value } }`. */
export type MessageData = Record<string, { value: string; color?: string }>;

/** One message for one user; `formId` is required for a template message. */
export interface Message {
  touser: string;
  templateId: string;
  page?: string;
  data: MessageData;
  /** Template messages only. */
  emphasisKeyword?: string;
  /** Subscribe messages only. */
  miniprogramState?: "developer" | "trial" | "formal";
  /** Subscribe messages only. */
  lang?: "zh_CN" | "en_US" | "zh_HK" | "zh_TW";
}

/** What a send came to. `calls` counts HTTP calls to the send endpoint (a token retry is 2). */
export interface SendResult {
  errcode: number;
  errmsg: string;
  class: ErrClass;
  msgid?: string;
  calls: number;
}

/** Client settings. */
export interface ClientSettings {
  apiBase: string;
  /** Per-call timeout in ms. After it the outcome is unknown (the request was sent). */
  timeoutMs: number;
  /** Most calls in flight at once, which also bounds the connections in use. */
  concurrency: number;
  /** `pool` (default): the keep-alive HTTP/1.1 pool; `fetch`: the runtime's fetch. */
  httpClient?: "pool" | "fetch";
}

/** One POST of a JSON body, answered whole or failed with a {@link PostError}. */
type Post = (url: string, body: string, timeoutMs: number) => Promise<PostAnswer>;

/** A {@link Post} through `fetch` (a pooled keep-alive client where the runtime offers one). */
function fetchPost(fetcher: typeof fetch | null, poolSize: number): Post {
  let client: Deno.HttpClient | undefined;
  if (!fetcher) {
    try {
      client = Deno.createHttpClient({ poolMaxIdlePerHost: poolSize, poolIdleTimeout: 60_000 });
    } catch { /* not available here (some hosts): the default client pools and keeps alive */ }
  }
  const send = fetcher ?? fetch;
  return async (url, body, timeoutMs) => {
    let res: Response;
    try {
      res = await send(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        ...(client ? { client } : {}),
      });
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (
        err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError")
      ) {
        throw new PostError("timeout", true, "no answer within the timeout");
      }
      // The error text embeds the URL (and so the token): only inspect it, never pass it on.
      const text = `${err} ${(err as { cause?: unknown })?.cause ?? ""}`;
      if (/connection refused|os error 111|ECONNREFUSED/i.test(text)) {
        throw new PostError("connect", false, "connection refused");
      }
      throw new PostError("broken", true, "the connection failed");
    }
  };
}

/** Sends WeChat messages. */
export class WeChatClient {
  readonly #limiter: Limiter;
  readonly #post: Post;
  readonly #pool: Http1Pool | null = null;

  /** `fetcher` (e.g. an in-process simulator's) replaces the HTTP client. */
  constructor(
    private readonly tokens: AccessTokens,
    private readonly settings: ClientSettings,
    fetcher?: typeof fetch,
  ) {
    this.#limiter = new Limiter(settings.concurrency);
    if (!fetcher && (settings.httpClient ?? "pool") === "pool") {
      const pool = new Http1Pool({ maxIdle: settings.concurrency });
      this.#pool = pool;
      this.#post = (url, body, timeoutMs) => pool.post(url, body, timeoutMs);
    } else {
      this.#post = fetchPost(fetcher ?? null, settings.concurrency);
    }
  }

  /** Closes pooled connections (shutdown; tests). Sends in flight fail as broken. */
  close(): Promise<void> {
    return this.#pool?.close() ?? Promise.resolve();
  }

  /** Sends a legacy template message spending `formId` (a form or prepay credit). */
  sendTemplate(message: Message, formId: string): Promise<SendResult> {
    return this.#send("/cgi-bin/message/wxopen/template/send", {
      touser: message.touser,
      template_id: message.templateId,
      page: message.page,
      form_id: formId,
      data: message.data,
      emphasis_keyword: message.emphasisKeyword,
    });
  }

  /** Sends a subscribe message, spending one of the user's accepts for the template. */
  sendSubscribe(message: Message): Promise<SendResult> {
    return this.#send("/cgi-bin/message/subscribe/send", {
      touser: message.touser,
      template_id: message.templateId,
      page: message.page,
      data: message.data,
      miniprogram_state: message.miniprogramState,
      lang: message.lang,
    });
  }

  async #send(path: string, body: Record<string, unknown>): Promise<SendResult> {
    const text = JSON.stringify(body);
    let calls = 0;
    for (let attempt = 0;; attempt++) {
      let token: string;
      try {
        token = await this.tokens.get();
      } catch (err) {
        return failure(err, calls);
      }
      calls++;
      const result = await this.#limiter.run(() => this.#call(path, token, text));
      if (isTokenError(result.errcode) && attempt === 0) {
        await this.tokens.expire(token);
        continue; // once: an unbounded loop would burn the daily token quota
      }
      return { ...result, calls };
    }
  }

  async #call(path: string, token: string, body: string): Promise<Omit<SendResult, "calls">> {
    let res: PostAnswer;
    try {
      res = await this.#post(
        `${this.settings.apiBase}${path}?access_token=${encodeURIComponent(token)}`,
        body,
        this.settings.timeoutMs,
      );
    } catch (err) {
      return networkFailure(err);
    }
    if (res.status >= 500) return result(LOCAL.HTTP_5XX, `WeChat answered HTTP ${res.status}`);
    let answer: Record<string, unknown>;
    try {
      answer = JSON.parse(res.body);
    } catch {
      return result(LOCAL.NETWORK, `unreadable answer (HTTP ${res.status})`);
    }
    if (answer === null || typeof answer !== "object") {
      return result(LOCAL.NETWORK, `unreadable answer (HTTP ${res.status})`);
    }
    const errcode = Number(answer.errcode ?? 0);
    if (!Number.isFinite(errcode)) return result(LOCAL.NETWORK, "answer without a numeric errcode");
    const errmsg = String(answer.errmsg ?? (errcode === 0 ? "ok" : "")).slice(0, 300);
    return {
      ...result(errcode, errmsg),
      ...(errcode === 0 && answer.msgid !== undefined ? { msgid: String(answer.msgid) } : {}),
    };
  }
}

function result(errcode: number, errmsg: string): Omit<SendResult, "calls"> {
  return { errcode, errmsg, class: classify(errcode) };
}

/** A post that failed: not sent (nothing reached WeChat), timed out or broken (maybe delivered). */
function networkFailure(err: unknown): Omit<SendResult, "calls"> {
  const maybeSent = "connection failed after the request may have been sent";
  // The cause goes into errmsg (and so into the log) to tell failures apart: a PostError's
  // message never holds the URL (nor its access token); any other error is named, not quoted.
  if (!(err instanceof PostError)) {
    return result(LOCAL.NETWORK, `${maybeSent} (${err instanceof Error ? err.name : "error"})`);
  }
  if (err.kind === "timeout") return result(LOCAL.TIMEOUT, "no answer within the timeout");
  if (!err.sent) return result(LOCAL.REFUSED, err.message); // nothing reached WeChat
  return result(LOCAL.NETWORK, `${maybeSent} (${err.message})`);
}

function failure(err: unknown, calls: number): SendResult {
  if (err instanceof WeChatError) {
    return { errcode: err.errcode, errmsg: err.errmsg, class: err.class, calls };
  }
  return { errcode: LOCAL.NO_TOKEN, errmsg: "no access token", class: "transient", calls };
}
