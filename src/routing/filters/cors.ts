import type { PreflightFilter, ResponseFilter } from "../compiled-rule.js";
import { HeaderList } from "../../http/header-list.js";
import { compileGlob } from "../../policy/safe-regex.js";

export interface CorsOptions {
  readonly allowOrigins?: readonly string[] | undefined;
  readonly allowMethods?: readonly string[] | undefined;
  readonly allowHeaders?: readonly string[] | undefined;
  readonly exposeHeaders?: readonly string[] | undefined;
  readonly maxAge?: number | undefined;
  readonly allowCredentials?: boolean | undefined;
}

export interface CompiledCors {
  readonly preflight: PreflightFilter;
  readonly response: ResponseFilter;
}

/** Gateway API CORS filter: preflights are answered here; other responses get the allow headers. */
export function cors(options: CorsOptions): CompiledCors {
  const allowOrigin = originMatcher(options.allowOrigins ?? []);
  const credentials = options.allowCredentials === true;
  const anyMethod = (options.allowMethods ?? []).includes("*");
  const methods = (options.allowMethods ?? []).join(", ");
  const allowHeaders = (options.allowHeaders ?? []).join(", ");
  const expose = (options.exposeHeaders ?? []).join(", ");
  const maxAge = String(options.maxAge ?? 5);
  const anyOrigin = (options.allowOrigins ?? []).includes("*");

  const originValue = (origin: string) => (anyOrigin && !credentials ? "*" : origin);

  const preflight: PreflightFilter = function corsPreflight(req) {
    if (req.method !== "OPTIONS") return null;
    const origin = req.headers.get("origin");
    const requested = req.headers.get("access-control-request-method");
    if (origin === undefined || requested === undefined) return null;
    const headers = new HeaderList(["vary", "Origin", "content-length", "0"]);
    if (allowOrigin(origin)) {
      headers.append("access-control-allow-origin", originValue(origin));
      // "*" is not honoured by browsers for credentialed requests: echo what was asked instead.
      const allowMethods = anyMethod ? requested : methods;
      if (allowMethods !== "") headers.append("access-control-allow-methods", allowMethods);
      const requestedHeaders = req.headers.get("access-control-request-headers");
      const echo = allowHeaders === "*" && requestedHeaders !== undefined ? requestedHeaders : allowHeaders;
      if (echo !== "") headers.append("access-control-allow-headers", echo);
      if (expose !== "") headers.append("access-control-expose-headers", expose);
      if (credentials) headers.append("access-control-allow-credentials", "true");
      headers.append("access-control-max-age", maxAge);
    }
    // 200, as Envoy answers and the Gateway API conformance suite expects.
    return { status: 200, headers, body: null };
  };

  const response: ResponseFilter = function corsHeaders(res, req) {
    const origin = req.headers.get("origin");
    if (origin === undefined || !allowOrigin(origin)) return;
    res.headers.set("access-control-allow-origin", originValue(origin));
    if (credentials) res.headers.set("access-control-allow-credentials", "true");
    if (expose !== "") res.headers.set("access-control-expose-headers", expose);
    res.headers.append("vary", "Origin");
  };

  return { preflight, response };
}

/** Exact origins, "*" for any, and "https://*.example.com" style subdomain wildcards. */
function originMatcher(origins: readonly string[]): (origin: string) => boolean {
  if (origins.includes("*")) return () => true;
  const exact = new Set(origins.filter((o) => !o.includes("*")).map((o) => o.toLowerCase()));
  const patterns = origins
    .filter((o) => o.includes("*"))
    // RE2 (linear time): the Origin header is attacker input.
    .map((o) => compileGlob(o.toLowerCase(), "[^/]+"));
  return (origin) => {
    const o = origin.toLowerCase();
    return exact.has(o) || patterns.some((p) => p.test(o));
  };
}
