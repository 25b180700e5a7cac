/**
 * The API's description and reference page, served by the service itself:
 * - `GET /openapi.json`: the OpenAPI 3.1 description, generated once from the app's routes (each
 *   route's `describe...` middleware and the zod schemas that validate its requests);
 * - `GET /docs`: Swagger UI on that description; `GET /docs/assets/:file`: its script and style
 *   sheet, from the npm package `swagger-ui-dist`, and the page's own start script.
 *
 * Nothing comes from a CDN, so teams behind a corporate proxy or in mainland China see the page.
 * The package's files are imported as text modules (`with { type: "text" }`): they are part of
 * the module graph, so `deno task start` needs no extra permission and Deno Deploy ships them
 * with the code. They load on the first request for them, not at start.
 *
 * @module
 */
import { Hono } from "hono";
import { openAPIRouteHandler } from "hono-openapi";
import { ApiError } from "../middleware/errors.ts";
import { SECURITY_SCHEMES } from "../schemas/common.ts";
import { describeDocsAsset, describeDocsPage, describeOpenApi } from "../schemas/health.ts";

/** The description's title, also the page's. */
export const API_TITLE = "formid-ledger API";

const DESCRIPTION = "Counts WeChat mini-program push credits (formIds, prepay_ids, subscribe " +
  "accepts) in an append-only, hash-chained log, and spends them on pushes. Every error is " +
  "`{ error: { code, message } }`; JSON endpoints take only `application/json`, at most 16 KB " +
  "(broadcasts: 4 MB), and no unknown field. See the README for the whole story.";

/** The page: Swagger UI, every asset from this service, relative so a path prefix works. */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${API_TITLE}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/start.js"></script>
</body>
</html>
`;

/** Starts Swagger UI on the description; no validator badge (it would call swagger.io). */
const START = `window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

/** Only this service: the page can load nothing from elsewhere, even if a script tried. */
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** The assets: a media type and how to get the text (once). */
const ASSETS: Record<string, { type: string; load: () => Promise<string> }> = {
  "swagger-ui-bundle.js": {
    type: JS,
    load: async () =>
      (await import("swagger-ui-dist/swagger-ui-bundle.js", { with: { type: "text" } })).default,
  },
  "swagger-ui.css": {
    type: CSS,
    load: async () =>
      (await import("swagger-ui-dist/swagger-ui.css", { with: { type: "text" } })).default,
  },
  "start.js": { type: JS, load: () => Promise.resolve(START) },
};

/**
 * The description and page routes, describing `app` (read when `/openapi.json` is first asked
 * for, so mount these with the rest and they describe every route, themselves included).
 *
 * @example
 * ```ts
 * app.route("/", docsRoutes(app));
 * ```
 */
export function docsRoutes(app: Hono): Hono {
  const docs = new Hono();
  docs.get(
    "/openapi.json",
    describeOpenApi,
    openAPIRouteHandler(app, {
      // `/openapi.json` looks like a static file, which hono-openapi leaves out by default.
      excludeStaticFile: false,
      documentation: {
        info: { title: API_TITLE, version: "1", description: DESCRIPTION },
        tags: [
          { name: "Credits in", description: "Logins, uploads, subscribe reports, credit views" },
          { name: "Push", description: "Pushes and broadcasts (your backend)" },
          { name: "Audit", description: "The hash-chained log, read-only" },
          { name: "Service", description: "Health and this description" },
        ],
        components: { securitySchemes: SECURITY_SCHEMES },
      },
    }),
  );
  docs.get("/docs", describeDocsPage, (c) => c.html(PAGE, 200, { "Content-Security-Policy": CSP }));
  // Each asset as it is and gzipped, made once: the bundle is 1.7 MB, about 0.5 MB gzipped.
  const loaded = new Map<string, Promise<{ plain: string; gzip: ArrayBuffer }>>();
  const load = async (file: string) => {
    const plain = await ASSETS[file].load();
    const gzip = new Response(
      new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    return { plain, gzip: await gzip.arrayBuffer() };
  };
  docs.get("/docs/assets/:file", describeDocsAsset, async (c) => {
    const file = c.req.param("file");
    if (!Object.hasOwn(ASSETS, file)) throw new ApiError(404, "not_found", "no such asset");
    let asset = loaded.get(file);
    if (!asset) loaded.set(file, asset = load(file));
    const { plain, gzip } = await asset;
    const headers = {
      "Content-Type": ASSETS[file].type,
      "Cache-Control": "public, max-age=3600",
      "Vary": "Accept-Encoding",
    };
    if (/\bgzip\b/.test(c.req.header("accept-encoding") ?? "")) {
      return c.body(gzip, 200, { ...headers, "Content-Encoding": "gzip" });
    }
    return c.body(plain, 200, headers);
  });
  return docs;
}
