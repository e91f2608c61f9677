import type { TLSSocket } from "node:tls";
import type { Socket } from "node:net";
import type { PeerCertificate } from "../../http/principal.js";

const PEER = Symbol("meshgate.peerCertificate");
type CertSocket = Socket & { [PEER]?: PeerCertificate | null };

/** The client certificate of a TLS connection, read once per connection (a connection has one). */
export function peerCertificate(socket: Socket): PeerCertificate | null {
  const s = socket as CertSocket;
  if (s[PEER] !== undefined) return s[PEER];
  const tls = socket as TLSSocket;
  let cert: PeerCertificate | null = null;
  const x509 = typeof tls.getPeerX509Certificate === "function" ? tls.getPeerX509Certificate() : undefined;
  if (x509 !== undefined) {
    const authError = tls.authorizationError;
    cert = {
      verified: tls.authorized === true,
      error: tls.authorized ? null : String((authError as unknown as { code?: string } | undefined)?.code ?? authError ?? "not verified"),
      subject: distinguishedName(x509.subject),
      issuer: distinguishedName(x509.issuer),
      uris: (x509.subjectAltName ?? "")
        .split(", ")
        .filter((n) => n.startsWith("URI:"))
        .map((n) => n.slice(4)),
      fingerprint: x509.fingerprint256.replaceAll(":", "").toLowerCase(),
    };
  }
  s[PEER] = cert;
  return cert;
}

/**
 * Makes `request.peerCertificate` the client certificate of `socket`, read when first asked for:
 * on a listener that verifies client certificates most requests never look at it (no
 * SecurityPolicy asks), and reading one costs an X509 object, a SHA-256 and four strings.
 */
export function lazyPeerCertificate<T extends { readonly peerCertificate?: PeerCertificate | null }>(request: T, socket: Socket): T {
  return Object.defineProperty(request, "peerCertificate", { get: () => peerCertificate(socket), enumerable: true });
}

/** Node prints one attribute per line, most significant first; RFC 2253 lists them the other way, comma separated. */
function distinguishedName(lines: string): string {
  return lines.split("\n").filter(Boolean).reverse().join(",");
}
