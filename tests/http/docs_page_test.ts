/**
 * `/docs` in a real browser: Debian's Chromium (`apt-get install -y chromium`; .ci/run installs
 * it), headless, driven by playwright-core (which downloads no browser of its own here). The page
 * renders the API's title and its operations, every request it makes goes to the service (none to
 * a CDN or to swagger.io), and the console shows no error (a Content-Security-Policy violation
 * included).
 */
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { API_TITLE } from "../../src/http/routes/docs.ts";
import { startService } from "../helpers/service.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

Deno.test("docs: the reference page renders from the service's own assets", async () => {
  const found = await Deno.stat(CHROMIUM).then(() => true, () => false);
  assert.ok(found, `${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const svc = await startService({ store: "memory" });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // launch() gives the browser a fresh profile (--user-data-dir) of its own.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on("request", (request) => void requests.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });
    page.on("pageerror", (error) => void problems.push(String(error)));
    // Anything not for the service is recorded above and never leaves the machine.
    await page.route("**/*", (route) => {
      const url = route.request().url();
      return url.startsWith(`${svc.url}/`) ? route.continue() : route.abort();
    });

    const response = await page.goto(`${svc.url}/docs`);
    assert.equal(response?.status(), 200);
    const title = page.locator(".swagger-ui .info .title");
    await title.waitFor({ timeout: 30_000 });
    assert.match(await title.innerText(), new RegExp(API_TITLE));
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });
    const operations = await page.locator(".opblock-summary-path").allInnerTexts();
    assert.ok(operations.some((p) => p.includes("/v1/push")), operations.join(", "));
    assert.ok(operations.length >= 15, `${operations.length} operations shown`);
    // One operation opened shows its documented example and error codes.
    await page.locator("#operations-Push-push .opblock-summary").click();
    await page.locator("#operations-Push-push .responses-table").waitFor({ timeout: 10_000 });
    assert.match(await page.locator("#operations-Push-push").innerText(), /invalid_field/);
    if (Deno.env.get("DOCS_SCREENSHOT")) {
      await page.screenshot({ path: Deno.env.get("DOCS_SCREENSHOT")!, fullPage: false });
    }

    const elsewhere = requests.filter((url) => !url.startsWith(`${svc.url}/`));
    assert.deepEqual(elsewhere, [], "requests to anywhere but the service");
    for (const asset of ["docs/assets/swagger-ui-bundle.js", "docs/assets/swagger-ui.css"]) {
      assert.ok(requests.includes(`${svc.url}/${asset}`), `${asset} loaded: ${requests}`);
    }
    assert.ok(requests.includes(`${svc.url}/openapi.json`), "the description loaded");
    assert.deepEqual(problems, [], "console errors");
  } finally {
    await browser.close();
    await svc.close();
  }
});
