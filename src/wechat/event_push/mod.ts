/**
 * WeChat's message push (消息推送) for subscribe messages: verify, decrypt and parse what WeChat
 * posts to the mini-program's server URL. The route calls {@link openPush}; the rest is exported
 * for the simulator and tests.
 *
 * @example
 * ```ts
 * import { MemoryReplayGuard, openPush } from "./mod.ts";
 * const guard = new MemoryReplayGuard();
 * const outcome = await openPush({ method, query, body, config, guard });
 * ```
 *
 * @module
 */
export { aesKeyOf, PushCipher } from "./cipher.ts";
export { PushError, type PushErrorCode } from "./errors.ts";
export {
  type ChangeEvent,
  type ChangeItem,
  isAcceptance,
  type OtherPush,
  type PopupEvent,
  type PopupItem,
  type PushHeader,
  type PushMessage,
  type SentEvent,
  type SentItem,
  SUBSCRIBE_EVENTS,
  type SubscribeStatus,
} from "./events.ts";
export {
  openPush,
  type PushConfig,
  type PushMode,
  type PushOutcome,
  type PushRequest,
} from "./open.ts";
export { type BodyFormat, formatOf, parsePush, readEncrypt, readFields } from "./parse.ts";
export { MemoryReplayGuard, type MemoryReplayGuardOptions, type ReplayGuard } from "./replay.ts";
export { checkTimestamp, signatureMatches, signPush } from "./signature.ts";
