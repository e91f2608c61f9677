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

/** Node prints one attribute per line, most significant first; RFC 2253 lists them the other way, comma separated. */
function distinguishedName(lines: string): string {
  return lines.split("\n").filter(Boolean).reverse().join(",");
}
