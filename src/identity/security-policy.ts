import * as z from "../policy/zod.js";
import { fieldValueIssue, headerNameSchema } from "../policy/common.js";
import { durationAtMost } from "../policy/duration.js";
import { metadataSchema } from "../policy/meta.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { CidrSet } from "../http/cidr.js";
import { strictObject } from "../policy/strict-object.js";

export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
const SYMMETRIC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;

const lowerHeader = z.pipe(headerNameSchema, z.transform((h) => h.toLowerCase()));
export const ruleNameSchema = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: "must be a lower-case DNS label such as auth0 or internal-keys" }));

const cidrList = z.array(z.string()).check(z.maxLength(1024), z.superRefine((list, ctx) => {
  list.forEach((cidr, i) => {
    try {
      new CidrSet([cidr]);
    } catch (err) {
      ctx.addIssue({ code: "custom", path: [i], message: (err as Error).message });
    }
  });
}));

/** Where a credential is read from; the first place that has one wins. */
const extractFromSchema = strictObject({
    headers: z._default(z.array(strictObject({ name: lowerHeader, valuePrefix: z._default(z.string().check(z.maxLength(64), z.refine((v) => fieldValueIssue(v, { trimmed: false }) === null, { message: "must be Latin-1 text without control characters" })), "") })).check(z.maxLength(16)), []),
    cookies: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.maxLength(16)), []),
    params: z._default(z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.maxLength(16)), []),
  }).check(z.refine((e) => e.headers.length + e.cookies.length + e.params.length > 0, { message: "extractFrom needs at least one header, cookie or param" }));

/** A public JWK (RFC 7517/7518 members); private members (d, p, q, ...) have no place in a policy and are refused. */
const jwkSchema = strictObject({
  kty: z.string(),
  kid: z.optional(z.string()),
  alg: z.optional(z.string()),
  use: z.optional(z.string()),
  key_ops: z.optional(z.array(z.string()).check(z.maxLength(16))),
  n: z.optional(z.string()),
  e: z.optional(z.string()),
  crv: z.optional(z.string()),
  x: z.optional(z.string()),
  y: z.optional(z.string()),
  k: z.optional(z.string()),
  ext: z.optional(z.boolean()),
  x5u: z.optional(z.string()),
  x5c: z.optional(z.array(z.string()).check(z.maxLength(16))),
  x5t: z.optional(z.string()),
  "x5t#S256": z.optional(z.string()),
});

const name = ruleNameSchema;

const jwtProviderSchema = strictObject({
    name,
    issuer: z.string().check(z.minLength(1)),
    /** Empty: the `aud` claim is not checked. */
    audiences: z._default(z.array(z.string().check(z.minLength(1))).check(z.maxLength(64)), []),
    remoteJWKS: z.optional(strictObject({
        /** Absent: OpenID Connect discovery (`<issuer>/.well-known/openid-configuration` names the jwks_uri), as Istio does. */
        uri: z.optional(z.url({ protocol: /^https?$/, message: "must be an http(s) URL" })),
        /** PEM CA bundle for the JWKS host (Node only; Workers use the platform's roots). */
        ca: z.optional(z.string()),
        timeout: z._default(durationAtMost(60_000), 5_000),
        /** A key set older than this is refreshed in the background; requests keep using it meanwhile. */
        cacheDuration: z._default(durationAtMost(86_400_000), 300_000),
        /** An unknown `kid` triggers a refetch at most this often, so forged kids cannot flood the JWKS host. */
        minRefetchInterval: z._default(durationAtMost(3_600_000), 15_000),
      })),
    localJWKS: z.optional(strictObject({ keys: z.array(jwkSchema).check(z.minLength(1), z.maxLength(64)) })),
    /** Keys as PEM (SPKI public keys) or, for HS*, a base64url shared secret; `kid` selects one when tokens name it. */
    localKeys: z.optional(z.array(
        strictObject({ kid: z.optional(z.string().check(z.minLength(1))), alg: z.enum([...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS]), pem: z.optional(z.string().check(z.includes("-----BEGIN PUBLIC KEY-----", { message: "must be a PEM public key (-----BEGIN PUBLIC KEY-----)" }))), secret: z.optional(z.string().check(z.minLength(32, { message: "a shared secret needs at least 32 characters (256 bits base64url)" }))) }).check(z.refine((k) => (k.pem === undefined) !== (k.secret === undefined), { message: "give pem or secret" }), z.refine((k) => (k.secret !== undefined) === k.alg.startsWith("HS"), { message: "HS* algorithms take a secret; the others a pem public key", path: ["alg"] })),
      ).check(z.minLength(1), z.maxLength(64))),
    /** Accepted `alg` values. Default: asymmetric algorithms only (HS* must be listed explicitly, with local keys). */
    algorithms: z._default(z.array(z.enum([...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS])).check(z.minLength(1), z.maxLength(13)), [...ASYMMETRIC_ALGORITHMS]),
    /** Default: `Authorization: Bearer <token>`. */
    extractFrom: z.optional(extractFromSchema),
    clockSkew: z._default(durationAtMost(600_000), 30_000),
    /** Every listed claim must be present and, when `values` is given, hold one of them (strings split on spaces, arrays by element). */
    requiredClaims: z._default(z.array(strictObject({ name: z.string().check(z.minLength(1)), values: z.optional(z.array(z.string()).check(z.minLength(1), z.maxLength(256))) })).check(z.maxLength(64)), []),
    /** Tokens must carry `exp` (401 jwt_exp_missing otherwise); true accepts tokens that never expire. */
    allowMissingExpiration: z._default(z.boolean(), false),
    /** Claims copied to request headers for the upstream (strings as is, other values as JSON). */
    claimToHeaders: z._default(z.array(strictObject({ claim: z.string().check(z.minLength(1)), header: lowerHeader })).check(z.maxLength(64)), []),
    /** Send the original token upstream. Default false: it is removed. */
    forwardToken: z._default(z.boolean(), false),
    maxTokenBytes: z._default(z.number().check(z.int(), z.gte(256), z.lte(65_536)), 8_192),
  }).check(z.superRefine((p, ctx) => {
    if (p.remoteJWKS && p.remoteJWKS.uri === undefined && !/^https?:\/\/[^/]/.test(p.issuer)) ctx.addIssue({ code: "custom", path: ["remoteJWKS", "uri"], message: "without a uri the key set is found by OpenID discovery from the issuer, which must then be an http(s) URL" });
    const sources = [p.remoteJWKS, p.localJWKS, p.localKeys].filter((x) => x !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: "custom", path: ["remoteJWKS"], message: "a provider needs exactly one of remoteJWKS, localJWKS or localKeys" });
    const symmetric = p.algorithms.filter((a) => a.startsWith("HS"));
    if (symmetric.length > 0 && p.remoteJWKS !== undefined) ctx.addIssue({ code: "custom", path: ["algorithms"], message: `${symmetric.join(", ")} need a shared secret: use localJWKS or localKeys, never a remote key set` });
  }));

const SHA256_ENTRY = /^sha256:[0-9a-f]{64}$/;

const apiKeySchema = strictObject({
  /** Default: the `x-api-key` header. */
  extractFrom: z.optional(extractFromSchema),
  // Larger key sets belong in the key store (keyStore: true), looked up one by one.
  keys: z._default(z.array(
      strictObject({
        consumer: z.string().check(z.minLength(1), z.maxLength(253)),
        /** `sha256:<hex>` of the key; the key itself is never stored (see `meshgate apikey create`). */
        hash: z.string().check(z.regex(SHA256_ENTRY, { message: 'must be "sha256:" followed by 64 lower-case hex digits' })),
        metadata: z._default(z.record(z.string(), z.string()), {}),
        expiresAt: z.optional(z.iso.datetime({ offset: true })),
      }),
    ).check(z.maxLength(10_000)), []),
  /** Also look keys up one by one in the deployment's key store (KV binding API_KEYS / Redis), for large key sets. */
  keyStore: z._default(z.boolean(), false),
  forwardKey: z._default(z.boolean(), false),
});

const clientCertificateSchema = strictObject({
  /** Without a verified client certificate the request answers 401. */
  required: z._default(z.boolean(), true),
  /** Peers (proxies that terminate TLS) whose x-forwarded-client-cert header is believed. Default: nobody. */
  forwardedCertificateFrom: z._default(cidrList, []),
});

const claimMatchSchema = strictObject({ name: z.string().check(z.minLength(1)), values: z.array(z.string()).check(z.minLength(1), z.maxLength(1024)) });
const headerMatchSchema = strictObject({ name: lowerHeader, values: z.array(z.string()).check(z.minLength(1), z.maxLength(1024)) });

/** Request conditions shared by authorization and rate-limit rules. */
export const requestConditionFields = {
  /** All present fields must match (AND); within a list any value matches (OR). */
  authenticated: z.optional(z.boolean()),
  /** Principal ids (JWT `iss/sub`, API-key consumer, certificate SPIFFE ID or subject); `*` wildcards allowed. */
  principals: z.optional(z.array(z.string().check(z.minLength(1))).check(z.maxLength(1024))),
  consumers: z.optional(z.array(z.string().check(z.minLength(1))).check(z.maxLength(1024))),
  /** API-key consumer metadata that must all be present, e.g. `{ tier: gold }`. */
  consumerMetadata: z.optional(z.record(z.string(), z.string())),
  claims: z.optional(z.array(claimMatchSchema).check(z.maxLength(64))),
  sourceCIDRs: z.optional(cidrList),
  methods: z.optional(z.array(z.string().check(z.regex(/^[A-Z]+$/, { message: "must be an upper-case HTTP method" }))).check(z.maxLength(16))),
  /** Normalized paths: exact, or a prefix ending in `/*`. */
  paths: z.optional(z.array(z.string().check(z.startsWith("/"))).check(z.maxLength(1024))),
  hosts: z.optional(z.array(z.pipe(z.string().check(z.minLength(1)), z.transform((h) => h.toLowerCase()))).check(z.maxLength(1024))),
  headers: z.optional(z.array(headerMatchSchema).check(z.maxLength(64))),
};

const CONDITION_FIELDS = Object.keys(requestConditionFields);

const authorizationRuleSchema = strictObject({
  name,
  action: z.enum(["ALLOW", "DENY"]),
  /**
   * `any`: the rule holds for every request. Required when the rule has no condition, so a rule
   * that matches everything is always written on purpose and never what a typo left behind.
   */
  match: z.optional(z.literal("any", { message: 'match takes only the value "any" (a rule for every request)' })),
  ...requestConditionFields,
}).check(z.superRefine((rule, ctx) => {
  const conditions = CONDITION_FIELDS.filter((f) => rule[f as keyof typeof rule] !== undefined);
  if (conditions.length === 0 && rule.match === undefined) {
    ctx.addIssue({ code: "custom", path: [], message: `rule ${rule.name} has no condition, so it would hold for every request: add conditions (${CONDITION_FIELDS.join(", ")}) or write match: any` });
  }
  if (conditions.length > 0 && rule.match !== undefined) {
    ctx.addIssue({ code: "custom", path: ["match"], message: `match: any holds for every request and cannot be combined with conditions (${conditions.join(", ")})` });
  }
}));

/** Header names the gateway writes for the upstream; the client's own copies are removed first. */
const upstreamHeadersSchema = z._default(strictObject({
    principal: z._default(z.nullable(lowerHeader), "x-meshgate-principal"),
    consumer: z._default(z.nullable(lowerHeader), "x-meshgate-consumer"),
    certificate: z._default(z.nullable(lowerHeader), "x-meshgate-client-cert-id"),
  }), { principal: "x-meshgate-principal", consumer: "x-meshgate-consumer", certificate: "x-meshgate-client-cert-id" });

/** meshgate.dev/v1alpha1 SecurityPolicy: who is calling (identity) and may they (authorization). */
export const securityPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("SecurityPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
      targetRefs: z.array(targetRefSchema).check(z.minLength(1, { message: "a SecurityPolicy needs at least one targetRef" }), z.maxLength(16)),
      jwt: z.optional(strictObject({
          providers: z.array(jwtProviderSchema).check(z.minLength(1), z.maxLength(16)),
          /** A request without a token passes on (unauthenticated) instead of 401; a bad token is still 401. */
          optional: z._default(z.boolean(), false),
        })),
      apiKey: z.optional(z.extend(apiKeySchema, { optional: z._default(z.boolean(), false) })),
      clientCertificate: z.optional(clientCertificateSchema),
      authorization: z.optional(strictObject({
          rules: z.array(authorizationRuleSchema).check(z.minLength(1), z.maxLength(256)),
          /** Decisions are logged and counted, never enforced. */
          dryRun: z._default(z.boolean(), false),
        })),
      upstreamHeaders: upstreamHeadersSchema,
    }).check(z.superRefine((spec, ctx) => {
      const names = new Set<string>();
      spec.jwt?.providers.forEach((p, i) => {
        if (names.has(p.name)) ctx.addIssue({ code: "custom", path: ["jwt", "providers", i, "name"], message: `duplicate provider name ${p.name}` });
        names.add(p.name);
      });
      const rules = new Set<string>();
      spec.authorization?.rules.forEach((r, i) => {
        if (rules.has(r.name)) ctx.addIssue({ code: "custom", path: ["authorization", "rules", i, "name"], message: `duplicate rule name ${r.name}` });
        rules.add(r.name);
      });
      if (!spec.jwt && !spec.apiKey && !spec.clientCertificate && !spec.authorization) ctx.addIssue({ code: "custom", path: [], message: "a SecurityPolicy needs at least one of jwt, apiKey, clientCertificate or authorization" });
    })),
});

export type SecurityPolicy = z.output<typeof securityPolicySchema>;
export type JwtProviderSpec = NonNullable<SecurityPolicy["spec"]["jwt"]>["providers"][number];
export type ApiKeySpec = NonNullable<SecurityPolicy["spec"]["apiKey"]>;
export type AuthorizationRuleSpec = NonNullable<SecurityPolicy["spec"]["authorization"]>["rules"][number];
export type ExtractFrom = z.output<typeof extractFromSchema>;
