import { compileSafeRegex } from "../policy/safe-regex.js";

/** A compiled path test plus what the precedence order needs to know about it. */
export interface PathMatcher {
  readonly type: "Exact" | "PathPrefix" | "RegularExpression";
  readonly value: string;
  /** For PathPrefix: the prefix without its trailing slash ("" for "/"). */
  readonly prefix: string;
  test(path: string): boolean;
}

export function compilePathMatch(type: PathMatcher["type"], value: string): PathMatcher {
  switch (type) {
    case "Exact":
      return { type, value, prefix: "", test: (path) => path === value };
    case "PathPrefix": {
      // Gateway API prefixes match whole path elements and ignore a trailing slash:
      // "/foo" and "/foo/" both match "/foo", "/foo/" and "/foo/bar", never "/foobar".
      const prefix = value.endsWith("/") ? value.slice(0, -1) : value;
      if (prefix === "") return { type, value, prefix, test: () => true };
      const withSlash = `${prefix}/`;
      return {
        type,
        value,
        prefix,
        test: (path) => path === prefix || path.startsWith(withSlash),
      };
    }
    case "RegularExpression": {
      // RE2 (linear time), anchored like Envoy's safe_regex: the expression must match the whole path.
      const re = compileSafeRegex(value);
      return { type, value, prefix: "", test: (path) => re.test(path) };
    }
  }
}
