import { GatewayError } from "../http/gateway-error.js";
import { errorResponse } from "../http/error-response.js";
import { cors } from "./filters/cors.js";
import { headerModifier } from "./filters/header-modifier.js";
import { requestRedirect } from "./filters/redirect.js";
import { urlRewrite } from "./filters/url-rewrite.js";
import type { PolicyIssue } from "../policy/issues.js";
import type { HTTPRouteFilter } from "./httproute.js";
import type { PreflightFilter, RequestFilter, ResponseFilter, TerminalFilter } from "./compiled-rule.js";

export interface CompiledFilters {
  readonly request: RequestFilter[];
  readonly response: ResponseFilter[];
  readonly mirrors: { readonly ref: { name: string; namespace?: string | undefined; group?: string | undefined; kind?: string | undefined; port?: number | undefined }; readonly fraction: number }[];
  terminal: TerminalFilter | null;
  preflight: PreflightFilter | null;
}

export interface FilterContext {
  readonly file: string;
  readonly index: number;
  readonly path: readonly (string | number)[];
  readonly issues: PolicyIssue[];
}

/**
 * What an empty filter list compiles to, shared (frozen, so nothing can add to it): most rules
 * and backendRefs have no filters, and ten thousand routes otherwise kept four empty arrays each.
 */
export const NO_FILTERS: CompiledFilters = Object.freeze({ request: Object.freeze([]) as unknown as RequestFilter[], response: Object.freeze([]) as unknown as ResponseFilter[], mirrors: Object.freeze([]) as unknown as CompiledFilters["mirrors"], terminal: null, preflight: null });

/** A filter list into per-request functions, in the order written. */
export function compileFilters(filters: readonly HTTPRouteFilter[], ctx: FilterContext): CompiledFilters {
  const out: CompiledFilters = { request: [], response: [], mirrors: [], terminal: null, preflight: null };
  filters.forEach((filter, i) => {
    switch (filter.type) {
      case "RequestHeaderModifier": {
        const modify = headerModifier(filter.requestHeaderModifier!);
        out.request.push((req) => modify(req.headers));
        break;
      }
      case "ResponseHeaderModifier": {
        const modify = headerModifier(filter.responseHeaderModifier!);
        out.response.push((res) => modify(res.headers));
        break;
      }
      case "URLRewrite":
        out.request.push(urlRewrite(filter.urlRewrite!));
        break;
      case "RequestRedirect":
        out.terminal = requestRedirect(filter.requestRedirect!);
        break;
      case "RequestMirror": {
        const m = filter.requestMirror!;
        const fraction = m.fraction ? m.fraction.numerator / (m.fraction.denominator ?? 100) : m.percent !== undefined ? m.percent / 100 : 1;
        out.mirrors.push({ ref: m.backendRef, fraction });
        break;
      }
      case "CORS": {
        const compiled = cors(filter.cors!);
        out.preflight = compiled.preflight;
        out.response.push(compiled.response);
        break;
      }
      case "ExtensionRef": {
        // Gateway API: a filter that cannot be applied must not be skipped; its requests get a 500.
        const ref = filter.extensionRef!;
        ctx.issues.push({ file: ctx.file, index: ctx.index, severity: "warning", path: [...ctx.path, i, "extensionRef"], message: `extension filter ${ref.kind} ${ref.name} is not supported; matching requests answer 500` });
        const err = new GatewayError("internal", `filter ${ref.kind}/${ref.name} is not supported`);
        out.terminal = () => errorResponse(err);
        break;
      }
    }
  });
  return out;
}
