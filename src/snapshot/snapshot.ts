import type { PolicyIssue } from "../policy/issues.js";
import type { CredentialNames } from "../http/redact.js";
import type { RouteTable } from "../routing/route-table.js";
import type { MeshOptions } from "../routing/mesh.js";
import { CompiledBackend } from "../upstream/compiled-backend.js";
import { CompiledSecurity } from "../identity/compiled-security.js";

export interface SnapshotSource {
  /** Where the policies came from: a directory, a file, a store key. */
  readonly location: string;
  readonly files: readonly string[];
}

/** The compiled configuration. Immutable; a reload builds a new one and swaps it in. */
export interface Snapshot {
  readonly version: string;
  /** SHA-256 of the documents, hex. */
  readonly hash: string;
  readonly source: SnapshotSource;
  readonly loadedAt: Date;
  readonly routes: RouteTable;
  /** The namespace and cluster domain mesh authorities were compiled against. */
  readonly mesh: MeshOptions;
  readonly backends: ReadonlyMap<string, CompiledBackend>;
  readonly warnings: readonly PolicyIssue[];
  /** Identity headers the gateway writes: removed from every incoming request, whatever its route. */
  readonly identityHeaders: ReadonlySet<string>;
  /** Query parameters and headers that carry credentials: the access log and explain redact them. */
  readonly credentials: CredentialNames;
  /** Every SecurityPolicy in force, so key sets can be fetched as soon as the snapshot loads. */
  readonly securityPolicies: readonly CompiledSecurity[];
  /** Documents per source file (0 for an empty or comments-only file): reloads compare them to spot torn writes. */
  readonly documents: ReadonlyMap<string, number>;
  /** DNS names whose addresses this snapshot's discovered backends use (`--service-discovery dns`). */
  readonly discoveredHostnames?: readonly string[];
  readonly counts: { readonly routes: number; readonly rules: number; readonly backends: number; readonly trafficPolicies: number; readonly securityPolicies: number; readonly rateLimitPolicies: number };
}
