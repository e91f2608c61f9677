import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface Issued {
  readonly cert: string;
  readonly key: string;
}

export interface TestCa extends Issued {
  issue(options: { subject: string; uris?: string[]; dns?: string[]; ips?: string[]; notBefore?: Date; notAfter?: Date; server?: boolean }): Promise<Issued>;
}

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** A certificate authority made in the test, issuing real X.509 certificates (ECDSA P-256). */
export async function createCa(name: string): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 1, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  return {
    cert: caCert.toString("pem"),
    key: pemKey(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)),
    async issue(o) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
      const names: x509.JsonGeneralName[] = [...(o.uris ?? []).map((value) => ({ type: "url" as const, value })), ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value })), ...(o.ips ?? []).map((value) => ({ type: "ip" as const, value }))];
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: o.subject,
        issuer: caCert.subject,
        notBefore: o.notBefore ?? new Date(Date.now() - DAY),
        notAfter: o.notAfter ?? new Date(Date.now() + 10 * DAY),
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([o.server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        ],
      });
      return { cert: cert.toString("pem"), key: pemKey(await webcrypto.subtle.exportKey("pkcs8", leafKeys.privateKey)) };
    },
  };
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString("hex").replace(/^[89a-f]/, "1");
}
