/**
 * Type checking of the mini-program client (client/formid-ledger.js, `// @ts-check`) against
 * WeChat's own declarations: the official `miniprogram-api-typings` npm package (the `wx` global,
 * `WechatMiniprogram.*`), version pinned in deno.json. Used by `deno check client/` only; the
 * mini-program never loads this file.
 */
/// <reference types="miniprogram-api-typings" />
