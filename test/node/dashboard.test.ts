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
});
