/**
 * The account's subscribe templates from WeChat: `GET /wxaapi/newtmpl/gettemplate` with the
 * access token, parsed by templates.ts. Like the message client, it never logs or returns a URL
 * (it carries the token) or a fetch error's text: failures get fixed messages.
 *
 * @module
 */
import { isTokenError } from "./errcodes.ts";
import { parseTemplateList, type SubscribeTemplate, TemplateListError } from "./templates.ts";
import type { AccessTokens } from "./token.ts";

/** Where and how long to ask. */
export interface TemplateApiSettings {
  apiBase: string;
  timeoutMs: number;
}

/**
 * Fetches the account's templates; a token WeChat refuses is dropped and the call made once more.
 *
 * @throws {TemplateListError} when WeChat answers an errcode, an unreadable answer, or no answer.
 * @example
 * ```ts
 * const templates = await fetchTemplates(tokens, { apiBase: "https://api.weixin.qq.com",
 *   timeoutMs: 5_000 });
 * ```
 */
export async function fetchTemplates(
  tokens: AccessTokens,
  settings: TemplateApiSettings,
  fetcher: typeof fetch = fetch,
): Promise<SubscribeTemplate[]> {
  for (let attempt = 0;; attempt++) {
    let token: string;
    try {
      token = await tokens.get();
    } catch {
      throw new TemplateListError("no access token");
    }
    let answer: unknown;
    try {
      const res = await fetcher(
        `${settings.apiBase}/wxaapi/newtmpl/gettemplate?access_token=${encodeURIComponent(token)}`,
        { signal: AbortSignal.timeout(settings.timeoutMs) },
      );
      if (!res.ok) {
        await res.body?.cancel();
        throw new TemplateListError(`gettemplate answered HTTP ${res.status}`);
      }
      answer = await res.json();
    } catch (err) {
      if (err instanceof TemplateListError) throw err;
      throw new TemplateListError("gettemplate could not be reached or answered unreadably");
    }
    try {
      return parseTemplateList(answer);
    } catch (err) {
      if (err instanceof TemplateListError && isTokenError(err.errcode ?? 0) && attempt === 0) {
        await tokens.expire(token);
        continue;
      }
      throw err;
    }
  }
}
