import { parseAllDocuments, stringify } from "yaml";
import type { ImportContext } from "./context.js";
import type { Obj } from "./fields.js";
import { serviceOf } from "./hosts.js";
import { DocReport, ImportInputError, formatReportLine, type ReportLine } from "./report.js";
import { translateDestinationRule } from "./destination-rule.js";
import { translateGateway } from "./gateway.js";
import { SecurityCollector } from "./security.js";
import { translateServiceEntry } from "./service-entry.js";
import { translatePeerAuthentication, translateUnsupported } from "./unsupported.js";
import { translateVirtualService } from "./virtual-service.js";

export interface IstioSource {
  readonly file: string;
  readonly text: string;
}

export interface IstioImportOptions {
  /** Namespace of documents without metadata.namespace (default `default`). */
  readonly namespace?: string;
  /** Service a subset stands for; `{host}` and `{subset}` are replaced (default `{host}-{subset}`). */
  readonly subsetService?: string;
}

export interface IstioImportResult {
  /** One entry per input file, in input order: the meshgate documents it became. */
  readonly outputs: readonly { readonly file: string; readonly documents: readonly Obj[] }[];
  readonly report: readonly ReportLine[];
  /** Documents of other kinds, left alone (`file:document#i: apiVersion kind`). */
  readonly skipped: readonly string[];
  /** 0 exact, 3 approximated or dropped. */
  readonly exitCode: 0 | 3;
}

const ISTIO_GROUPS = ["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"];
const UNSUPPORTED = new Set(["EnvoyFilter", "Sidecar", "WasmPlugin", "Telemetry", "ProxyConfig", "WorkloadEntry", "WorkloadGroup"]);

/** Whether an apiVersion names one of Istio's API groups. */
export function isIstioApiVersion(apiVersion: string): boolean {
  return ISTIO_GROUPS.includes(apiVersion.split("/")[0] ?? "");
}

/**
 * Translates Istio documents into meshgate documents. Documents are applied in order, as
 * `kubectl apply` would: a later one with the same kind, namespace and name replaces the earlier.
 * Throws ImportInputError on input that is not readable Istio config; nothing is translated then.
 */
export function importIstio(sources: readonly IstioSource[], options: IstioImportOptions = {}): IstioImportResult {
  const namespace = options.namespace ?? "default";
  const subsetTemplate = options.subsetService ?? "{host}-{subset}";
  const report: ReportLine[] = [];
  const skipped: string[] = [];
  const docs: { file: string; index: number; value: Obj; kind: string; name: string; ns: string }[] = [];
  const latest = new Map<string, number>();
  for (const source of sources) {
    parseAllDocuments(source.text).forEach((d, index) => {
      if (d.errors.length) throw new ImportInputError(source.file, index, "", `YAML: ${d.errors[0]!.message.split("\n")[0]!}`);
      const value: unknown = d.toJS();
      if (value === null || value === undefined) return;
      if (typeof value !== "object" || Array.isArray(value)) throw new ImportInputError(source.file, index, "", "a document must be a mapping with apiVersion, kind and metadata");
      const v = value as Obj;
      if (typeof v.apiVersion !== "string") throw new ImportInputError(source.file, index, "apiVersion", "required string field is missing");
      if (typeof v.kind !== "string") throw new ImportInputError(source.file, index, "kind", "required string field is missing");
      if (!isIstioApiVersion(v.apiVersion)) return void skipped.push(`${source.file}:document#${index}: ${v.apiVersion} ${v.kind}: not an Istio kind; left alone`);
      const meta = v.metadata as Obj | undefined;
      if (typeof meta?.name !== "string" || meta.name === "") throw new ImportInputError(source.file, index, "metadata.name", "required string field is missing");
      const ns = typeof meta.namespace === "string" ? meta.namespace : namespace;
      const key = `${v.kind}/${ns}/${meta.name}`;
      latest.set(key, docs.length);
      docs.push({ file: source.file, index, value: v, kind: v.kind, name: meta.name, ns });
    });
  }
  const outputs = sources.map((s) => ({ file: s.file, documents: [] as Obj[] }));
  const security = new SecurityCollector();
  const delegates = (name: string, ns: string) => {
    const i = latest.get(`VirtualService/${ns}/${name}`);
    return i === undefined ? undefined : docs[i]!.value;
  };
  const delegated = new Set<string>();
  for (const d of docs) {
    if (d.kind !== "VirtualService") continue;
    for (const h of arrayOr((d.value.spec as Obj | undefined)?.http) as Obj[]) {
      const del = h?.delegate as Obj | undefined;
      if (del && typeof del.name === "string") delegated.add(`${typeof del.namespace === "string" ? del.namespace : d.ns}/${del.name}`);
    }
    for (const h of arrayOr((d.value.spec as Obj | undefined)?.hosts)) {
      const svc = typeof h === "string" ? serviceOf(h) : null;
      if (svc) security.noteService(svc.namespace ?? d.ns, svc.name);
    }
  }
  docs.forEach((d, i) => {
    const r = new DocReport(d.file, d.index, report);
    const key = `${d.kind}/${d.ns}/${d.name}`;
    if (latest.get(key) !== i) {
      const later = docs[latest.get(key)!]!;
      return r.dropped("", `replaced by ${later.file}:document#${later.index} (same kind, namespace and name; applied in order)`);
    }
    const out = outputs.find((o) => o.file === d.file)!;
    const ctx: ImportContext = { report: r, namespace: d.ns, subsetTemplate, emit: (doc) => out.documents.push(doc) };
    const meta = d.value.metadata as Obj;
    for (const k of Object.keys(meta)) if (!["name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"].includes(k)) r.dropped(`metadata.${k}`, "not translated");
    switch (d.kind) {
      case "VirtualService":
        if (delegated.has(`${d.ns}/${d.name}`)) return r.approximated("", "a delegate VirtualService: its routes are flattened into the delegating one");
        return translateVirtualService(ctx, d.value, d.name, delegates);
      case "DestinationRule":
        if (typeof (d.value.spec as Obj | undefined)?.host === "string") {
          const svc = serviceOf((d.value.spec as Obj).host as string);
          if (svc) security.noteService(svc.namespace ?? d.ns, svc.name);
        }
        return translateDestinationRule(ctx, d.value, d.name);
      case "Gateway":
        return translateGateway(ctx, d.value, d.name);
      case "ServiceEntry":
        return translateServiceEntry(ctx, d.value);
      case "AuthorizationPolicy":
        return security.authorizationPolicy(ctx, d.value, d.name);
      case "RequestAuthentication":
        return security.requestAuthentication(ctx, d.value);
      case "PeerAuthentication":
        return translatePeerAuthentication(ctx, d.value);
      default:
        if (UNSUPPORTED.has(d.kind)) return translateUnsupported(ctx, d.kind);
        return r.dropped("kind", `unknown Istio kind ${d.kind}; not translated`);
    }
  });
  security.finish();
  return { outputs, report, skipped, exitCode: report.length ? 3 : 0 };
}

function arrayOr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Output documents as one multi-document YAML text. */
export function formatDocuments(documents: readonly Obj[], header: string): string {
  return `# ${header}\n` + documents.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}

export { formatReportLine, ImportInputError };
