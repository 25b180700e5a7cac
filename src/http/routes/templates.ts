/**
 * The account's subscribe templates (src/subscribe/registry.ts):
 * - `GET /v1/templates` (admin or auditor): `{ synced, templates: [{ id, title, kind,
 *   keywords: [{ key, type, label, enumValues? }] }] }` (`synced: false` and no templates
 *   before a first sync);
 * - `POST /v1/templates/sync` (admin): syncs from WeChat's `gettemplate` now:
 *   `{ changed, templates }`; `502 template_sync_failed` when WeChat cannot be asked or refuses.
 *
 * @module
 */
import { Hono } from "hono";
import type { Config } from "../../config/config.ts";
import type { TemplateRegistry } from "../../subscribe/registry.ts";
import { requireRole } from "../middleware/auth.ts";
import { ApiError } from "../middleware/errors.ts";
import { describeTemplates, describeTemplateSync } from "../schemas/templates.ts";

/**
 * The template routes.
 *
 * @example
 * ```ts
 * app.route("/", templateRoutes(config, registry));
 * ```
 */
export function templateRoutes(config: Config, registry: TemplateRegistry): Hono {
  const app = new Hono();
  app.get(
    "/v1/templates",
    describeTemplates,
    requireRole(config, ["admin", "auditor"]),
    async (c) => {
      const templates = await registry.list();
      return c.json({ synced: templates !== null, templates: templates ?? [] });
    },
  );
  app.post(
    "/v1/templates/sync",
    describeTemplateSync,
    requireRole(config, ["admin"]),
    async (c) => {
      if (!registry.syncable) {
        throw new ApiError(503, "not_configured", "set WECHAT_APPID and WECHAT_SECRET to sync");
      }
      try {
        const { changed, templates } = await registry.sync();
        return c.json({ changed, templates: await registry.list() ?? templates });
      } catch (err) {
        const what = err instanceof Error ? err.message.slice(0, 200) : "failed";
        console.warn(`templates: sync on demand failed: ${what}`);
        throw new ApiError(502, "template_sync_failed", `WeChat's template list: ${what}`);
      }
    },
  );
  return app;
}
