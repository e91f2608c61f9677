import * as z from "zod";
import { fieldValueIssue, headerNameSchema } from "../policy/common.js";
import { durationAtMost } from "../policy/duration.js";
import { metadataSchema } from "../policy/meta.js";
import { targetRefSchema } from "../policy/target-ref.js";
import { CidrSet } from "../http/cidr.js";
import { strictObject } from "../policy/strict-object.js";

export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
const SYMMETRIC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;

const lowerHeader = headerNameSchema.transform((h) => h.toLowerCase());
export const ruleNameSchema = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { message: "must be a lower-case DNS label such as auth0 or internal-keys" });

const cidrList = z.array(z.string()).max(1024).superRefine((list, ctx) => {
  list.forEach((cidr, i) => {
    try {
      new CidrSet([cidr]);
    } catch (err) {
      ctx.addIssue({ code: "custom", path: [i], message: (err as Error).message });
    }
  });
});

/** Where a credential is read from; the first place that has one wins. */
const extractFromSchema = strictObject({
    headers: z.array(strictObject({ name: lowerHeader, valuePrefix: z.string().max(64).refine((v) => fieldValueIssue(v, { trimmed: false }) === null, { message: "must be Latin-1 text without control characters" }).default("") })).max(16).default([]),
    cookies: z.array(z.string().min(1).max(256)).max(16).default([]),
    params: z.array(z.string().min(1).max(256)).max(16).default([]),
  })
  .refine((e) => e.headers.length + e.cookies.length + e.params.length > 0, { message: "extractFrom needs at least one header, cookie or param" });

/** A public JWK (RFC 7517/7518 members); private members (d, p, q, ...) have no place in a policy and are refused. */
const jwkSchema = strictObject({
  kty: z.string(),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
  key_ops: z.array(z.string()).max(16).optional(),
  n: z.string().optional(),
  e: z.string().optional(),
  crv: z.string().optional(),
  x: z.string().optional(),
  y: z.string().optional(),
  k: z.string().optional(),
  ext: z.boolean().optional(),
  x5u: z.string().optional(),
  x5c: z.array(z.string()).max(16).optional(),
  x5t: z.string().optional(),
  "x5t#S256": z.string().optional(),
});

const name = ruleNameSchema;

const jwtProviderSchema = strictObject({
    name,
    issuer: z.string().min(1),
    /** Empty: the `aud` claim is not checked. */
    audiences: z.array(z.string().min(1)).max(64).default([]),
    remoteJWKS: strictObject({
        /** Absent: OpenID Connect discovery (`<issuer>/.well-known/openid-configuration` names the jwks_uri), as Istio does. */
        uri: z.url({ protocol: /^https?$/, message: "must be an http(s) URL" }).optional(),
        /** PEM CA bundle for the JWKS host (Node only; Workers use the platform's roots). */
        ca: z.string().optional(),
        timeout: durationAtMost(60_000).default(5_000),
        /** A key set older than this is refreshed in the background; requests keep using it meanwhile. */
        cacheDuration: durationAtMost(86_400_000).default(300_000),
        /** An unknown `kid` triggers a refetch at most this often, so forged kids cannot flood the JWKS host. */
        minRefetchInterval: durationAtMost(3_600_000).default(15_000),
      })
      .optional(),
    localJWKS: strictObject({ keys: z.array(jwkSchema).min(1).max(64) }).optional(),
    /** Keys as PEM (SPKI public keys) or, for HS*, a base64url shared secret; `kid` selects one when tokens name it. */
    localKeys: z
      .array(
        strictObject({ kid: z.string().min(1).optional(), alg: z.enum([...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS]), pem: z.string().includes("-----BEGIN PUBLIC KEY-----", { message: "must be a PEM public key (-----BEGIN PUBLIC KEY-----)" }).optional(), secret: z.string().min(32, { message: "a shared secret needs at least 32 characters (256 bits base64url)" }).optional() })
          .refine((k) => (k.pem === undefined) !== (k.secret === undefined), { message: "give pem or secret" })
          .refine((k) => (k.secret !== undefined) === k.alg.startsWith("HS"), { message: "HS* algorithms take a secret; the others a pem public key", path: ["alg"] }),
      )
      .min(1)
      .max(64)
      .optional(),
    /** Accepted `alg` values. Default: asymmetric algorithms only (HS* must be listed explicitly, with local keys). */
    algorithms: z.array(z.enum([...ASYMMETRIC_ALGORITHMS, ...SYMMETRIC_ALGORITHMS])).min(1).max(13).default([...ASYMMETRIC_ALGORITHMS]),
    /** Default: `Authorization: Bearer <token>`. */
    extractFrom: extractFromSchema.optional(),
    clockSkew: durationAtMost(600_000).default(30_000),
    /** Every listed claim must be present and, when `values` is given, hold one of them (strings split on spaces, arrays by element). */
    requiredClaims: z.array(strictObject({ name: z.string().min(1), values: z.array(z.string()).min(1).max(256).optional() })).max(64).default([]),
    /** Tokens must carry `exp` (401 jwt_exp_missing otherwise); true accepts tokens that never expire. */
    allowMissingExpiration: z.boolean().default(false),
    /** Claims copied to request headers for the upstream (strings as is, other values as JSON). */
    claimToHeaders: z.array(strictObject({ claim: z.string().min(1), header: lowerHeader })).max(64).default([]),
    /** Send the original token upstream. Default false: it is removed. */
    forwardToken: z.boolean().default(false),
    maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192),
  })
  .superRefine((p, ctx) => {
    if (p.remoteJWKS && p.remoteJWKS.uri === undefined && !/^https?:\/\/[^/]/.test(p.issuer)) ctx.addIssue({ code: "custom", path: ["remoteJWKS", "uri"], message: "without a uri the key set is found by OpenID discovery from the issuer, which must then be an http(s) URL" });
    const sources = [p.remoteJWKS, p.localJWKS, p.localKeys].filter((x) => x !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: "custom", path: ["remoteJWKS"], message: "a provider needs exactly one of remoteJWKS, localJWKS or localKeys" });
    const symmetric = p.algorithms.filter((a) => a.startsWith("HS"));
    if (symmetric.length > 0 && p.remoteJWKS !== undefined) ctx.addIssue({ code: "custom", path: ["algorithms"], message: `${symmetric.join(", ")} need a shared secret: use localJWKS or localKeys, never a remote key set` });
  });

const SHA256_ENTRY = /^sha256:[0-9a-f]{64}$/;

const apiKeySchema = strictObject({
  /** Default: the `x-api-key` header. */
  extractFrom: extractFromSchema.optional(),
  keys: z
    .array(
      strictObject({
        consumer: z.string().min(1).max(253),
        /** `sha256:<hex>` of the key; the key itself is never stored (see `meshgate apikey create`). */
        hash: z.string().regex(SHA256_ENTRY, { message: 'must be "sha256:" followed by 64 lower-case hex digits' }),
        metadata: z.record(z.string(), z.string()).default({}),
        expiresAt: z.iso.datetime({ offset: true }).optional(),
      }),
    )
    // Larger key sets belong in the key store (keyStore: true), looked up one by one.
    .max(10_000)
    .default([]),
  /** Also look keys up one by one in the deployment's key store (KV binding API_KEYS / Redis), for large key sets. */
  keyStore: z.boolean().default(false),
  forwardKey: z.boolean().default(false),
});

const clientCertificateSchema = strictObject({
  /** Without a verified client certificate the request answers 401. */
  required: z.boolean().default(true),
  /** Peers (proxies that terminate TLS) whose x-forwarded-client-cert header is believed. Default: nobody. */
  forwardedCertificateFrom: cidrList.default([]),
});

const claimMatchSchema = strictObject({ name: z.string().min(1), values: z.array(z.string()).min(1).max(1024) });
const headerMatchSchema = strictObject({ name: lowerHeader, values: z.array(z.string()).min(1).max(1024) });

/** Request conditions shared by authorization and rate-limit rules. */
export const requestConditionFields = {
  /** All present fields must match (AND); within a list any value matches (OR). */
  authenticated: z.boolean().optional(),
  /** Principal ids (JWT `iss/sub`, API-key consumer, certificate SPIFFE ID or subject); `*` wildcards allowed. */
  principals: z.array(z.string().min(1)).max(1024).optional(),
  consumers: z.array(z.string().min(1)).max(1024).optional(),
  /** API-key consumer metadata that must all be present, e.g. `{ tier: gold }`. */
  consumerMetadata: z.record(z.string(), z.string()).optional(),
  claims: z.array(claimMatchSchema).max(64).optional(),
  sourceCIDRs: cidrList.optional(),
  methods: z.array(z.string().regex(/^[A-Z]+$/, { message: "must be an upper-case HTTP method" })).max(16).optional(),
  /** Normalized paths: exact, or a prefix ending in `/*`. */
  paths: z.array(z.string().startsWith("/")).max(1024).optional(),
  hosts: z.array(z.string().min(1).transform((h) => h.toLowerCase())).max(1024).optional(),
  headers: z.array(headerMatchSchema).max(64).optional(),
};

const CONDITION_FIELDS = Object.keys(requestConditionFields);

const authorizationRuleSchema = strictObject({
  name,
  action: z.enum(["ALLOW", "DENY"]),
  /**
   * `any`: the rule holds for every request. Required when the rule has no condition, so a rule
   * that matches everything is always written on purpose and never what a typo left behind.
   */
  match: z.literal("any", { message: 'match takes only the value "any" (a rule for every request)' }).optional(),
  ...requestConditionFields,
}).superRefine((rule, ctx) => {
  const conditions = CONDITION_FIELDS.filter((f) => rule[f as keyof typeof rule] !== undefined);
  if (conditions.length === 0 && rule.match === undefined) {
    ctx.addIssue({ code: "custom", path: [], message: `rule ${rule.name} has no condition, so it would hold for every request: add conditions (${CONDITION_FIELDS.join(", ")}) or write match: any` });
  }
  if (conditions.length > 0 && rule.match !== undefined) {
    ctx.addIssue({ code: "custom", path: ["match"], message: `match: any holds for every request and cannot be combined with conditions (${conditions.join(", ")})` });
  }
});

/** Header names the gateway writes for the upstream; the client's own copies are removed first. */
const upstreamHeadersSchema = strictObject({
    principal: lowerHeader.nullable().default("x-meshgate-principal"),
    consumer: lowerHeader.nullable().default("x-meshgate-consumer"),
    certificate: lowerHeader.nullable().default("x-meshgate-client-cert-id"),
  })
  .default({ principal: "x-meshgate-principal", consumer: "x-meshgate-consumer", certificate: "x-meshgate-client-cert-id" });

/** meshgate.dev/v1alpha1 SecurityPolicy: who is calling (identity) and may they (authorization). */
export const securityPolicySchema = strictObject({
  apiVersion: z.literal("meshgate.dev/v1alpha1"),
  kind: z.literal("SecurityPolicy"),
  metadata: metadataSchema,
  spec: strictObject({
      targetRefs: z.array(targetRefSchema).min(1, { message: "a SecurityPolicy needs at least one targetRef" }).max(16),
      jwt: strictObject({
          providers: z.array(jwtProviderSchema).min(1).max(16),
          /** A request without a token passes on (unauthenticated) instead of 401; a bad token is still 401. */
          optional: z.boolean().default(false),
        })
        .optional(),
      apiKey: apiKeySchema.extend({ optional: z.boolean().default(false) }).optional(),
      clientCertificate: clientCertificateSchema.optional(),
      authorization: strictObject({
          rules: z.array(authorizationRuleSchema).min(1).max(256),
          /** Decisions are logged and counted, never enforced. */
          dryRun: z.boolean().default(false),
        })
        .optional(),
      upstreamHeaders: upstreamHeadersSchema,
    })
    .superRefine((spec, ctx) => {
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
    }),
});

export type SecurityPolicy = z.output<typeof securityPolicySchema>;
export type JwtProviderSpec = NonNullable<SecurityPolicy["spec"]["jwt"]>["providers"][number];
export type ApiKeySpec = NonNullable<SecurityPolicy["spec"]["apiKey"]>;
export type AuthorizationRuleSpec = NonNullable<SecurityPolicy["spec"]["authorization"]>["rules"][number];
export type ExtractFrom = z.output<typeof extractFromSchema>;
