import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendYaml, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// CI installs Debian's chromium (.ci/run); a developer machine without it skips, CI never does.
const available = existsSync(CHROMIUM) || process.env.CI === "true";

let stable: TestUpstream, canary: TestUpstream;
let gw: TestGateway;
let browser: Browser;

describe.skipIf(!available)("dashboard in headless Chromium", () => {
  beforeAll(async () => {
    [stable, canary] = (await Promise.all(["stable", "canary"].map(startUpstream))) as [TestUpstream, TestUpstream];
    // /err/4… answers 404, /err/5… 503: the dashboard's 4xx and 5xx columns.
    const echo = stable.respond;
    stable.respond = (req, res, body) => (req.url?.startsWith("/err/") ? res.writeHead(req.url.startsWith("/err/4") ? 404 : 503).end() : echo(req, res, body));
    gw = await startTestGateway({
      "b.yaml": [backendYaml("stable", [stable.url]), backendYaml("canary", [canary.url])].join("---\n"),
      "r.yaml": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop }
spec:
  rules:
    - name: split
      matches: [{ path: { value: /shop } }]
      backendRefs: [{ name: stable, weight: 90 }, { name: canary, weight: 10 }]
    - name: errors
      matches: [{ path: { value: /err } }]
      backendRefs: [{ name: stable }]
    - name: health
      matches: [{ path: { type: Exact, value: /healthz } }]
      filters: [{ type: RequestRedirect, requestRedirect: { path: { type: ReplaceFullPath, replaceFullPath: /shop } } }]
`,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await Promise.all([stable, canary].map((u) => u?.close()));
  });

  it("loads, shows the routes, and its split numbers move after traffic", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${gw.adminUrl}/dashboard`);
    expect(await page.title()).toBe("meshgate dashboard");
    expect(await page.locator("#config-version").textContent()).toBe(gw.gateway.holder.current().version);
    const row = (backend: string) => page.locator(`tr[data-rule="default/shop/split"][data-backend="default/${backend}"]`);
    expect(await row("stable").locator(".configured").textContent()).toBe("90.0%");
    expect(await row("canary").locator(".configured").textContent()).toBe("10.0%");
    expect(await row("stable").locator(".requests").textContent()).toBe("0");
    expect(await page.locator('tr[data-rule="default/shop/health"]').count()).toBe(1);

    for (let i = 0; i < 300; i++) await (await fetch(`${gw.url}/shop`)).arrayBuffer();

    // The page refreshes itself every 2 s (maybe mid-traffic): wait for a render with all 300.
    await page.waitForFunction(
      () => ["stable", "canary"].reduce((sum, b) => sum + Number(document.querySelector(`tr[data-backend="default/${b}"] .requests`)?.textContent ?? 0), 0) === 300,
      undefined,
      { timeout: 6_000 },
    );
    const stableCount = Number(await row("stable").locator(".requests").textContent());
    const canaryCount = Number(await row("canary").locator(".requests").textContent());
    expect(stableCount + canaryCount).toBe(300);
    // Binomial(300, 0.1): mean 30, sd 5.2.
    expect(canaryCount).toBeGreaterThan(8);
    expect(canaryCount).toBeLessThan(60);
    const observed = Number.parseFloat((await row("canary").locator(".observed").textContent()) ?? "");
    expect(observed).toBeCloseTo((canaryCount / 300) * 100, 0);
    await mkdir("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/dashboard.png", fullPage: true });
  });

  it("counts 4xx, 5xx and redirects per route where they are served, cumulative and over the last minute", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    for (let i = 0; i < 5; i++) await (await fetch(`${gw.url}/err/404`)).arrayBuffer();
    for (let i = 0; i < 3; i++) await (await fetch(`${gw.url}/err/503`)).arrayBuffer();
    for (let i = 0; i < 2; i++) expect((await fetch(`${gw.url}/healthz`, { redirect: "manual" })).status).toBe(302);
    await page.goto(`${gw.adminUrl}/dashboard`);
    const errors = page.locator('tr[data-rule="default/shop/errors"][data-backend="default/stable"]');
    const cells = async (row: typeof errors) =>
      Object.fromEntries(await Promise.all(["requests", "requests-minute", "client-errors", "client-errors-minute", "server-errors", "server-errors-minute"].map(async (c) => [c, Number(await row.locator(`.${c}`).textContent())])));
    expect(await cells(errors)).toEqual({ requests: 8, "requests-minute": 8, "client-errors": 5, "client-errors-minute": 5, "server-errors": 3, "server-errors-minute": 3 });
    // The redirect rule has no backend: its answers count on its own "(redirect)" row.
    const redirect = page.locator('tr[data-rule="default/shop/health"][data-backend=""]');
    expect(await redirect.locator("td", { hasText: "(redirect)" }).count()).toBe(1);
    expect(await cells(redirect)).toEqual({ requests: 2, "requests-minute": 2, "client-errors": 0, "client-errors-minute": 0, "server-errors": 0, "server-errors-minute": 0 });
    // The split rows' cumulative counters kept the 300 of the first test, as did their last minute.
    expect(Number(await page.locator('tr[data-rule="default/shop/split"][data-backend="default/stable"] .requests-minute').textContent())).toBe(
      Number(await page.locator('tr[data-rule="default/shop/split"][data-backend="default/stable"] .requests').textContent()),
    );
    await page.screenshot({ path: "test-results/dashboard-errors.png", fullPage: true });
  });

  it("links relatively, so the same page works under a mount path", async () => {
    const page = await browser.newPage();
    await page.goto(`${gw.adminUrl}/`);
    expect(new URL(page.url()).pathname).toBe("/dashboard");
    const hrefs = await page.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).not.toMatch(/^\/|^[a-z]+:/);
    await page.click('a[href="metrics"]');
    expect(new URL(page.url()).pathname).toBe("/metrics");
    expect(await page.locator("body").textContent()).toContain("meshgate_requests_total");
  });
});
