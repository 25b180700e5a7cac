/**
 * The simulated WeChat pushing subscribe events to the service's push URL, as configured through
 * `POST /__sim/push-config`: signed, encrypted in the compatible and safe modes, retried when the
 * service does not answer `success`, duplicated on demand, and recorded for `GET /__sim/pushes`.
 *
 * @module
 */
import { answeredSuccess, postPush, signedPush, type SimEvent } from "./event_pusher.ts";
import type { PushRecord, SubscribeState } from "./user_subscriptions.ts";

/**
 * Pushes `event` from `openId` when a push URL is configured; the record, or null when none is.
 * `nowMs` is the simulated clock: the push's timestamp and `CreateTime` are WeChat's time.
 *
 * @example
 * ```ts
 * await pushEvent(s.sub, openid, { event: "subscribe_msg_change_event", items }, ctx.now());
 * ```
 */
export async function pushEvent(
  sub: SubscribeState,
  openId: string,
  event: SimEvent,
  nowMs: number,
): Promise<PushRecord | null> {
  const target = sub.push;
  if (!target || event.items.length === 0) return null;
  const seconds = Math.floor(nowMs / 1000);
  const push = signedPush(event, { openId, toUserName: target.toUserName, createTime: seconds }, {
    token: target.token,
    appid: target.appid,
    mode: target.mode,
    format: target.format,
    encodingAESKey: target.encodingAESKey,
  }, { timestamp: seconds });
  const attempts = await postPush(target.url, push, {
    retries: target.retries,
    duplicates: target.duplicates,
    delayMs: target.delayMs,
    timeoutMs: target.timeoutMs,
  });
  const record: PushRecord = {
    event: event.event,
    openId,
    items: event.items,
    attempts,
    delivered: attempts.some(answeredSuccess),
    at: nowMs,
  };
  sub.pushes.push(record);
  return record;
}

/**
 * Pushes in the background (WeChat's sent event follows the send's answer), tracked so that
 * `GET /__sim/pushes?wait=1` and `close()` can wait for it.
 *
 * @example
 * ```ts
 * pushLater(s.sub, touser, sentEvent, ctx.now());
 * ```
 */
export function pushLater(sub: SubscribeState, openId: string, event: SimEvent, nowMs: number) {
  const p = pushEvent(sub, openId, event, nowMs).catch(() => null);
  sub.pending.add(p);
  p.finally(() => sub.pending.delete(p));
}

/**
 * Waits until no push is being delivered.
 *
 * @example
 * ```ts
 * await settlePushes(s.sub);
 * ```
 */
export async function settlePushes(sub: SubscribeState): Promise<void> {
  while (sub.pending.size > 0) await Promise.allSettled([...sub.pending]);
}
