import type { PolicyIssue } from "../policy/issues.js";
import type { Snapshot } from "./snapshot.js";

/**
 * A folder without policy files, or a policy file without documents, is almost always a mistake
 * (a wrong path, a truncated or half-written file): `validate` and `publish` refuse them rather
 * than call an empty configuration valid.
 */
export function emptySourceIssues(location: string, snapshot: Snapshot): PolicyIssue[] {
  if (snapshot.documents.size === 0) return [{ file: location, index: 0, severity: "error", path: [], message: "no .yaml, .yml or .json policy files here" }];
  const issues: PolicyIssue[] = [];
  for (const [file, count] of snapshot.documents) {
    if (count === 0) issues.push({ file, index: 0, severity: "error", path: [], message: "the file holds no documents (empty, or comments only)" });
  }
  return issues;
}
