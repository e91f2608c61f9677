import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DnsDiscovery, normalizeServer } from "../../src/runtime/node/dns-discovery.js";
import type { LogLevel } from "../../src/runtime/node/log.js";
import { startDnsmasq, type TestDns } from "../support/dnsmasq.js";
import { freePort } from "../support/free-port.js";
import { sendWithHost } from "../support/send-with-host.js";
import { backendYaml, prefixRoute, startTestGateway, type TestGateway } from "../support/gateway.js";
import { startCliGateway } from "../support/cli-gateway.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoveryOptions } from "../../src/cli/serve.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

// Services without Backend documents, found by DNS from a real dnsmasq the test owns.
const SUFFIX = "default.svc.cluster.local";
let port: number;
const servers = new Map<string, Server>();
let dns: TestDns;
let gw: TestGateway;
let details: TestUpstream;
const logs: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];

/** An upstream on `address`:port that names the address it answered on. */
async function listenOn(address: string): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "x-address": address }).end(address));
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, address, resolve));
  servers.set(address, server);
  return server;
}

const close = (server: Server | undefined) => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve()));

const route = prefixRoute;

const policies = () => ({
  "routes.yaml":
    route("reviews", `{ name: reviews, port: ${port} }`) +
    route("ratings", `{ name: ratings, port: ${port} }`) +
    route("details", `{ name: details, port: ${port} }`) +
    route("mapped", "{ name: mapped, port: 9080 }") +
    route("portless", "{ name: reviews }"),
  "services.yaml": `apiVersion: v1\nkind: Service\nmetadata: { name: mapped }\nspec: { ports: [{ port: 9080, targetPort: ${port} }] }\n`,
  "backends.yaml": backendYaml("details", [details.url]),
});

const addressOf = async (path: string) => {
  const res = await fetch(`${gw.url}${path}`);
  return res.status === 200 ? (res.headers.get("x-address") ?? res.headers.get("x-upstream")) : `status ${res.status}`;
};
interface DnsView { hostname: string; addresses: string[]; ttlMs: number | null; error: { message: string; consecutive: number } | null }
const discoveryView = async () => ((await (await fetch(`${gw.adminUrl}/config`)).json()) as { discovery: DnsView[] }).discovery;
const until = async (what: () => Promise<boolean>, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
};

beforeAll(async () => {
  port = await freePort();
  details = await startUpstream("details");
  for (const a of ["127.0.0.2", "127.0.0.3", "::1"]) await listenOn(a);
  dns = await startDnsmasq({ [`reviews.${SUFFIX}`]: ["127.0.0.2"], [`ratings.${SUFFIX}`]: ["127.0.0.3", "::1"], [`details.${SUFFIX}`]: ["127.0.0.2"], [`mapped.${SUFFIX}`]: ["127.0.0.3"] });
  gw = await startTestGateway(policies(), {
    serviceDiscovery: "dns",
    dnsServer: dns.server,
    dnsTimings: { minTtlMs: 200, maxTtlMs: 1_000, retryMs: 200, timeoutMs: 300 },
    logger: (level, message, fields) => logs.push({ level, message, ...(fields ? { fields } : {}) }),
  });
});

afterAll(async () => {
  await gw?.close();
  await dns?.close();
  await details?.close();
  for (const s of servers.values()) await close(s);
});

describe("serve --service-discovery dns", () => {
  it("sends a backendRef naming a Service without a Backend to its DNS addresses, on the backendRef's port", async () => {
    expect(await addressOf("/reviews")).toBe("127.0.0.2");
    const seen = new Set<string | null>();
    for (let i = 0; i < 30; i++) seen.add(await addressOf("/ratings"));
    // A and AAAA records: every address is an endpoint of its own.
    expect([...seen].sort()).toEqual(["127.0.0.3", "::1"]);
  });

  it("lets a Backend document win over DNS, and a Service document's targetPort pick the port", async () => {
    expect(await addressOf("/details")).toBe("details");
    expect(await addressOf("/mapped")).toBe("127.0.0.3");
  });

  it("warns about a discovered backendRef without a port, and answers 500 for it", async () => {
    expect(await addressOf("/portless")).toBe("status 500");
    const warnings = ((await (await fetch(`${gw.adminUrl}/config`)).json()) as { warnings: string[] }).warnings;
    expect(warnings.some((w) => w.endsWith("spec.rules[0].backendRefs[0].port: warning: backendRef to Service default/reviews needs a port: DNS discovery finds addresses, not ports; its share of traffic answers 500"))).toBe(true);
  });

  it("gives a discovered Service the mesh default route on each port the configuration knows for it", async () => {
    const viaHost = async (url: string) => {
      const res = await sendWithHost(gw.url, url, "GET", {});
      return res.status === 200 ? res.headers.get("x-address") : `status ${res.status}`;
    };
    expect(await viaHost("http://mapped.default.svc.cluster.local:9080/any")).toBe("127.0.0.3"); // Service document: 9080 → targetPort
    expect(await viaHost(`http://reviews:${port}/x`)).toBe("127.0.0.2"); // the port a backendRef names
    expect(await viaHost("http://reviews.default:1234/x")).toBe("status 404"); // a port nobody named
    expect(await viaHost("http://unknown.default.svc.cluster.local/x")).toBe("status 404"); // a client's Host never starts a lookup
    expect((await discoveryView()).map((d) => d.hostname)).not.toContain(`unknown.${SUFFIX}`);
  });

  it("follows records that change, without a reload", async () => {
    await dns.write({ [`reviews.${SUFFIX}`]: ["127.0.0.3"], [`ratings.${SUFFIX}`]: ["127.0.0.3", "::1"], [`details.${SUFFIX}`]: ["127.0.0.2"], [`mapped.${SUFFIX}`]: ["127.0.0.3"] });
    await until(async () => (await addressOf("/reviews")) === "127.0.0.3");
    const view = await discoveryView();
    expect(view.find((d) => d.hostname === `reviews.${SUFFIX}`)).toMatchObject({ addresses: ["127.0.0.3"], error: null });
    expect(logs.some((l) => l.message === "DNS discovery: addresses changed" && l.fields?.hostname === `reviews.${SUFFIX}`)).toBe(true);
  });

  it("keeps each address's own outlier state: a dead address is ejected, its sibling keeps serving", async () => {
    await close(servers.get("::1"));
    const answers: (string | null)[] = [];
    for (let i = 0; i < 20; i++) answers.push(await addressOf("/ratings"));
    // The refused connection ejects ::1 at once; 127.0.0.3 serves the rest.
    expect(answers.slice(-10)).toEqual(new Array(10).fill("127.0.0.3"));
    const health = gw.gateway.upstreams.health.backend("default/ratings");
    const now = gw.gateway.upstreams.clock.now();
    expect(health.endpoint(`http://[::1]:${port}`).healthy(now)).toBe(false);
    expect(health.endpoint(`http://127.0.0.3:${port}`).healthy(now)).toBe(true);
  });

  it("keeps the last good answer when the DNS server goes away, and says so in /config, metrics and the log", async () => {
    await dns.stop();
    await until(async () => (await discoveryView()).find((d) => d.hostname === `reviews.${SUFFIX}`)?.error !== null);
    const view = (await discoveryView()).find((d) => d.hostname === `reviews.${SUFFIX}`)!;
    expect(view.addresses).toEqual(["127.0.0.3"]);
    expect(view.error!.consecutive).toBeGreaterThanOrEqual(1);
    expect(await addressOf("/reviews")).toBe("127.0.0.3");
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(metrics).toContain(`meshgate_dns_stale{hostname="reviews.${SUFFIX}"} 1`);
    expect(metrics).toMatch(new RegExp(`meshgate_dns_resolutions_total\\{hostname="reviews\\.${SUFFIX.replace(/\./g, "\\.")}",result="failure"\\} [1-9]`));
    expect(logs.filter((l) => l.message === "DNS discovery failed; keeping the last good answer" && l.fields?.hostname === `reviews.${SUFFIX}`)).toHaveLength(1);

    await dns.restart();
    await until(async () => (await discoveryView()).find((d) => d.hostname === `reviews.${SUFFIX}`)?.error === null);
    expect(await (await fetch(`${gw.adminUrl}/metrics`)).text()).toContain(`meshgate_dns_stale{hostname="reviews.${SUFFIX}"} 0`);
  });
});

describe("meshgate serve --service-discovery dns --dns-server HOST:PORT", () => {
  it("serves a discovered Service from the real CLI", async () => {
    const dir = await mkdtemp(join(tmpdir(), "meshgate-dns-cli-"));
    await writeFile(join(dir, "routes.yaml"), route("mapped", "{ name: mapped, port: 9080 }") + `apiVersion: v1\nkind: Service\nmetadata: { name: mapped }\nspec: { ports: [{ port: 9080, targetPort: ${port} }] }\n`);
    const cli = await startCliGateway(["--policies", dir, "--service-discovery", "dns", "--dns-server", dns.server]);
    try {
      const res = await fetch(`${cli.url}/mapped`);
      expect([res.status, res.headers.get("x-address")]).toEqual([200, "127.0.0.3"]);
    } finally {
      expect(await cli.stop()).toBe(0);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a bad mode or server at start", () => {
    expect(() => discoveryOptions("consul", undefined)).toThrow('--service-discovery must be off or dns, got "consul"');
    expect(() => discoveryOptions("off", "127.0.0.1:53")).toThrow("--dns-server needs --service-discovery dns");
    expect(discoveryOptions("dns", "127.0.0.1:5353")).toEqual({ serviceDiscovery: "dns", dnsServer: "127.0.0.1:5353" });
    expect(discoveryOptions("off", undefined)).toEqual({});
  });
});

describe("without --service-discovery", () => {
  it("a Service without a Backend document does not resolve (ingress configs behave as before)", async () => {
    const plain = await startTestGateway(policies());
    try {
      const res = await fetch(`${plain.url}/reviews`);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("backend_not_found");
    } finally {
      await plain.close();
    }
  });
});

describe("DnsDiscovery", () => {
  it("bounds record TTLs to 5-30 s", async () => {
    const short = await startDnsmasq({ "a.test": ["127.0.0.9"] }, 1);
    const long = await startDnsmasq({ "a.test": ["127.0.0.9"] }, 3600);
    const [d1, d2] = [new DnsDiscovery({ server: short.server }), new DnsDiscovery({ server: long.server })];
    try {
      d1.watch("a.test");
      d2.watch("a.test");
      await Promise.all([d1.settled(["a.test"], 2_000), d2.settled(["a.test"], 2_000)]);
      expect(d1.status()[0]).toMatchObject({ addresses: ["127.0.0.9"], ttlMs: 5_000 });
      expect(d2.status()[0]).toMatchObject({ addresses: ["127.0.0.9"], ttlMs: 30_000 });
    } finally {
      d1.close();
      d2.close();
      await short.close();
      await long.close();
    }
  });

  it("reads --dns-server as an address with an optional port, and refuses names", () => {
    expect(normalizeServer("127.0.0.1:5353")).toBe("127.0.0.1:5353");
    expect(normalizeServer("10.96.0.10")).toBe("10.96.0.10:53");
    expect(normalizeServer("[::1]:5353")).toBe("[::1]:5353");
    expect(normalizeServer("::1")).toBe("[::1]:53");
    expect(() => normalizeServer("kube-dns:53")).toThrow('--dns-server must be an IP address with an optional port, e.g. 127.0.0.1:53 or [::1]:53 (got "kube-dns:53")');
    expect(() => normalizeServer("127.0.0.1:99999")).toThrow("--dns-server port must be 1-65535");
  });
});
