import type { Located } from "../../policy/located.js";
import type { PreparedPolicies } from "../../snapshot/prepare.js";
import type { PolicySet } from "../../snapshot/validate.js";
import { grpcRouteOf } from "../../snapshot/grpc-origin.js";
import type { GRPCRoute } from "../../routing/grpcroute.js";
import { grpcToHttpRoute } from "../../routing/grpc-translate.js";
import type { HTTPRoute } from "../../routing/httproute.js";

/** The lists of a PolicySet that hold documents (all but `issues`). */
const LISTS = ["routes", "gateways", "backends", "trafficPolicies", "securityPolicies", "rateLimitPolicies", "services", "backendTrafficPolicies", "backendTlsPolicies", "configMaps"] as const;
type ListName = (typeof LISTS)[number];

/** A located document as posted: a number for a document the receiver already holds, the GRPCRoute for a translated one. */
interface WireLocated {
  readonly file: string;
  readonly index: number;
  readonly ref?: number;
  readonly grpc?: GRPCRoute;
}

/** PreparedPolicies as posted between threads: each document crosses once, then travels as its number. */
export interface WirePolicies {
  readonly lists: Readonly<Record<ListName, readonly WireLocated[]>>;
  readonly fresh: readonly (readonly [number, unknown])[];
  readonly issues: PolicySet["issues"];
  readonly parseIssues: PreparedPolicies["parseIssues"];
  readonly documents: PreparedPolicies["documents"];
  readonly hash: string;
}

/**
 * The sending side (the worker). A structured clone of ten thousand validated routes costs the
 * receiving thread 100–300 ms, all of it on the thread that serves requests; an unchanged
 * document is the same object from one load to the next (parse-cache.ts), so it gets a number
 * once and only new documents are cloned. `sent` mirrors what the receiver keeps: the documents
 * of the last set posted.
 */
export class WireEncoder {
  private readonly ids = new WeakMap<object, number>();
  private sent = new Set<number>();
  private next = 1;

  encode(prepared: PreparedPolicies): WirePolicies {
    const fresh: [number, unknown][] = [];
    const used = new Set<number>();
    const list = (items: readonly Located<unknown>[], routes: boolean): WireLocated[] =>
      items.map(({ file, index, doc }) => {
        const grpc = routes ? grpcRouteOf(doc as HTTPRoute) : undefined;
        if (grpc !== undefined) return { file, index, grpc };
        let ref = this.ids.get(doc as object);
        if (ref === undefined) this.ids.set(doc as object, (ref = this.next++));
        if (!this.sent.has(ref) && !used.has(ref)) fresh.push([ref, doc]);
        used.add(ref);
        return { file, index, ref };
      });
    const set = prepared.set;
    const lists = Object.fromEntries(LISTS.map((name) => [name, list(set[name], name === "routes")])) as Record<ListName, WireLocated[]>;
    this.sent = used;
    return { lists, fresh, issues: set.issues, parseIssues: prepared.parseIssues, documents: prepared.documents, hash: prepared.hash };
  }

  /** The receiver lost its documents (a new worker, a failed post): send everything next time. */
  reset(): void {
    this.sent = new Set();
  }
}

/**
 * Documents as posted ahead of the set that uses them, in batches (no one message holds the
 * serving thread long). A batch that is JSON data (a validated policy document is: YAML scalars
 * through zod) travels as JSON text: JSON.parse rebuilds ten thousand routes on the serving
 * thread in about half the time a structured clone takes (28–35 vs 52–94 ms through a port), and
 * JSON.stringify is faster than the clone's serializer too. Anything else (an undefined field, a
 * NaN, a class instance: JSON would drop or change it) goes as a structured clone.
 */
export type WireBatch = string | WirePolicies["fresh"];

export function wireBatches(fresh: WirePolicies["fresh"], size: number): WireBatch[] {
  const batches: WireBatch[] = [];
  for (let i = 0; i < fresh.length; i += size) {
    const batch = fresh.slice(i, i + size);
    batches.push(isJsonData(batch) ? JSON.stringify(batch) : batch);
  }
  return batches;
}

/** True when JSON.parse(JSON.stringify(value)) is deeply equal to value, own keys and all. */
export function isJsonData(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !isJsonData(value[i])) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      // A "__proto__" key is rare and easy to get wrong on either side: the clone takes it.
      for (const key in value) if (key === "__proto__" || !isJsonData((value as Record<string, unknown>)[key])) return false;
      return Object.getOwnPropertySymbols(value).length === 0;
    }
    default:
      return false;
  }
}

/** The receiving side (the thread that compiles): keeps the documents of the last set it decoded. */
export class WireDecoder {
  private docs = new Map<number, unknown>();

  /** Documents posted ahead of the set that uses them (wireBatches). */
  receive(fresh: WireBatch): void {
    for (const [ref, doc] of typeof fresh === "string" ? (JSON.parse(fresh) as WirePolicies["fresh"]) : fresh) this.docs.set(ref, doc);
  }

  decode(wire: WirePolicies): PreparedPolicies {
    this.receive(wire.fresh);
    const kept = new Map<number, unknown>();
    const list = (items: readonly WireLocated[]): Located<unknown>[] =>
      items.map(({ file, index, ref, grpc }) => {
        if (grpc !== undefined) return { file, index, doc: grpcToHttpRoute(grpc) };
        const doc = this.docs.get(ref!);
        if (doc === undefined) throw new Error(`policy document #${ref} was never received`);
        kept.set(ref!, doc);
        return { file, index, doc };
      });
    const lists = Object.fromEntries(LISTS.map((name) => [name, list(wire.lists[name])]));
    this.docs = kept;
    return { set: { ...(lists as unknown as Omit<PolicySet, "issues">), issues: wire.issues }, parseIssues: wire.parseIssues, documents: wire.documents, hash: wire.hash };
  }
}
