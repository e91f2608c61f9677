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

/** The receiving side (the thread that compiles): keeps the documents of the last set it decoded. */
export class WireDecoder {
  private docs = new Map<number, unknown>();

  /** Documents posted ahead of the set that uses them (in batches, so no one message takes long to receive). */
  receive(fresh: WirePolicies["fresh"]): void {
    for (const [ref, doc] of fresh) this.docs.set(ref, doc);
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
