import type { DocReport } from "./report.js";
import type { Obj } from "./fields.js";

/** What every translator gets: its document's report, the defaults, and where output goes. */
export interface ImportContext {
  readonly report: DocReport;
  /** The document's namespace (metadata.namespace or --namespace). */
  readonly namespace: string;
  readonly subsetTemplate: string;
  /** Output documents for the input file being translated. */
  readonly emit: (doc: Obj) => void;
}
