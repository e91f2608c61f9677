import type { PolicyIssue } from "../policy/issues.js";
import type { Located } from "../policy/located.js";
import type { ServiceExists } from "../policy/attachment.js";
import type { Backend } from "../upstream/backend.js";
import type { BackendTLSPolicy, ConfigMap } from "../upstream/backend-tls-policy.js";
import type { PolicySet } from "./validate.js";

type Settings = Partial<Pick<Backend["spec"], "tls" | "connection" | "timeouts" | "circuitBreaker" | "outlierDetection" | "healthCheck" | "loadBalancer">>;
const FIELDS = ["tls", "connection", "timeouts", "circuitBreaker", "outlierDetection", "healthCheck", "loadBalancer"] as const;

interface ForService {
  readonly settings: Settings;
  /** Which policy wrote each field, for the warning when a Backend document wrote it too. */
  readonly writers: ReadonlyMap<string, string>;
  /** A BackendTLSPolicy applies: the endpoints speak TLS (http:// endpoints become https://). */
  readonly tls: boolean;
}

/**
 * Backend settings written for Services: BackendTrafficPolicy fields, then BackendTLSPolicy's
 * TLS (the Gateway API standard wins over both). They replace a Backend document's own fields
 * (each replaced field a warning) and are the settings of discovered Services.
 */
export class BackendPolicies {
  private readonly byService = new Map<string, ForService>();
  private readonly usedConfigMaps = new Set<string>();

  constructor(set: PolicySet, exists: ServiceExists, private readonly issues: PolicyIssue[]) {
    const traffic = oldestPerService(set.backendTrafficPolicies, "BackendTrafficPolicy", exists, issues);
    const tls = oldestPerService(set.backendTlsPolicies, "BackendTLSPolicy", exists, issues);
    const configMaps = new Map(set.configMaps.map((c) => [`${c.doc.metadata.namespace}/${c.doc.metadata.name}`, c.doc]));
    for (const key of new Set([...traffic.keys(), ...tls.keys()])) {
      const settings: Settings = {};
      const writers = new Map<string, string>();
      const t = traffic.get(key);
      if (t !== undefined) {
        for (const f of FIELDS) {
          if (t.doc.spec[f] === undefined) continue;
          (settings as Record<string, unknown>)[f] = t.doc.spec[f];
          writers.set(f, `BackendTrafficPolicy ${name(t)}`);
        }
      }
      const p = tls.get(key);
      const upstreamTls = p === undefined ? null : this.tlsOf(p, configMaps);
      if (p !== undefined && upstreamTls !== null) {
        if (settings.tls !== undefined) issues.push({ file: p.file, index: p.index, severity: "warning", path: ["spec"], message: `BackendTLSPolicy ${name(p)} replaces the tls of ${writers.get("tls")} for Service ${key}` });
        settings.tls = upstreamTls;
        writers.set("tls", `BackendTLSPolicy ${name(p)}`);
      }
      this.byService.set(key, { settings, writers, tls: p !== undefined && upstreamTls !== null });
    }
    const unused = set.configMaps.filter((c) => !this.usedConfigMaps.has(`${c.doc.metadata.namespace}/${c.doc.metadata.name}`));
    if (unused.length > 0) {
      const documents = unused.length === 1 ? "1 document" : `${unused.length} documents`;
      issues.push({ file: unused[0]!.file, index: unused[0]!.index, severity: "info", path: ["kind"], message: `v1 ConfigMap is read only where a BackendTLSPolicy names it; skipped (${documents})` });
    }
  }

  /** A Backend document with the settings its Service's policies write (the same object when none do). */
  apply(located: Located<Backend>): Located<Backend> {
    const key = `${located.doc.metadata.namespace}/${located.doc.metadata.name}`;
    const own = this.byService.get(key);
    if (own === undefined) return located;
    for (const f of Object.keys(own.settings)) {
      if (located.doc.spec[f as keyof Settings] !== undefined) {
        this.issues.push({ file: located.file, index: located.index, severity: "warning", path: ["spec", f], message: `${own.writers.get(f)} writes ${f} for Service ${key}; it replaces this Backend's` });
      }
    }
    return { ...located, doc: this.merge(located.doc, own) };
  }

  /** The document of a discovered Service (`base`: meshgate's defaults) with its policies' settings. */
  forDiscovered(base: Backend): Backend {
    const own = this.byService.get(`${base.metadata.namespace}/${base.metadata.name}`);
    return own === undefined ? base : this.merge(base, own);
  }

  private merge(doc: Backend, own: ForService): Backend {
    const endpoints = own.tls ? doc.spec.endpoints.map((e) => (e.url?.startsWith("http://") ? { ...e, url: `https://${e.url.slice("http://".length)}` } : e)) : doc.spec.endpoints;
    return { ...doc, spec: { ...doc.spec, ...own.settings, endpoints } };
  }

  private tlsOf(p: Located<BackendTLSPolicy>, configMaps: ReadonlyMap<string, ConfigMap>): NonNullable<Settings["tls"]> | null {
    const v = p.doc.spec.validation;
    const pems: string[] = [];
    let ok = true;
    (v.caCertificateRefs ?? []).forEach((ref, i) => {
      const key = `${p.doc.metadata.namespace}/${ref.name}`;
      const cm = configMaps.get(key);
      const pem = cm?.data["ca.crt"];
      if (pem === undefined || !pem.includes("-----BEGIN CERTIFICATE-----")) {
        ok = false;
        const why = cm === undefined ? `no ConfigMap ${key} in the policy folder` : `ConfigMap ${key} has no PEM certificate under data["ca.crt"]`;
        this.issues.push({ file: p.file, index: p.index, severity: "error", path: ["spec", "validation", "caCertificateRefs", i, "name"], message: `${why}; the Service's endpoints cannot be verified` });
        return;
      }
      this.usedConfigMaps.add(key);
      pems.push(pem.trim());
    });
    if (!ok) return null;
    return { serverName: v.hostname, insecureSkipVerify: false, ...(pems.length > 0 ? { ca: `${pems.join("\n")}\n` } : {}) };
  }
}

function name(p: Located<{ metadata: { namespace: string; name: string } }>): string {
  return `${p.doc.metadata.namespace}/${p.doc.metadata.name}`;
}

/** Service key → the oldest policy of a kind targeting it; the others and unknown Services are warnings. */
function oldestPerService<T extends { metadata: { namespace: string; name: string; creationTimestamp?: string | undefined }; spec: { targetRefs: readonly { name: string; kind: string }[] } }>(policies: readonly Located<T>[], kind: string, exists: ServiceExists, issues: PolicyIssue[]): Map<string, Located<T>> {
  const age = (p: Located<T>) => `${p.doc.metadata.creationTimestamp ?? ""}\u0000${name(p)}`;
  const out = new Map<string, Located<T>>();
  for (const p of [...policies].sort((a, b) => age(a).localeCompare(age(b)))) {
    p.doc.spec.targetRefs.forEach((ref, i) => {
      const key = `${p.doc.metadata.namespace}/${ref.name}`;
      if (!exists(key)) issues.push({ file: p.file, index: p.index, severity: "warning", path: ["spec", "targetRefs", i, "name"], message: `no Service ${key} (no Backend, Service document or reference names it); the policy applies to nothing there` });
      const winner = out.get(key);
      if (winner !== undefined) {
        issues.push({ file: p.file, index: p.index, severity: "warning", path: ["spec", "targetRefs", i], message: `${kind} ${name(winner)} already targets Service ${key} and is older; this one does not apply there` });
        return;
      }
      out.set(key, p);
    });
  }
  return out;
}
