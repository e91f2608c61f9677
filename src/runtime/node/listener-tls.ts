export interface ListenerTls {
  /** PEM server certificate chain and key. */
  readonly cert: string;
  readonly key: string;
  /** PEM CA bundle client certificates are verified against. */
  readonly clientCa?: string;
  /**
   * strict: the TLS handshake requires a valid client certificate (Istio STRICT).
   * permissive (default with clientCa): a certificate is asked for and verified, but a client
   * without a valid one still connects; policies decide (SecurityPolicy clientCertificate).
   */
  readonly clientAuth?: "strict" | "permissive";
  /** Re-reads the certificate, key and CA; polled every `reloadMs` and applied to new connections when they change. */
  readonly reload?: () => ListenerTls;
  /** Default 10 s. */
  readonly reloadMs?: number;
}
