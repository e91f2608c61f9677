import { Authorization } from "./authorization.js";
import { CidrSet } from "../http/cidr.js";
import type { PolicyIssue } from "../policy/issues.js";
import type { SecurityPolicy } from "./security-policy.js";
import type { CompiledSecurity } from "./compiled-security.js";
import type { Located } from "../policy/located.js";
import { attachmentLookup, type AttachableRoute } from "../policy/attachment.js";
import { DEFAULT_CREDENTIAL_HEADERS, DEFAULT_CREDENTIAL_PARAMS, type CredentialNames } from "../http/redact.js";

export type SecurityLookup<R extends AttachableRoute = AttachableRoute> = (route: R, ruleName: string | undefined) => CompiledSecurity | null;

/** Headers meshgate writes by default; never accepted from a client even where no policy applies. */
const DEFAULT_IDENTITY_HEADERS = ["x-meshgate-principal", "x-meshgate-consumer", "x-meshgate-client-cert-id", "x-forwarded-client-cert"];

export interface SecurityCompilation<R extends AttachableRoute = AttachableRoute> {
  readonly lookup: SecurityLookup<R>;
  readonly all: readonly CompiledSecurity[];
  /** The compiled form of each policy (Service-targeted ones are looked up here). */
  readonly byPolicy: ReadonlyMap<Located<SecurityPolicy>, CompiledSecurity>;
  readonly identityHeaders: ReadonlySet<string>;
  /** Query parameters and headers that carry credentials here (the defaults and every extractFrom): logs redact them. */
  readonly credentials: CredentialNames;
}

export function compileSecurity<R extends AttachableRoute>(policies: readonly Located<SecurityPolicy>[], routes: readonly Located<R>[], issues: PolicyIssue[], gatewaysOf?: (route: R) => ReadonlySet<string> | null): SecurityCompilation<R> {
  const find = attachmentLookup("SecurityPolicy", policies, routes, issues, { gatewayWide: true, ...(gatewaysOf ? { gatewaysOf } : {}) });
  const compiled = new Map<Located<SecurityPolicy>, CompiledSecurity>();
  const identityHeaders = new Set(DEFAULT_IDENTITY_HEADERS);
  const credentials = { params: new Set(DEFAULT_CREDENTIAL_PARAMS), headers: new Set(DEFAULT_CREDENTIAL_HEADERS) };
  for (const p of policies) {
    const spec = p.doc.spec;
    compiled.set(p, compiledSecurity(p.doc));
    for (const name of Object.values(spec.upstreamHeaders)) if (name !== null) identityHeaders.add(name);
    for (const provider of spec.jwt?.providers ?? []) for (const { header } of provider.claimToHeaders) identityHeaders.add(header);
    for (const from of [...(spec.jwt?.providers ?? []).map((p) => p.extractFrom), spec.apiKey?.extractFrom]) {
      for (const name of from?.params ?? []) credentials.params.add(name.toLowerCase());
      for (const h of from?.headers ?? []) credentials.headers.add(h.name);
    }
  }
  return {
    lookup: (route, ruleName) => {
      const chosen = find(route, ruleName);
      return chosen === null ? null : compiled.get(chosen)!;
    },
    all: [...compiled.values()],
    byPolicy: compiled,
    identityHeaders,
    credentials,
  };
}

const compiledByDoc = new WeakMap<SecurityPolicy, CompiledSecurity>();

/**
 * compileSecurityPolicy once per validated document: a reload hands an unchanged document back
 * as the same (immutable) object, and the compiled routes it reuses hold this compiled form.
 */
function compiledSecurity(doc: SecurityPolicy): CompiledSecurity {
  let compiled = compiledByDoc.get(doc);
  if (compiled === undefined) compiledByDoc.set(doc, (compiled = compileSecurityPolicy(doc)));
  return compiled;
}

/** One validated SecurityPolicy into what the pipeline (or the Hono middleware) runs. */
export function compileSecurityPolicy(doc: SecurityPolicy): CompiledSecurity {
  const spec = doc.spec;
  return {
    name: `${doc.metadata.namespace}/${doc.metadata.name}`,
    spec,
    authorization: spec.authorization ? new Authorization(spec.authorization.rules) : null,
    dryRun: spec.authorization?.dryRun ?? false,
    forwardedCertificateFrom: spec.clientCertificate && spec.clientCertificate.forwardedCertificateFrom.length > 0 ? new CidrSet(spec.clientCertificate.forwardedCertificateFrom) : null,
  };
}
