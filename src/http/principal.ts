/** What a runtime learned about the client certificate of the TLS connection (or a trusted XFCC header). */
export interface PeerCertificate {
  /** True when the chain verified against the configured client CAs and the certificate is in date. */
  readonly verified: boolean;
  /** Why verification failed (e.g. CERT_HAS_EXPIRED), or null. */
  readonly error: string | null;
  /** Subject distinguished name, RFC 2253 style (`CN=client,O=acme`). */
  readonly subject: string;
  readonly issuer: string;
  /** URI subject alternative names; a SPIFFE ID is one of them. */
  readonly uris: readonly string[];
  /** SHA-256 fingerprint, lower-case hex without separators. */
  readonly fingerprint: string;
}

export interface CertificateIdentity {
  /** The SPIFFE ID when the certificate has one, else the subject. */
  readonly id: string;
  readonly spiffeId: string | null;
  readonly subject: string;
  readonly fingerprint: string;
  /** "tls" when the gateway verified it; "xfcc" when a trusted proxy forwarded it. */
  readonly source: "tls" | "xfcc";
}

/** One caller, however it proved who it is; authorization and rate limits key on this. */
export interface Principal {
  /** JWT `iss/sub`, else API-key consumer, else certificate id. */
  readonly id: string;
  readonly kind: "jwt" | "apiKey" | "certificate";
  readonly jwt: { readonly provider: string; readonly issuer: string; readonly subject: string; readonly claims: Readonly<Record<string, unknown>> } | null;
  readonly consumer: { readonly name: string; readonly metadata: Readonly<Record<string, string>> } | null;
  readonly certificate: CertificateIdentity | null;
}
