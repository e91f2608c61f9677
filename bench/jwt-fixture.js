// Writes a SecurityPolicy protecting the bench route /jwt (ES256, inline JWKS) into DIR and
// prints a token valid for an hour, so `run.sh` can send it with every /jwt request.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

const dir = process.argv[2];
const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: "bench-1", alg: "ES256" };
writeFileSync(
  join(dir, "jwt.yaml"),
  `apiVersion: meshgate.dev/v1alpha1
kind: SecurityPolicy
metadata: { name: bench-jwt }
spec:
  targetRefs: [{ kind: HTTPRoute, name: bench, sectionName: jwt }]
  jwt:
    providers:
      - name: bench
        issuer: https://bench.meshgate.test
        audiences: [bench]
        localJWKS: { keys: [${JSON.stringify(jwk)}] }
        claimToHeaders: [{ claim: sub, header: x-user }]
`,
);
const token = await new SignJWT({ sub: "bench-user", aud: "bench" }).setIssuer("https://bench.meshgate.test").setIssuedAt().setExpirationTime("1h").setProtectedHeader({ alg: "ES256", kid: "bench-1" }).sign(privateKey);
process.stdout.write(token);
