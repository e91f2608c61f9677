import type { PeerCertificate } from "../../http/principal.js";

/** The fields of `request.cf.tlsClientAuth` meshgate reads (Cloudflare mTLS / API Shield). */
export interface TlsClientAuth {
  readonly certPresented?: string;
  readonly certVerified?: string;
  readonly certSubjectDNRFC2253?: string;
  readonly certSubjectDN?: string;
  readonly certIssuerDNRFC2253?: string;
  readonly certIssuerDN?: string;
  readonly certFingerprintSHA256?: string;
}

/**
 * Cloudflare terminates mTLS and tells the Worker what it saw. It does not pass the SAN list,
 * so on Workers the principal is the subject DN (no SPIFFE ID); see README "Identity on Workers".
 */
export function certificateFromCf(request: Request): PeerCertificate | null {
  const auth = (request as Request & { cf?: { tlsClientAuth?: TlsClientAuth } }).cf?.tlsClientAuth;
  if (!auth || auth.certPresented !== "1") return null;
  const verified = auth.certVerified === "SUCCESS";
  return {
    verified,
    error: verified ? null : (auth.certVerified ?? "not verified"),
    subject: auth.certSubjectDNRFC2253 ?? auth.certSubjectDN ?? "",
    issuer: auth.certIssuerDNRFC2253 ?? auth.certIssuerDN ?? "",
    uris: [],
    fingerprint: (auth.certFingerprintSHA256 ?? "").toLowerCase(),
  };
}
