/**
 * What the service accepts as a formId, an openId, a template id and a `wx.login` code. Shared by
 * every route, so every door applies the same rules: an openId is checked by {@link isOpenId}
 * wherever it comes in (a login's answer, a session token, a credit, a push, a broadcast's list,
 * a URL).
 *
 * @module
 */

/** The DevTools placeholders: formIds a simulator or trial build hands out, never real credits. */
export const PLACEHOLDER_FORM_IDS: readonly string[] = [
  "the formId is a mock one",
  "the formId is no longer available in develop or trial version of this mini program",
];

/** 1 to 128 printable ASCII characters (space to tilde). */
export const PRINTABLE_ASCII = /^[\x20-\x7e]{1,128}$/;
/** openids are 28 characters of base64url in practice; allow up to 128 of that alphabet. */
export const OPEN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The prefix of every subscribe credit's id (`sub:<reportId>:<templateId>`, minted by the
 * server). An uploaded formId or prepay_id never has it, so credits of different kinds cannot
 * collide: an upload could otherwise make a later subscription report a duplicate.
 */
export const SUBSCRIBE_CREDIT_PREFIX = "sub:";

/** The id of the subscribe credit a report's accept of `templateId` mints. */
export function subscribeCreditId(reportId: string, templateId: string): string {
  return `${SUBSCRIBE_CREDIT_PREFIX}${reportId}:${templateId}`;
}

/**
 * The openId rule in words, for error messages, so every endpoint states it alike.
 *
 * @example
 * ```ts
 * throw new ApiError(400, "invalid_open_id", `openId must be ${OPEN_ID_RULE}`);
 * ```
 */
export const OPEN_ID_RULE = "1-128 of [A-Za-z0-9_-]";

/**
 * Why a formId is refused before it reaches the ledger, or `null` when it may go in.
 *
 * @example
 * ```ts
 * formIdProblem("the formId is a mock one"); // "placeholder"
 * ```
 */
export function formIdProblem(formId: string): "placeholder" | "invalid_format" | null {
  if (PLACEHOLDER_FORM_IDS.includes(formId)) return "placeholder";
  if (formId.startsWith(SUBSCRIBE_CREDIT_PREFIX)) return "invalid_format";
  return PRINTABLE_ASCII.test(formId) ? null : "invalid_format";
}

/**
 * Whether `value` can be an openId. It also names Redis keys (`<prefix>:p<version>:u:<openId>`),
 * so the alphabet is narrow: no `:`, no space, no punctuation.
 *
 * @example
 * ```ts
 * isOpenId("oAbC-123_x"); // true
 * isOpenId("o:abc"); // false
 * ```
 */
export function isOpenId(value: unknown): value is string {
  return typeof value === "string" && OPEN_ID.test(value);
}

/**
 * Whether `value` can be a subscribe-message template id.
 *
 * @example
 * ```ts
 * isTemplateId("TPL_ORDER"); // true
 * ```
 */
export function isTemplateId(value: unknown): value is string {
  return typeof value === "string" && PRINTABLE_ASCII.test(value);
}

/**
 * Whether `value` can be a `wx.login` code (WeChat's are 32 characters).
 *
 * @example
 * ```ts
 * isLoginCode("081Kq4Ga1Vwz0K0Wd2Ia1m0bGe3Kq4Gb"); // true
 * ```
 */
export function isLoginCode(value: unknown): value is string {
  return typeof value === "string" && /^[\x21-\x7e]{1,128}$/.test(value);
}

/**
 * Whether `value` is a plausible epoch-milliseconds timestamp (0 up to year 9999).
 *
 * @example
 * ```ts
 * isEpochMs(Date.now()); // true
 * ```
 */
export function isEpochMs(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 &&
    value <= 253_402_300_799_999;
}
