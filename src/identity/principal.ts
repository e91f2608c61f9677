import { CertificateIdentity, PeerCertificate, Principal } from "../http/principal.js";

export function certificateIdentity(cert: PeerCertificate, source: "tls" | "xfcc"): CertificateIdentity {
  const spiffeId = cert.uris.find((u) => u.startsWith("spiffe://")) ?? null;
  return { id: spiffeId ?? cert.subject, spiffeId, subject: cert.subject, fingerprint: cert.fingerprint, source };
}

/** `iss/sub` with one `/` between: issuers are often written with a trailing slash (`https://idp.example.com/`). */
export function jwtPrincipalId(issuer: string, subject: string): string {
  return `${issuer.replace(/\/+$/, "")}/${subject}`;
}

export function combinePrincipal(jwt: Principal["jwt"], consumer: Principal["consumer"], certificate: CertificateIdentity | null): Principal | null {
  if (jwt) return { id: jwtPrincipalId(jwt.issuer, jwt.subject), kind: "jwt", jwt, consumer, certificate };
  if (consumer) return { id: consumer.name, kind: "apiKey", jwt, consumer, certificate };
  if (certificate) return { id: certificate.id, kind: "certificate", jwt, consumer, certificate };
  return null;
}
