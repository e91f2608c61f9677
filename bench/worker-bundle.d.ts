export interface WorkerBundle {
  readonly minify: boolean;
  /** worker.js as built, bytes. */
  readonly raw: number;
  /** worker.js gzipped (zlib default level), bytes. */
  readonly gzip: number;
  /** What wrangler printed as "Total Upload" (all modules), or null when it printed none. */
  readonly wrangler: { readonly rawKiB: number; readonly gzipKiB: number } | null;
  /** esbuild metafile: every input path and the bytes it put into worker.js. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Inputs grouped by package or src/ folder, largest first. */
  readonly groups: readonly { readonly name: string; readonly bytes: number }[];
}
export function groupOf(input: string): string;
export function buildWorkerBundle(options?: { readonly minify?: boolean }): Promise<WorkerBundle>;
