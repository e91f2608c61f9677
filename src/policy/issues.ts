/** Where a policy problem was found: which file, which document in it, which field. */
export interface PolicyLocation {
  /** Path of the source file as given to the loader (or a bundle/KV key). */
  readonly file: string;
  /** Zero-based index of the document inside a multi-document YAML file. */
  readonly index: number;
}

/** `info`: nothing wrong, but worth a line (documents meshgate skips on purpose). */
export type PolicySeverity = "error" | "warning" | "info";

/** One precise complaint about a policy document. */
export interface PolicyIssue extends PolicyLocation {
  readonly severity: PolicySeverity;
  /** Field path inside the document, e.g. ["spec", "rules", 0, "matches", 1, "path", "value"]. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Dotted field path as operators read it: `spec.rules[0].matches[1].path.value`. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out === "" ? "(document)" : out;
}

/** `file:document#index: field.path: message` — the format `meshgate validate` prints. */
export function formatPolicyIssue(issue: PolicyIssue): string {
  const tag = issue.severity === "error" ? "" : `${issue.severity}: `;
  return `${issue.file}:document#${issue.index}: ${formatFieldPath(issue.path)}: ${tag}${issue.message}`;
}

/** Thrown when a policy set cannot become a snapshot; carries every issue found. */
export class PolicyError extends Error {
  readonly code = "invalid_policy";
  constructor(readonly issues: readonly PolicyIssue[]) {
    const errors = issues.filter((i) => i.severity === "error");
    const first = errors[0];
    super(
      first === undefined
        ? "invalid policy"
        : `${errors.length} policy error(s); first: ${formatPolicyIssue(first)}`,
    );
    this.name = "PolicyError";
  }
}
