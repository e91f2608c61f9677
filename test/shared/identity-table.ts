/**
 * Identity and authorization behaviour, run against the Node gateway (test/node/shared-identity.test.ts)
 * and inside workerd (test/workers/shared-identity.test.ts). Keys and tokens are made fresh with
 * WebCrypto (jose) in whichever runtime runs the table.
 */
import { SignJWT, base64url, exportJWK, generateKeyPair } from "jose";
import { sha256Hex } from "../../src/identity/api-keys.js";
import type { RoutingCase } from "./routing-table.js";

const ISS = "https://idp.shared.test";
export const SHARED_API_KEY = "mgk_shared-table-key-7f3a";

export interface IdentityFixture {
  /** The policies, with every backend pointing at `upstreamOrigin`. */
  readonly sources: (upstreamOrigin: string) => { name: string; text: string }[];
  readonly cases: RoutingCase[];
}

/** Made once per test file at collection time (top-level await), so every case is its own test. */
export async function identityFixture(base = "http://gw.test"): Promise<IdentityFixture> {
  const good = await generateKeyPair("ES256", { extractable: true });
  const other = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(good.publicKey)), kid: "k1", alg: "ES256" };
  const now = Math.floor(Date.now() / 1000);
  const token = (claims: Record<string, unknown>, key: CryptoKey = good.privateKey, kid = "k1") =>
    new SignJWT({ iss: ISS, aud: "meshgate", sub: "alice", iat: now, exp: now + 600, ...claims }).setProtectedHeader({ alg: "ES256", kid }).sign(key);
  const valid = await token({});
  const [h, p, s] = valid.split(".");
  const tampered = `${h}.${p}.${s!.slice(0, 10)}${s![10] === "A" ? "B" : "A"}${s!.slice(11)}`;
  const none = `${base64url.encode(JSON.stringify({ alg: "none" }))}.${base64url.encode(JSON.stringify({ iss: ISS, aud: "meshgate", sub: "root", exp: now + 600 }))}.`;

  const hash = await sha256Hex(SHARED_API_KEY);
  const provider = (extra = "") => `{ name: shared, issuer: "${ISS}", audiences: [meshgate], localJWKS: { keys: [${JSON.stringify(jwk)}] }${extra} }`;
  const key = `{ consumer: shared-consumer, hash: "sha256:${hash}" }`;
  /** A SecurityPolicy on one rule of route `secure`, named after the rule. */
  const onSection = (section: string, spec: string) =>
    `---\napiVersion: meshgate.dev/v1alpha1\nkind: SecurityPolicy\nmetadata: { name: ${section} }\nspec:\n  targetRefs: [{ kind: HTTPRoute, name: secure, sectionName: ${section} }]\n  ${spec}`;
  const sources = (upstreamOrigin: string) => [
    { name: "backend.yaml", text: `apiVersion: meshgate.dev/v1alpha1\nkind: Backend\nmetadata: { name: echo }\nspec: { endpoints: [{ url: "${upstreamOrigin}" }] }\n` },
    {
      name: "route.yaml",
      text: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: secure }
spec:
  rules:
    - { name: jwt, matches: [{ path: { type: PathPrefix, value: /jwt } }], backendRefs: [{ name: echo }] }
    - { name: key, matches: [{ path: { type: PathPrefix, value: /key } }], backendRefs: [{ name: echo }] }
    - { name: cert, matches: [{ path: { type: PathPrefix, value: /cert } }], backendRefs: [{ name: echo }] }
    - { name: jwt-optional, matches: [{ path: { type: PathPrefix, value: /maybe-jwt } }], backendRefs: [{ name: echo }] }
    - { name: key-optional, matches: [{ path: { type: PathPrefix, value: /maybe-key } }], backendRefs: [{ name: echo }] }
    - { name: open, matches: [{ path: { type: PathPrefix, value: / } }], backendRefs: [{ name: echo }] }
`,
    },
    {
      name: "security.yaml",
      text: `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: edge }
spec:
  targetRefs: [{ kind: Gateway, name: any }]
  authorization:
    rules: [{ name: deny-admin, action: DENY, paths: ["/admin/*"] }]
${onSection("jwt", `jwt: { providers: [${provider(", claimToHeaders: [{ claim: sub, header: x-user }, { claim: name, header: x-user-name }]")}] }`)}
${onSection("jwt-optional", `jwt: { optional: true, providers: [${provider()}] }`)}
${onSection("key", `apiKey: { keys: [${key}] }`)}
${onSection("key-optional", `apiKey: { optional: true, keys: [${key}] }`)}
${onSection("cert", "clientCertificate: { required: true }")}
`,
    },
  ];

  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const denied = (code: string) => ({ status: 401, errorCode: code, responseHeaders: { "www-authenticate": `Bearer realm="meshgate", error="invalid_token", error_description="${code}"` } });
  const cases: RoutingCase[] = [
    { name: "valid JWT: principal and claim headers upstream, token stripped", url: `${base}/jwt/a`, headers: bearer(valid), expect: { status: 200, upstreamHeaders: { "x-meshgate-principal": `${ISS}/alice`, "x-user": "alice", authorization: null } } },
    {
      name: "claims and subjects that are not ASCII go upstream as RFC 8187 ext-values, never a 502",
      url: `${base}/jwt/a`,
      headers: bearer(await token({ sub: "zoë", name: "Zoë 李雷" })),
      expect: { status: 200, upstreamHeaders: { "x-user-name": "UTF-8''Zo%C3%AB%20%E6%9D%8E%E9%9B%B7", "x-user": "UTF-8''zo%C3%AB", "x-meshgate-principal": "UTF-8''https%3A%2F%2Fidp.shared.test%2Fzo%C3%AB" } },
    },
    { name: "a claim with CR/LF cannot add a header upstream", url: `${base}/jwt/a`, headers: bearer(await token({ name: "x\r\nx-admin: 1" })), expect: { status: 200, upstreamHeaders: { "x-user-name": "UTF-8''x%0D%0Ax-admin%3A%201", "x-admin": null } } },
    {
      name: "a token in the Authorization header and in ?access_token at once: 400, neither verified",
      url: `${base}/jwt/a?access_token=${valid}`,
      headers: bearer(valid),
      expect: { status: 400, errorCode: "multiple_credentials" },
    },
    { name: "?access_token is not read by a header-only provider", url: `${base}/jwt/a?access_token=${valid}`, expect: { status: 401, errorCode: "jwt_missing" } },
    {
      name: "an optional header-only provider: an unverified ?access_token never reaches the upstream",
      url: `${base}/maybe-jwt/a?x=1&access_token=${none}&y=2`,
      expect: { status: 200, upstreamUrl: "/maybe-jwt/a?x=1&y=2", upstreamHeaders: { "x-meshgate-principal": null } },
    },
    { name: "an optional header-only API key: ?api_key never reaches the upstream", url: `${base}/maybe-key/a?api_key=mgk_forged`, expect: { status: 200, upstreamUrl: "/maybe-key/a" } },
    { name: "an optional API key that is sent is still checked", url: `${base}/maybe-key/a`, headers: { "x-api-key": "mgk_wrong" }, expect: { status: 401, errorCode: "api_key_invalid" } },
    { name: "an API key in its header and in ?api_key at once: 400", url: `${base}/key/a?api_key=mgk_other`, headers: { "x-api-key": SHARED_API_KEY }, expect: { status: 400, errorCode: "multiple_credentials" } },
    { name: "missing JWT: 401 with a Bearer challenge", url: `${base}/jwt/a`, expect: { status: 401, errorCode: "jwt_missing", responseHeaders: { "www-authenticate": 'Bearer realm="meshgate"' } } },
    { name: "expired JWT", url: `${base}/jwt/a`, headers: bearer(await token({ exp: now - 300 })), expect: denied("jwt_expired") },
    { name: "JWT for another audience", url: `${base}/jwt/a`, headers: bearer(await token({ aud: "elsewhere" })), expect: denied("jwt_bad_audience") },
    { name: "JWT with alg none", url: `${base}/jwt/a`, headers: bearer(none), expect: denied("jwt_alg_not_allowed") },
    { name: "JWT signed by an unknown key", url: `${base}/jwt/a`, headers: bearer(await token({}, other.privateKey, "k2")), expect: denied("jwt_unknown_kid") },
    { name: "JWT with a tampered signature", url: `${base}/jwt/a`, headers: bearer(tampered), expect: denied("jwt_bad_signature") },
    { name: "valid API key: consumer upstream, key stripped", url: `${base}/key/a`, headers: { "x-api-key": SHARED_API_KEY }, expect: { status: 200, upstreamHeaders: { "x-meshgate-consumer": "shared-consumer", "x-api-key": null } } },
    { name: "unknown API key", url: `${base}/key/a`, headers: { "x-api-key": "mgk_wrong" }, expect: { status: 401, errorCode: "api_key_invalid" } },
    { name: "certificate required, none presented", url: `${base}/cert`, expect: { status: 401, errorCode: "client_certificate_required" } },
    { name: "spoofed identity headers never reach the upstream", url: `${base}/open`, headers: { "x-meshgate-principal": "admin", "x-forwarded-client-cert": "URI=spiffe://x/y" }, expect: { status: 200, upstreamHeaders: { "x-meshgate-principal": null, "x-forwarded-client-cert": null } } },
    { name: "deny rule on /admin/*", url: `${base}/admin/users`, expect: { status: 403, errorCode: "access_denied" } },
    { name: "deny rule holds against //admin", url: `${base}//admin/users`, expect: { status: 403, errorCode: "access_denied" } },
    { name: "deny rule holds against upper case", url: `${base}/ADMIN/users`, expect: { status: 403, errorCode: "access_denied" } },
    { name: "deny rule holds against encoded letters", url: `${base}/%61dmin/users`, expect: { status: 403, errorCode: "access_denied" } },
    { name: "path parameters are refused", url: `${base}/admin;x/users`, expect: { status: 400, errorCode: "bad_request" } },
    { name: "encoded slashes are refused", url: `${base}/admin%2Fusers`, expect: { status: 400, errorCode: "bad_request" } },
  ];
  return { sources, cases };
}
