export interface PathModifierOptions {
  readonly type: "ReplaceFullPath" | "ReplacePrefixMatch";
  readonly replaceFullPath?: string | undefined;
  readonly replacePrefixMatch?: string | undefined;
}

/**
 * Returns the new path. ReplacePrefixMatch swaps the matched prefix element-wise, as the
 * Gateway API table specifies: prefix "/foo" + replacement "/xyz" turns "/foo/bar" into
 * "/xyz/bar"; an empty or "/" replacement turns "/foo/bar" into "/bar" and "/foo" into "/".
 */
export function pathModifier(options: PathModifierOptions): (path: string, matchedPrefix: string) => string {
  if (options.type === "ReplaceFullPath") {
    const full = options.replaceFullPath ?? "/";
    return () => full;
  }
  const raw = options.replacePrefixMatch ?? "/";
  const replacement = raw.endsWith("/") ? raw.slice(0, -1) : raw;
  return function replacePrefix(path, matchedPrefix) {
    const rest = path.slice(matchedPrefix.length);
    const out = replacement + rest;
    return out === "" ? "/" : out.startsWith("/") ? out : `/${out}`;
  };
}
