// @ts-check
/// <reference path="./wx.d.ts" />
/**
 * formid-ledger client for WeChat mini-programs: reports subscribe-message answers (and collects
 * them silently on taps for templates the user keeps as "always accept"), collects the formIds
 * that form submits yield, keeps everything in local storage so a killed app loses none, uploads
 * in batches, and logs in with wx.login. Plain CommonJS (ES2015), no build step, no npm at run
 * time. Type-checked against WeChat's own declarations (miniprogram-api-typings, see wx.d.ts).
 *
 *   // app.js
 *   const { createClient } = require("./formid-ledger.js");
 *   App({
 *     ledger: createClient({ wx, baseUrl: "https://ledger.example.com" }),
 *     onShow() {
 *       this.ledger.flush(); // uploads what a killed session left behind
 *       this.ledger.loadSettings(); // the user's kept subscription choices, for silent collection
 *     },
 *   });
 *
 * Storage keys (under `storageKey`): `:queue` formIds waiting, `:reports` subscribe answers
 * waiting, `:session` the session token, `:settings` the kept subscription choices.
 */
"use strict";

/**
 * The part of `wx` the client uses, with WeChat's own signatures.
 * @typedef {Pick<WechatMiniprogram.Wx, "getStorageSync" | "setStorageSync" | "removeStorageSync"
 *   | "request" | "login" | "requestSubscribeMessage" | "getSetting">} WxApi
 */
/**
 * @typedef {object} ClientOptions
 * @property {WxApi} wx the `wx` global
 * @property {string} baseUrl the ledger service, e.g. "https://ledger.example.com"
 * @property {number} [batchSize] upload when this many formIds wait (default 10)
 * @property {number} [maxBatch] most formIds in one upload (default 50)
 * @property {number} [maxBatchBytes] most bytes in one upload (default 15000)
 * @property {number} [minBackoffMs] first retry delay (default 1 s)
 * @property {number} [maxBackoffMs] longest retry delay (default 5 min)
 * @property {number} [requestTimeoutMs] per request (default 10 s)
 * @property {number} [sessionMarginMs] log in again this long before expiry (default 1 min)
 * @property {string} [storageKey] storage key prefix (default "formid-ledger")
 * @property {number} [maxTemplatesPerTap] most templates one tap asks for silently (default 3)
 * @property {number} [minTapIntervalMs] least time between two silent asks (default 1 s)
 * @property {() => number} [now] clock, epoch ms (default Date.now)
 * @property {(fn: () => void, ms: number) => unknown} [setTimeout] timers (default the globals)
 * @property {(id: unknown) => void} [clearTimeout]
 * @property {() => number} [random] in [0, 1) (default Math.random)
 * @property {(err: Error) => void} [onError] told of each failed upload, login or subscribe call
 */
/**
 * The user's subscription settings as `wx.getSetting({ withSubscriptions: true })` gave them:
 * the main switch, and the templates the user ticked "always keep" (总是保持以上选择) for.
 * @typedef {object} KeptSettings
 * @property {boolean} mainSwitch
 * @property {Record<string, string>} itemSettings template id -> "accept" | "reject" | "ban" | ...
 * @property {number} readAt epoch ms
 */
/** @typedef {{ formId: string, collectedAt: number }} QueuedFormId */
/** @typedef {{ reportId: string, results: Record<string, string> }} Report */
/** @typedef {{ token: string, openId: string, expiresAt: number }} Session */
/** @typedef {{ formIds: number, reports: number }} Pending */

/** DevTools placeholders: never real credits, never uploaded. */
const PLACEHOLDERS = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];
const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;
/** Answers that grant a send: accept, with a voice reminder, with a banner reminder. */
const ACCEPTS = ["accept", "acceptWithAudio", "acceptWithAlert"];
/** The answers the server takes. */
const ANSWERS = ACCEPTS.concat(["reject", "ban", "filter"]);
/** WeChat's requestSubscribeMessage takes at most this many template ids per call. */
const MAX_TEMPLATES_PER_CALL = 3;
/** wx.requestSubscribeMessage's errCode when the user turned subscription messages off. */
const MAIN_SWITCH_OFF = 20004;

const DEFAULTS = {
  /** Upload as soon as this many formIds wait. */
  batchSize: 10,
  /** Most formIds in one upload (the server takes 100 and 16 KB). */
  maxBatch: 50,
  maxBatchBytes: 15000,
  /** Retry delays: doubling from min to max, with jitter; a longer Retry-After wins. */
  minBackoffMs: 1000,
  maxBackoffMs: 5 * 60 * 1000,
  requestTimeoutMs: 10000,
  /** Log in again this long before the token's expiry. */
  sessionMarginMs: 60000,
  storageKey: "formid-ledger",
  maxTemplatesPerTap: MAX_TEMPLATES_PER_CALL,
  minTapIntervalMs: 1000,
};

/**
 * Whether a formId may be uploaded: not a placeholder, 1 to 128 printable ASCII characters.
 * @param {unknown} formId
 * @returns {formId is string}
 */
function isUploadable(formId) {
  return typeof formId === "string" && PLACEHOLDERS.indexOf(formId) < 0 &&
    PRINTABLE_ASCII.test(formId);
}

/**
 * An answer as the server takes it: the known ones as they are; accept variants WeChat added
 * later (e.g. `acceptWithForcePush`) as `accept`, so one new value cannot get a report refused.
 * @param {unknown} answer
 * @returns {string | null}
 */
function reportedAnswer(answer) {
  if (typeof answer !== "string") return null;
  if (ANSWERS.indexOf(answer) >= 0) return answer;
  return isAccept(answer) ? "accept" : null;
}

/**
 * Whether an answer or a kept choice is an accept (any `accept...`).
 * @param {unknown} answer
 */
function isAccept(answer) {
  return typeof answer === "string" && answer.indexOf("accept") === 0;
}

/**
 * @param {Record<string, unknown> | undefined} headers
 * @param {string} name lowercase
 */
function headerValue(headers, name) {
  const all = headers || {};
  for (const key of Object.keys(all)) {
    if (key.toLowerCase() === name) return all[key];
  }
  return undefined;
}

/** @param {() => number} random */
function randomId(random) {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (let i = 0; i < 24; i++) id += chars.charAt(Math.floor(random() * chars.length));
  return id;
}

/** A failed call: `status` 0 when the network failed; `retryAfterMs` when the server said. */
class CallError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {number} [retryAfterMs]
   */
  constructor(status, code, retryAfterMs) {
    super(status === 0 ? "network failure" : `HTTP ${status} ${code}`);
    this.name = "CallError";
    this.status = status;
    this.code = code;
    this.retryAfterMs = retryAfterMs || 0;
  }
}

/** The client. Create one per app (`createClient`) and keep it on `getApp()`. */
class FormIdClient {
  /** @param {ClientOptions} options */
  constructor(options) {
    if (!options || !options.wx || !options.baseUrl) {
      throw new Error("wx and baseUrl are required");
    }
    this.wx = options.wx;
    this.baseUrl = String(options.baseUrl).replace(/\/+$/, "");
    /** @type {typeof DEFAULTS} */
    this.opts = Object.assign({}, DEFAULTS);
    for (const key of /** @type {(keyof typeof DEFAULTS)[]} */ (Object.keys(DEFAULTS))) {
      const value = options[key];
      if (value !== undefined) /** @type {any} */ (this.opts)[key] = value;
    }
    this.now = options.now || (() => Date.now());
    this.setTimer = options.setTimeout ||
      /** @type {(fn: () => void, ms: number) => unknown} */ ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout ||
      /** @type {(id: unknown) => void} */ ((id) => clearTimeout(/** @type {number} */ (id)));
    this.random = options.random || Math.random;
    this.onError = options.onError || (() => {});
    this.failures = 0;
    /** @type {unknown} */
    this.timer = null;
    /** No upload before this time (epoch ms): the server's Retry-After. */
    this.holdUntil = 0;
    /** @type {Promise<Pending> | null} */
    this.flushing = null;
    this.again = false;
    /** @type {Promise<Session> | null} */
    this.loggingIn = null;
    this.batchLimit = this.opts.maxBatch;
    this.dead = false;
    /** @type {KeptSettings | null} the kept choices, read by loadSettings() */
    this.kept = null;
    /** When the last silent ask went out (epoch ms). */
    this.lastSilentAt = -Infinity;
  }

  // ---- storage ----

  /**
   * @param {string} name
   * @returns {any}
   */
  load(name) {
    const value = this.wx.getStorageSync(`${this.opts.storageKey}:${name}`);
    return value === "" || value === undefined ? null : value;
  }

  /**
   * @param {string} name
   * @param {unknown} value null removes
   */
  save(name, value) {
    if (this.dead) return; // a killed app writes nothing
    const key = `${this.opts.storageKey}:${name}`;
    try {
      if (value === null) this.wx.removeStorageSync(key);
      else this.wx.setStorageSync(key, value);
    } catch (err) {
      this.onError(/** @type {Error} */ (err)); // storage full (10 MB per mini-program): nothing else to do here
    }
  }

  /** @returns {QueuedFormId[]} */
  queue() {
    return this.load("queue") || [];
  }

  /** @returns {Report[]} */
  reports() {
    return this.load("reports") || [];
  }

  /**
   * How many formIds and subscribe reports wait.
   * @returns {Pending}
   */
  pending() {
    return { formIds: this.queue().length, reports: this.reports().length };
  }

  // ---- collecting ----

  /**
   * Queues one formId with its collection time (now unless given). Placeholders, malformed ids
   * and ids already waiting are skipped. Returns whether it was queued. Once `batchSize` wait,
   * they are uploaded.
   * @param {unknown} formId
   * @param {number} [collectedAt]
   */
  collect(formId, collectedAt) {
    if (!isUploadable(formId)) return false;
    const queue = this.queue();
    if (queue.some((item) => item.formId === formId)) return false;
    queue.push({ formId, collectedAt: collectedAt || this.now() });
    this.save("queue", queue);
    // While a retry waits (backoff), taps do not bring it forward: the timer will send them.
    if (queue.length >= this.opts.batchSize && this.timer === null) this.flush();
    return true;
  }

  /**
   * Collects the formId of a `<form report-submit>` submit event.
   * @param {{ detail?: { formId?: string } } | undefined} event
   */
  onSubmit(event) {
    return this.collect(event && event.detail && event.detail.formId);
  }

  /**
   * Wraps a page's submit handler so each submit's formId is collected first:
   * `Page({ onSubmit: ledger.wrapSubmit(function (e) { ... }) })`.
   * @template {(this: any, event: any, ...rest: any[]) => any} H
   * @param {H | undefined} handler
   * @returns {(this: ThisParameterType<H>, ...args: Parameters<H>) => ReturnType<H> | undefined}
   */
  wrapSubmit(handler) {
    // The handler runs as the page (`this`), so the client needs its own name here.
    // deno-lint-ignore no-this-alias
    const client = this;
    return function (...args) {
      client.onSubmit(args[0]);
      return handler ? handler.apply(this, args) : undefined;
    };
  }

  /**
   * `wx.request` that also uploads waiting formIds: the app's next request is when they go.
   * Takes and returns what `wx.request` does.
   * @param {WechatMiniprogram.RequestOption} options
   */
  request(options) {
    const waiting = this.pending();
    // The app reaching its own server is a sign the network is back, so a backoff is cut short;
    // a wait the ledger asked for (Retry-After) is not.
    if ((waiting.formIds > 0 || waiting.reports > 0) && this.now() >= this.holdUntil) this.flush();
    return this.wx.request(options);
  }

  // ---- subscribe messages ----

  /**
   * Reports what `wx.requestSubscribeMessage` returned. The report is stored first, so a killed
   * app sends it later; its reportId makes a resent report count once. Accept variants
   * (`acceptWithAudio`, `acceptWithAlert`) are accepts.
   * @param {Record<string, unknown> | undefined} result
   * @returns {Promise<Pending>}
   */
  reportSubscribe(result) {
    /** @type {Record<string, string>} */
    const results = {};
    for (const key of Object.keys(result || {})) {
      const answer = key === "errMsg" || key === "errCode" ? null : reportedAnswer(result?.[key]);
      if (answer !== null) results[key] = answer;
    }
    if (Object.keys(results).length === 0) return Promise.resolve(this.pending());
    const reports = this.reports();
    reports.push({ reportId: randomId(this.random), results });
    this.save("reports", reports);
    return this.flush();
  }

  /**
   * Asks the user (`wx.requestSubscribeMessage`), reports the answers, resolves with them. The
   * kept choices are read again afterwards: the user may have ticked "always keep".
   * @param {string[]} tmplIds
   * @returns {Promise<WechatMiniprogram.RequestSubscribeMessageSuccessCallbackResult>}
   */
  requestSubscribe(tmplIds) {
    return new Promise((resolve, reject) => {
      this.wx.requestSubscribeMessage(
        /** @satisfies {WechatMiniprogram.RequestSubscribeMessageOption} */ ({
          tmplIds,
          success: (res) => {
            this.reportSubscribe(res);
            this.loadSettings();
            resolve(res);
          },
          fail: (err) => {
            this.subscribeFailed(err);
            reject(err);
          },
        }),
      );
    });
  }

  /**
   * Reads the user's subscription settings (`wx.getSetting({ withSubscriptions: true })`): the
   * main switch and the templates kept as "always ..." (总是保持以上选择), and keeps them (also
   * in storage, so the first tap after a relaunch can use them). Never rejects: on failure the
   * settings read before stay.
   * @returns {Promise<KeptSettings | null>}
   */
  loadSettings() {
    return new Promise((resolve) => {
      this.wx.getSetting(
        /** @satisfies {WechatMiniprogram.GetSettingOption} */ ({
          withSubscriptions: true,
          success: (res) => {
            const setting = res.subscriptionsSetting;
            /** @type {Record<string, string>} */
            const items = {};
            const listed = (setting && setting.itemSettings) || {};
            for (const id of Object.keys(listed)) {
              if (typeof listed[id] === "string") items[id] = listed[id];
            }
            /** @type {KeptSettings} */
            const kept = {
              mainSwitch: !setting || setting.mainSwitch !== false,
              itemSettings: items,
              readAt: this.now(),
            };
            this.kept = kept;
            this.save("settings", kept);
            resolve(kept);
          },
          fail: () => resolve(this.keptSettings()),
        }),
      );
    });
  }

  /**
   * The kept settings last read (from memory, or storage after a relaunch), or null.
   * @returns {KeptSettings | null}
   */
  keptSettings() {
    if (!this.kept) this.kept = this.load("settings");
    return this.kept;
  }

  /**
   * Collects credits silently, inside a tap: calls `wx.requestSubscribeMessage` for those of
   * `tmplIds` (default: every template) the user keeps as "always accept", which WeChat answers
   * at once with no dialog, and reports each accept. Never asks for a template kept as reject or
   * ban or not kept at all (that would show a dialog), never with the main switch off, never
   * more than `maxTemplatesPerTap` templates, never twice within `minTapIntervalMs`. Must run
   * synchronously inside the tap handler (WeChat takes the call only from a tap), so it uses the
   * settings read before (loadSettings) and reads them again afterwards. Returns the ids asked.
   * @param {string[]} [tmplIds]
   * @returns {string[]}
   */
  collectSilently(tmplIds) {
    if (this.dead) return [];
    const kept = this.keptSettings();
    if (!kept) {
      this.loadSettings(); // the next tap can use them
      return [];
    }
    if (!kept.mainSwitch) return [];
    const now = this.now();
    if (now - this.lastSilentAt < this.opts.minTapIntervalMs) return [];
    const cap = Math.max(1, Math.min(MAX_TEMPLATES_PER_CALL, this.opts.maxTemplatesPerTap));
    /** @type {string[]} */
    const ids = [];
    for (const id of tmplIds || Object.keys(kept.itemSettings)) {
      if (ids.length >= cap) break;
      if (isAccept(kept.itemSettings[id]) && ids.indexOf(id) < 0) ids.push(id);
    }
    if (ids.length === 0) return [];
    this.lastSilentAt = now;
    this.wx.requestSubscribeMessage(
      /** @satisfies {WechatMiniprogram.RequestSubscribeMessageOption} */ ({
        tmplIds: ids,
        success: (res) => {
          this.reportSubscribe(res);
          this.loadSettings();
        },
        fail: (err) => this.subscribeFailed(err),
      }),
    );
    return ids;
  }

  /**
   * Wraps a page's tap handler so each tap first collects credits silently
   * (`collectSilently`): `Page({ onBuy: ledger.wrapTap(function (e) { ... }, { tmplIds }) })`.
   * @template {(this: any, ...args: any[]) => any} H
   * @param {H | undefined} handler
   * @param {{ tmplIds?: string[] }} [options] templates to collect (default: all kept accepts)
   * @returns {(this: ThisParameterType<H>, ...args: Parameters<H>) => ReturnType<H> | undefined}
   */
  wrapTap(handler, options) {
    // deno-lint-ignore no-this-alias
    const client = this;
    const tmplIds = options && options.tmplIds;
    return function (...args) {
      client.collectSilently(tmplIds);
      return handler ? handler.apply(this, args) : undefined;
    };
  }

  /**
   * A failed `wx.requestSubscribeMessage`: with the main switch off (20004) no silent ask is
   * made again until the settings say otherwise.
   * @param {WechatMiniprogram.RequestSubscribeMessageFailCallbackResult} err
   */
  subscribeFailed(err) {
    const kept = this.keptSettings();
    if (err && err.errCode === MAIN_SWITCH_OFF && kept) {
      kept.mainSwitch = false;
      this.save("settings", kept);
    }
    this.onError(new Error(`requestSubscribeMessage failed: ${err && err.errCode}`));
  }

  // ---- sessions ----

  /**
   * Logs in (`wx.login`, then `POST /v1/sessions`) and stores the token. One at a time.
   * @returns {Promise<Session>}
   */
  login() {
    if (this.loggingIn) return this.loggingIn;
    /** @type {Promise<string>} */
    const code = new Promise((resolve, reject) => {
      this.wx.login(
        /** @satisfies {WechatMiniprogram.LoginOption} */ ({
          success: (res) => resolve(res.code),
          fail: () => reject(new CallError(0, "login_failed")),
        }),
      );
    });
    const attempt = code
      .then((code) => this.call("POST", "/v1/sessions", { code }, null))
      .then((body) => {
        const session = {
          token: body.token,
          openId: body.openId,
          expiresAt: this.now() + body.expiresIn * 1000,
        };
        this.save("session", session);
        return session;
      });
    this.loggingIn = attempt;
    const done = () => {
      this.loggingIn = null;
    };
    attempt.then(done, done);
    return attempt;
  }

  /**
   * The stored session while it is good, else a fresh login.
   * @returns {Promise<Session>}
   */
  session() {
    const session = this.load("session");
    if (session && session.expiresAt - this.opts.sessionMarginMs > this.now()) {
      return Promise.resolve(session);
    }
    return this.login();
  }

  /**
   * A call with the session token; on 401 it logs in once more and retries once.
   * @param {"GET" | "POST"} method
   * @param {string} path
   * @param {unknown} body
   * @returns {Promise<any>}
   */
  authed(method, path, body) {
    return this.session().then((session) =>
      this.call(method, path, body, session.token).catch((err) => {
        if (!(err instanceof CallError) || err.status !== 401) throw err;
        this.save("session", null);
        return this.login().then((fresh) => this.call(method, path, body, fresh.token));
      })
    );
  }

  /** The user's own credit view (`GET /v1/me/credits`). */
  credits() {
    return this.authed("GET", "/v1/me/credits", undefined);
  }

  // ---- uploading ----

  /**
   * Uploads everything waiting, in batches. Resolves with what still waits: something does when
   * the network or the server failed, and a retry is then scheduled with backoff. Never rejects.
   * @returns {Promise<Pending>}
   */
  flush() {
    if (this.dead) return Promise.resolve(this.pending());
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    if (this.timer !== null) {
      this.clearTimer(this.timer);
      this.timer = null;
    }
    this.again = false;
    this.flushing = this.drain()
      .then(() => {
        this.failures = 0;
      }, (err) => {
        this.onError(err);
        this.retryLater(/** @type {CallError} */ (err));
      })
      .then(() => {
        this.flushing = null;
        if (this.again && this.timer === null) return this.flush();
        return this.pending();
      });
    return this.flushing;
  }

  /**
   * Sends reports, then formId batches, until nothing waits; rejects on the first failure.
   * @returns {Promise<void>}
   */
  drain() {
    if (this.dead) return Promise.resolve();
    const report = this.reports()[0];
    if (report) {
      return this.authed("POST", "/v1/subscriptions", report)
        .catch((err) => {
          // Refused as malformed, the report can never go in: only then is it dropped.
          if (!(err instanceof CallError) || err.status !== 400) throw err;
        })
        .then(() => {
          this.save("reports", this.reports().filter((r) => r.reportId !== report.reportId));
          return this.drain();
        });
    }
    const batch = this.nextBatch();
    if (batch.length === 0) return Promise.resolve();
    return this.authed("POST", "/v1/formids", { formIds: batch })
      .then(() => {
        // Accepted, duplicates and rejected alike are settled: none of them waits any more.
        this.dropFormIds(batch);
        this.batchLimit = this.opts.maxBatch;
      }, (err) => {
        if (!(err instanceof CallError) || (err.status !== 400 && err.status !== 413)) throw err;
        // Refused whole: halve until the formId the server refuses is alone, then drop it.
        if (batch.length > 1) this.batchLimit = Math.max(1, Math.floor(batch.length / 2));
        else this.dropFormIds(batch);
      })
      .then(() => this.drain());
  }

  /** @returns {QueuedFormId[]} */
  nextBatch() {
    /** @type {QueuedFormId[]} */
    const batch = [];
    let bytes = 20;
    for (const item of this.queue()) {
      if (batch.length >= this.batchLimit) break;
      bytes += JSON.stringify(item).length + 1;
      if (bytes > this.opts.maxBatchBytes && batch.length > 0) break;
      batch.push({ formId: item.formId, collectedAt: item.collectedAt });
    }
    return batch;
  }

  /** @param {QueuedFormId[]} batch */
  dropFormIds(batch) {
    const sent = new Set(batch.map((item) => item.formId));
    this.save("queue", this.queue().filter((item) => !sent.has(item.formId)));
  }

  /**
   * Schedules the next flush: a doubling delay with jitter, at least what Retry-After asked.
   * @param {CallError} err
   */
  retryLater(err) {
    if (this.dead) return;
    this.failures++;
    const base = Math.min(
      this.opts.maxBackoffMs,
      this.opts.minBackoffMs * 2 ** (this.failures - 1),
    );
    const asked = err.retryAfterMs || 0;
    const delay = Math.max(Math.round(base * (0.5 + this.random() / 2)), asked);
    this.holdUntil = this.now() + asked;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.flush();
    }, delay);
  }

  /** Stops timers and ignores answers still in flight, as if the app were killed. */
  destroy() {
    this.dead = true;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }

  // ---- HTTP ----

  /**
   * One JSON call; resolves with a 2xx's body, rejects with a CallError.
   * @param {"GET" | "POST"} method
   * @param {string} path
   * @param {unknown} body
   * @param {string | null} token
   * @returns {Promise<any>}
   */
  call(method, path, body, token) {
    /** @type {Record<string, string>} */
    const header = { "content-type": "application/json" };
    if (token) header.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      this.wx.request(
        /** @satisfies {WechatMiniprogram.RequestOption} */ ({
          url: this.baseUrl + path,
          method,
          data: body === undefined ? undefined : JSON.stringify(body),
          header,
          dataType: "json",
          timeout: this.opts.requestTimeoutMs,
          success: (res) => {
            /** @type {any} */
            let data = res.data;
            if (typeof data === "string") {
              try {
                data = JSON.parse(data);
              } catch (_e) {
                data = null;
              }
            }
            if (res.statusCode >= 200 && res.statusCode < 300) return resolve(data);
            const retryAfter = Number(headerValue(res.header, "retry-after"));
            const code = (data && data.error && data.error.code) || "http_error";
            reject(new CallError(res.statusCode, code, retryAfter > 0 ? retryAfter * 1000 : 0));
          },
          fail: () => reject(new CallError(0, "network")),
        }),
      );
    }).then((data) => (this.dead ? new Promise(() => {}) : data)); // killed: never seen
  }
}

/**
 * Creates a client; see {@link FormIdClient}.
 * @param {ClientOptions} options
 */
function createClient(options) {
  return new FormIdClient(options);
}

module.exports = {
  createClient,
  FormIdClient,
  CallError,
  isUploadable,
  reportedAnswer,
  PLACEHOLDERS,
};
