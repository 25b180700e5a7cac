/**
 * formid-ledger client for WeChat mini-programs: collects the formIds that form submits yield,
 * keeps them in local storage so a killed app loses none, uploads them in batches, logs in with
 * wx.login, and reports subscribe-message answers. Plain CommonJS (ES2015), no build step, no
 * npm at run time.
 *
 *   // app.js
 *   const { createClient } = require("./formid-ledger.js");
 *   App({
 *     ledger: createClient({ wx, baseUrl: "https://ledger.example.com" }),
 *     onShow() { this.ledger.flush(); }, // uploads what a killed session left behind
 *   });
 *
 * Storage keys (under `storageKey`): `:queue` formIds waiting, `:reports` subscribe answers
 * waiting, `:session` the session token.
 */
"use strict";

/** DevTools placeholders: never real credits, never uploaded. */
const PLACEHOLDERS = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];
const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;
const ANSWERS = ["accept", "reject", "ban", "filter"];

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
};

/** Whether a formId may be uploaded: not a placeholder, 1 to 128 printable ASCII characters. */
function isUploadable(formId) {
  return typeof formId === "string" && PLACEHOLDERS.indexOf(formId) < 0 &&
    PRINTABLE_ASCII.test(formId);
}

function headerValue(headers, name) {
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

function randomId(random) {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (let i = 0; i < 24; i++) id += chars.charAt(Math.floor(random() * chars.length));
  return id;
}

/** A failed call: `status` 0 when the network failed; `retryAfterMs` when the server said. */
class CallError extends Error {
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
  /**
   * @param {object} options
   * @param {object} options.wx the `wx` global (storage, request, login, requestSubscribeMessage)
   * @param {string} options.baseUrl the ledger service, e.g. "https://ledger.example.com"
   * @param {number} [options.batchSize] upload when this many formIds wait (default 10)
   * @param {() => number} [options.now] clock, epoch ms (default Date.now)
   * @param {Function} [options.setTimeout] timers (default the globals), with clearTimeout
   * @param {(err: Error) => void} [options.onError] told of each failed upload or login
   */
  constructor(options) {
    if (!options || !options.wx || !options.baseUrl) {
      throw new Error("wx and baseUrl are required");
    }
    this.wx = options.wx;
    this.baseUrl = String(options.baseUrl).replace(/\/+$/, "");
    this.opts = {};
    for (const key of Object.keys(DEFAULTS)) {
      this.opts[key] = options[key] !== undefined ? options[key] : DEFAULTS[key];
    }
    this.now = options.now || (() => Date.now());
    this.setTimer = options.setTimeout || ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimeout || ((id) => clearTimeout(id));
    this.random = options.random || Math.random;
    this.onError = options.onError || (() => {});
    this.failures = 0;
    this.timer = null;
    /** No upload before this time (epoch ms): the server's Retry-After. */
    this.holdUntil = 0;
    this.flushing = null;
    this.again = false;
    this.loggingIn = null;
    this.batchLimit = this.opts.maxBatch;
    this.dead = false;
  }

  // ---- storage ----

  load(name) {
    const value = this.wx.getStorageSync(`${this.opts.storageKey}:${name}`);
    return value === "" || value === undefined ? null : value;
  }

  save(name, value) {
    if (this.dead) return; // a killed app writes nothing
    const key = `${this.opts.storageKey}:${name}`;
    try {
      if (value === null) this.wx.removeStorageSync(key);
      else this.wx.setStorageSync(key, value);
    } catch (err) {
      this.onError(err); // storage full (10 MB per mini-program): nothing else to do here
    }
  }

  queue() {
    return this.load("queue") || [];
  }

  reports() {
    return this.load("reports") || [];
  }

  /** How many formIds and subscribe reports wait. */
  pending() {
    return { formIds: this.queue().length, reports: this.reports().length };
  }

  // ---- collecting ----

  /**
   * Queues one formId with its collection time (now unless given). Placeholders, malformed ids
   * and ids already waiting are skipped. Returns whether it was queued. Once `batchSize` wait,
   * they are uploaded.
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

  /** Collects the formId of a `<form report-submit>` submit event. */
  onSubmit(event) {
    return this.collect(event && event.detail && event.detail.formId);
  }

  /**
   * Wraps a page's submit handler so each submit's formId is collected first:
   * `Page({ onSubmit: ledger.wrapSubmit(function (e) { ... }) })`.
   */
  wrapSubmit(handler) {
    // The handler runs as the page (`this`), so the client needs its own name here.
    // deno-lint-ignore no-this-alias
    const client = this;
    return function (event) {
      client.onSubmit(event);
      return handler ? handler.apply(this, arguments) : undefined;
    };
  }

  /**
   * `wx.request` that also uploads waiting formIds: the app's next request is when they go.
   * Takes and returns what `wx.request` does.
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
   * app sends it later; its reportId makes a resent report count once.
   */
  reportSubscribe(result) {
    const results = {};
    for (const key of Object.keys(result || {})) {
      if (key !== "errMsg" && key !== "errCode" && ANSWERS.indexOf(result[key]) >= 0) {
        results[key] = result[key];
      }
    }
    if (Object.keys(results).length === 0) return Promise.resolve(this.pending());
    const reports = this.reports();
    reports.push({ reportId: randomId(this.random), results });
    this.save("reports", reports);
    return this.flush();
  }

  /** Asks the user (`wx.requestSubscribeMessage`), reports the answers, resolves with them. */
  requestSubscribe(tmplIds) {
    return new Promise((resolve, reject) => {
      this.wx.requestSubscribeMessage({
        tmplIds,
        success: (res) => {
          this.reportSubscribe(res);
          resolve(res);
        },
        fail: reject,
      });
    });
  }

  // ---- sessions ----

  /** Logs in (`wx.login`, then `POST /v1/sessions`) and stores the token. One at a time. */
  login() {
    if (this.loggingIn) return this.loggingIn;
    const attempt = new Promise((resolve, reject) => {
      this.wx.login({
        success: (res) => resolve(res.code),
        fail: () => reject(new CallError(0, "login_failed")),
      });
    })
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

  /** The stored session while it is good, else a fresh login. */
  session() {
    const session = this.load("session");
    if (session && session.expiresAt - this.opts.sessionMarginMs > this.now()) {
      return Promise.resolve(session);
    }
    return this.login();
  }

  /** A call with the session token; on 401 it logs in once more and retries once. */
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
        this.retryLater(err);
      })
      .then(() => {
        this.flushing = null;
        if (this.again && this.timer === null) return this.flush();
        return this.pending();
      });
    return this.flushing;
  }

  /** Sends reports, then formId batches, until nothing waits; rejects on the first failure. */
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

  nextBatch() {
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

  dropFormIds(batch) {
    const sent = new Set(batch.map((item) => item.formId));
    this.save("queue", this.queue().filter((item) => !sent.has(item.formId)));
  }

  /** Schedules the next flush: a doubling delay with jitter, at least what Retry-After asked. */
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

  /** One JSON call; resolves with a 2xx's body, rejects with a CallError. */
  call(method, path, body, token) {
    const header = { "content-type": "application/json" };
    if (token) header.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      this.wx.request({
        url: this.baseUrl + path,
        method,
        data: body === undefined ? undefined : JSON.stringify(body),
        header,
        dataType: "json",
        timeout: this.opts.requestTimeoutMs,
        success: (res) => {
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
      });
    }).then((data) => (this.dead ? new Promise(() => {}) : data)); // killed: never seen
  }
}

/** Creates a client; see {@link FormIdClient}. */
function createClient(options) {
  return new FormIdClient(options);
}

module.exports = { createClient, FormIdClient, CallError, isUploadable, PLACEHOLDERS };
