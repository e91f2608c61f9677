import type { TargetRef } from "./target-ref.js";

// Apart from the targetRef schema (target-ref.ts): attachment on the serving thread runs
// without loading zod.

/** "namespace/name" of a Service target in a policy of namespace `ns`, or null for other kinds. */
export function serviceTarget(ref: TargetRef, ns: string): string | null {
  return ref.group === "" && ref.kind === "Service" ? `${ns}/${ref.name}` : null;
}
