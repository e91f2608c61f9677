import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBundle } from "../../src/config/bundle.js";
import { KV_KEYS } from "../../src/runtime/workers/kv-store.js";
import worker, { type WorkerEnv } from "../../src/runtime/workers/worker.js";

interface TestEnv {
  POLICIES: KVNamespace;
  TEST_UPSTREAM_PORT: string;
  MESHGATE_ADMIN_TOKEN: string;
}
const testEnv = env as unknown as TestEnv;
const TOKEN = testEnv.MESHGATE_ADMIN_TOKEN;

beforeAll(async () => {
  const bundle = await makeBundle(
    [
      { name: "b.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: web }\nspec: { endpoints: [{ url: "http://127.0.0.1:${testEnv.TEST_UPSTREAM_PORT}" }] }\n` },
      { name: "r.yaml", text: "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: { name: web }\nspec:\n  rules: [{ backendRefs: [{ name: web }] }]\n" },
    ],
    1,
    "admin-dashboard-test",
  );
  await testEnv.POLICIES.put(KV_KEYS.current, JSON.stringify(bundle));
});

/** The Worker under another MESHGATE_ADMIN_PATH than wrangler.toml's, as an operator may set it. */
async function call(path: string, init: RequestInit = {}, adminPath = "/ops/mesh"): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`https://edge.example.com${path}`, { redirect: "manual", ...init }), { ...(env as unknown as WorkerEnv), MESHGATE_ADMIN_PATH: adminPath }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function loginForm(token: string): RequestInit {
  return { method: "POST", body: new URLSearchParams({ token }), headers: { origin: "https://edge.example.com" } };
}

describe("admin dashboard under MESHGATE_ADMIN_PATH in workerd", () => {
  it("sends a browser without credentials to the login form, and API clients a 401", async () => {
    const page = await call("/ops/mesh/dashboard", { headers: { accept: "text/html" } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/ops/mesh/login");
    const form = await call("/ops/mesh/login");
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('action="/ops/mesh/login"');
    expect(html).toContain('type="password"');
    const api = await call("/ops/mesh/config");
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: { code: "unauthenticated", message: "admin API needs the admin bearer token" } });
  });

  it("a wrong token (or a prefix of the right one) sets no cookie", async () => {
    for (const wrong of ["nope", TOKEN.slice(0, -1), `${TOKEN}x`, ""]) {
      const res = await call("/ops/mesh/login", loginForm(wrong));
      expect(res.status, wrong).toBe(401);
      expect(res.headers.get("set-cookie")).toBeNull();
      expect(await res.text()).toContain("wrong token");
    }
  });

  it("refuses an oversized login body, declared or streamed", async () => {
    const big = await call("/ops/mesh/login", { method: "POST", body: `token=${"a".repeat(10_000)}` });
    expect(big.status).toBe(413);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1024).fill(97));
        c.close();
      },
    });
    const streamed = await call("/ops/mesh/login", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.headers.get("set-cookie")).toBeNull();
  });

  it("refuses a login posted from another site", async () => {
    const res = await call("/ops/mesh/login", { method: "POST", body: new URLSearchParams({ token: TOKEN }), headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("the right token sets an HttpOnly cookie scoped to the admin path that opens the dashboard and its relative links", async () => {
    const login = await call("/ops/mesh/login", loginForm(TOKEN));
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/ops/mesh/dashboard");
    const setCookie = login.headers.get("set-cookie")!;
    const attributes = setCookie.split(";").map((a) => a.trim());
    expect(attributes).toEqual(expect.arrayContaining(["Path=/ops/mesh", "HttpOnly", "Secure", "SameSite=Strict"]));
    const [pair] = attributes;
    expect(pair).toMatch(/^meshgate_admin=[0-9a-f]{64}$/);
    expect(pair).not.toContain(TOKEN); // a digest, not the token itself
    const cookie = { cookie: pair! };

    const dashboard = await call("/ops/mesh/dashboard", { headers: { ...cookie, accept: "text/html" } });
    expect(dashboard.status).toBe(200);
    const html = await dashboard.text();
    expect(html).toContain("<title>meshgate dashboard</title>");
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) {
      // Resolved as a browser does, every link stays under the admin path and answers with the cookie.
      const target = new URL(href, "https://edge.example.com/ops/mesh/dashboard");
      expect(target.pathname.startsWith("/ops/mesh/"), href).toBe(true);
      expect((await call(target.pathname, { headers: cookie })).status, href).toBe(200);
    }
    // The mount point itself: "/ops/mesh" → "/ops/mesh/" → "dashboard" (relative).
    const bare = await call("/ops/mesh", { headers: cookie });
    expect(bare.status).toBe(308);
    expect(new URL(bare.headers.get("location")!).pathname).toBe("/ops/mesh/");
    const root = await call("/ops/mesh/", { headers: cookie });
    expect(new URL(root.headers.get("location")!, "https://edge.example.com/ops/mesh/").pathname).toBe("/ops/mesh/dashboard");
  });

  it("a forged or stale cookie is refused; logout clears the cookie", async () => {
    const forged = await call("/ops/mesh/config", { headers: { cookie: `meshgate_admin=${"0".repeat(64)}` } });
    expect(forged.status).toBe(401);
    const out = await call("/ops/mesh/logout", { method: "POST" });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^meshgate_admin=; Path=\/ops\/mesh;.*Max-Age=0/);
  });

  it("the bearer token still works for API clients, and the default path from wrangler.toml too", async () => {
    expect((await call("/ops/mesh/ready", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await call("/ops/mesh/ready", { headers: { authorization: `Bearer ${TOKEN}0` } })).status).toBe(401);
    const res = await SELF.fetch("http://edge.example.com/__meshgate/dashboard", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('href="metrics"');
  });
});
