import { z } from "zod";
import { strictObject } from "../policy/strict-object.js";
import type { PolicySource } from "../policy/parse.js";
import { sourcesHash } from "../policy/source-hash.js";

export const BUNDLE_FORMAT = "meshgate.dev/bundle-v1";

/**
 * Everything a gateway needs in ONE document, so a reader never sees half an update:
 * the policy sources as published, a monotonic version and a content hash.
 */
export interface PolicyBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: number;
  /** SHA-256 (hex) of the sources, the same digest a snapshot reports. */
  readonly hash: string;
  readonly createdAt: string;
  readonly publisher: string;
  readonly sources: readonly PolicySource[];
  /**
   * `publish --force`: apply even where a higher version is in force (after the store lost its
   * data, versions restart at 1). Absent on ordinary bundles.
   */
  readonly force?: true;
}

export interface BundleSummary {
  readonly version: number;
  readonly hash: string;
  readonly createdAt: string;
  readonly publisher: string;
}

const bundleSchema = strictObject({
  format: z.literal(BUNDLE_FORMAT),
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.string(),
  publisher: z.string(),
  sources: z.array(strictObject({ name: z.string().min(1), text: z.string() })).min(1),
  force: z.literal(true).optional(),
});

/** Thrown for a bundle that must not be used; `reason` is what operators read in the log. */
export class BundleError extends Error {
  readonly code = "invalid_bundle";
  constructor(readonly reason: string) {
    super(`invalid bundle: ${reason}`);
    this.name = "BundleError";
  }
}

/** Parses and checks a stored bundle: shape, then that the hash matches the content. */
export async function decodeBundle(text: string): Promise<PolicyBundle> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`not JSON (${(err as Error).message})`);
  }
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BundleError(`${issue.path.join(".") || "(bundle)"}: ${issue.message}`);
  }
  const bundle = parsed.data as PolicyBundle;
  const actual = await sourcesHash(bundle.sources);
  if (actual !== bundle.hash) throw new BundleError(`hash mismatch: bundle says ${bundle.hash.slice(0, 12)}, content is ${actual.slice(0, 12)}`);
  return bundle;
}

export async function makeBundle(sources: readonly PolicySource[], version: number, publisher: string, now = new Date(), force = false): Promise<PolicyBundle> {
  return { format: BUNDLE_FORMAT, version, hash: await sourcesHash(sources), createdAt: now.toISOString(), publisher, sources, ...(force ? { force: true as const } : {}) };
}

export function summarize(b: PolicyBundle): BundleSummary {
  return { version: b.version, hash: b.hash, createdAt: b.createdAt, publisher: b.publisher };
}
