/**
 * `POST /v1/sessions`: the login body, its answer, its refusals and examples.
 *
 * @module
 */
import { z } from "zod";
import { ApiError } from "../middleware/errors.ts";
import { bodyReader } from "../middleware/valid_body.ts";
import {
  describe,
  EXAMPLE_LOGIN_CODE,
  EXAMPLE_OPEN_ID,
  json,
  jsonBody,
  OpenId,
  SECURITY,
} from "./common.ts";
import { ANY_ROUTE, errorAnswers, JSON_BODY, RATE_LIMITED, refusals, STORE } from "./errors.ts";

/**
 * The login body: the code `wx.login` returned (1-128 visible ASCII, `isLoginCode`).
 *
 * @example
 * ```ts
 * LoginBody.parse({ code: "0e3Kq4Ga1Vwz0K0Wd2Ia1m0bGe3Kq4Gb" });
 * ```
 */
export const LoginBody = z.strictObject({
  code: z.string().regex(/^[\x21-\x7e]{1,128}$/).meta({
    description: "The code `wx.login` returned (WeChat's are 32 characters); used once",
  }),
});

/**
 * Reads a login body; a bad code is `400 invalid_code`.
 *
 * @example
 * ```ts
 * const { code } = await readLogin(c);
 * ```
 */
export const readLogin = bodyReader(
  LoginBody,
  () => new ApiError(400, "invalid_code", "code must be the string wx.login returned"),
);

/** The answer: a session token bound to the openId WeChat named. */
export const LoginAnswer = z.object({
  token: z.string().describe("The session token (HS256 JWT): `Authorization: Bearer <token>`"),
  openId: OpenId,
  expiresIn: z.int().min(1).describe("Seconds the token lives (`SESSION_TTL_SECONDS`)"),
});

/**
 * The route's description.
 *
 * @example
 * ```ts
 * app.post("/v1/sessions", describeLogin, jsonBodyLimit(), handler);
 * ```
 */
export const describeLogin = describe({
  operationId: "createSession",
  tags: ["Credits in"],
  summary: "Log a mini-program user in",
  description: "Trades a `wx.login` code for a session token; WeChat names the user " +
    "(`sns/jscode2session`), never the client. Logins count per client IP. The answer says " +
    "`Cache-Control: no-store`.",
  security: SECURITY.none,
  requestBody: jsonBody(LoginBody, {
    login: { summary: "A wx.login code", value: { code: EXAMPLE_LOGIN_CODE } },
  }),
  responses: {
    200: {
      description: "Logged in",
      content: json(LoginAnswer, {
        loggedIn: {
          summary: "A session token",
          value: {
            token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvVzJ4NzVIYjAifQ.c2lnbmF0dXJl",
            openId: EXAMPLE_OPEN_ID,
            expiresIn: 7200,
          },
        },
      }),
    },
    ...errorAnswers(refusals(JSON_BODY, RATE_LIMITED, ANY_ROUTE, STORE, {
      400: ["invalid_code"],
      401: ["invalid_code", "code_used"],
      403: ["login_refused"],
      502: ["wechat_error"],
      503: ["not_configured", "wechat_unavailable"],
    })),
  },
});
