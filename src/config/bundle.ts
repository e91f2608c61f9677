import * as z from "../policy/zod.js";
import { strictObject } from "../policy/strict-object.js";
import type { PolicySource } from "../policy/parse.js";
import { sourcesHash } from "../policy/source-hash.js";
import { documentSources } from "../policy/document-sources.js";

/** What publish writes: every source's documents parsed (no YAML parser needed to read it). */
export const BUNDLE_FORMAT = "meshgate.dev/bundle-v2";
/** Bundles written before: sources as text. Still read; a Worker refuses their YAML text by name. */
export const BUNDLE_FORMAT_V1 = "meshgate.dev/bundle-v1";

/**
 * Everything a gateway needs in ONE document, so a reader never sees half an update:
 * the policy sources as published, a monotonic version and a content hash.
 */
export interface PolicyBundle {
  readonly format: typeof BUNDLE_FORMAT | typeof BUNDLE_FORMAT_V1;
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

const textSource = strictObject({ name: z.string().check(z.minLength(1)), text: z.string() });
const documentsSource = strictObject({ name: z.string().check(z.minLength(1)), documents: z.array(z.unknown()) });

const bundleSchema = strictObject({
  format: z.enum([BUNDLE_FORMAT, BUNDLE_FORMAT_V1]),
  version: z.number().check(z.int(), z.positive(), z.lte(Number.MAX_SAFE_INTEGER)),
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  createdAt: z.string(),
  publisher: z.string(),
  // v1 has text only; v2 is what publish writes (documents), text kept readable for hand-made bundles.
  sources: z.array(z.union([textSource, documentsSource])).check(z.minLength(1)),
  force: z.optional(z.literal(true)),
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

/**
 * A bundle of `sources` with their documents parsed (`documentSources`). A file that does not
 * parse stays text: publish refuses such sources before it gets here; tests write them to see
 * a gateway refuse the bundle.
 */
export async function makeBundle(sources: readonly PolicySource[], version: number, publisher: string, now = new Date(), force = false): Promise<PolicyBundle> {
  const parsed = documentSources(sources).sources;
  return { format: BUNDLE_FORMAT, version, hash: await sourcesHash(parsed), createdAt: now.toISOString(), publisher, sources: parsed, ...(force ? { force: true as const } : {}) };
}

/**
 * `bundle` in the format gateways before bundle-v2 read (every file as text, which they parse
 * as YAML or JSON): its documents written back as JSON, which is YAML too, one per `---`. KV
 * stores carry it beside the v2 bundle so a Worker of the previous release keeps loading new
 * versions while a rolling upgrade replaces it.
 */
export async function legacyBundle(bundle: PolicyBundle): Promise<PolicyBundle> {
  const sources = bundle.sources.map((s): PolicySource => {
    if (!("documents" in s)) return s;
    const present = s.documents.filter((d) => d !== null && d !== undefined);
    const text = s.name.endsWith(".json") ? JSON.stringify(present) : s.documents.map((d) => (d === null || d === undefined ? "" : JSON.stringify(d))).join("\n---\n");
    return { name: s.name, text };
  });
  return { ...bundle, format: BUNDLE_FORMAT_V1, hash: await sourcesHash(sources), sources };
}

export function summarize(b: PolicyBundle): BundleSummary {
  return { version: b.version, hash: b.hash, createdAt: b.createdAt, publisher: b.publisher };
}
