/** One line of the import report: a field that did not translate exactly. */
export interface ReportLine {
  readonly file: string;
  readonly index: number;
  readonly path: string;
  readonly outcome: "approximated" | "dropped";
  readonly why: string;
}

/** An input that cannot be read as Istio config at all: nothing is written. */
export class ImportInputError extends Error {
  constructor(readonly file: string, readonly index: number, readonly path: string, why: string) {
    super(`${file}:document#${index}: ${path || "(document)"}: ${why}`);
  }
}

/** Collects report lines for one document; the translators write to it, never to stderr. */
export class DocReport {
  constructor(readonly file: string, readonly index: number, private readonly lines: ReportLine[]) {}
  approximated(path: string, why: string): void {
    this.lines.push({ file: this.file, index: this.index, path, outcome: "approximated", why });
  }
  dropped(path: string, why: string): void {
    this.lines.push({ file: this.file, index: this.index, path, outcome: "dropped", why });
  }
  invalid(path: string, why: string): never {
    throw new ImportInputError(this.file, this.index, path, why);
  }
  /** Every field of an input object is accounted for: the ones a translator does not know are reported. */
  unknown(value: Record<string, unknown>, known: readonly string[], path: string): void {
    for (const key of Object.keys(value)) if (!known.includes(key)) this.dropped(join(path, key), "field not known to the importer; not translated");
  }
}

export function formatReportLine(l: ReportLine): string {
  return `${l.file}:document#${l.index}: ${l.path}: ${l.outcome}: ${l.why}`;
}

export function join(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
}
