import type { PolicyIssue } from "../policy/issues.js";
import type { Located } from "../policy/located.js";
import type { HTTPRoute, HTTPRouteMatch } from "./httproute.js";

/**
 * Warns about silent misrouting between routes that name neither hostnames nor parents: both
 * serve every host, so where two of them have a match for exactly the same requests, the older
 * route takes them all and the other never sees one (the Bookinfo mesh routes written without
 * Service parents: reviews traffic lands on details). Matches are compared as written, after
 * Gateway API's defaults; narrower-but-covered matches are precedence working, not a mistake.
 */
export function warnOverlaps(routes: readonly Located<HTTPRoute>[], issues: PolicyIssue[]): void {
  const all = routes.filter((r) => r.doc.spec.hostnames.length === 0 && r.doc.spec.parentRefs.length === 0);
  // Only routes sharing a match with another route can be warned about: sort just those by age
  // (10,000 prefixes without hostnames share nothing, and sorting them all took ~30 ms a reload).
  const keys = new Map<string, Located<HTTPRoute>>();
  const involved = new Set<Located<HTTPRoute>>();
  for (const route of all) {
    for (const key of matchKeys(route.doc)) {
      const first = keys.get(key);
      if (first === undefined) keys.set(key, route);
      else if (first !== route) involved.add(first).add(route);
    }
  }
  if (involved.size === 0) return;
  const open = all.filter((r) => involved.has(r)).sort((a, b) => age(a).localeCompare(age(b)));
  const owner = new Map<string, { route: Located<HTTPRoute>; at: string }>();
  for (const route of open) {
    route.doc.spec.rules.forEach((rule, r) =>
      rule.matches.forEach((m, i) => {
        const key = matchKey(m);
        const first = owner.get(key);
        const at = `rules[${r}].matches[${i}]`;
        if (first === undefined) return void owner.set(key, { route, at });
        if (first.route === route) return;
        const other = first.route.doc.metadata;
        issues.push({
          file: route.file,
          index: route.index,
          severity: "warning",
          path: ["spec", "rules", r, "matches", i],
          message: `matches the same requests as HTTPRoute ${other.namespace}/${other.name} ${first.at}, and neither route has hostnames or parentRefs: every such request goes to ${other.namespace}/${other.name}, none to this route (give the routes hostnames, or Service parentRefs for mesh routes)`,
        });
      }),
    );
  }
}

const keysByRoute = new WeakMap<HTTPRoute, readonly string[]>();

/**
 * Every match key of a route, rule by rule, once per validated document: a reload hands unchanged
 * documents back as the same (immutable) objects, so it keys only the routes that changed.
 */
function matchKeys(route: HTTPRoute): readonly string[] {
  let keys = keysByRoute.get(route);
  if (keys === undefined) keysByRoute.set(route, (keys = route.spec.rules.flatMap((rule) => rule.matches.map(matchKey))));
  return keys;
}

function matchKey(m: HTTPRouteMatch): string {
  const type = m.path?.type ?? "PathPrefix";
  let value = m.path?.value ?? "/";
  // "/foo" and "/foo/" are the same prefix.
  if (type === "PathPrefix" && value.length > 1 && value.endsWith("/")) value = value.slice(0, -1);
  const headers = (m.headers ?? []).map((h) => `${h.name.toLowerCase()}\u0001${h.type ?? "Exact"}\u0001${h.value}`).sort();
  const query = (m.queryParams ?? []).map((q) => `${q.name}\u0001${q.type ?? "Exact"}\u0001${q.value}`).sort();
  return JSON.stringify([type, value, m.method ?? null, headers, query]);
}

function age(r: Located<HTTPRoute>): string {
  const { creationTimestamp, namespace, name } = r.doc.metadata;
  return `${creationTimestamp ?? ""}\u0000${namespace}/${name}`;
}
