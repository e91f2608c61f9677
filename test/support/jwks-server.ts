import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";

export interface SigningKey {
  readonly kid: string;
  readonly alg: "RS256" | "ES256";
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function signingKey(kid: string, alg: "RS256" | "ES256" = "RS256"): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/** Signs a token with sensible defaults (1 h expiry); pass claims to override. */
export function sign(key: SigningKey, claims: JWTPayload & { iss: string }, header: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 3600, sub: "alice", ...claims }).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** A JWKS endpoint on loopback whose key set and availability the test controls (in process, or over HTTP). */
export interface JwksServer {
  readonly url: string;
  /** The server's base URL, usable as an issuer with OpenID discovery. */
  readonly issuer: string;
  keys: JWK[];
  /** When true, every request answers 503 (the IdP is down). */
  down: boolean;
  readonly fetches: number;
  close(): Promise<void>;
}

export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  const state = { keys, down: false, fetches: 0 };
  let base = "";
  const server: Server = createServer((req, res) => {
    // Control for tests that run elsewhere (workerd): PUT /keys replaces the set, PUT /down true|false,
    // GET /fetches counts.
    if (req.method === "PUT" && req.url === "/keys") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        state.keys = (JSON.parse(body) as { keys: JWK[] }).keys;
        res.writeHead(204).end();
      });
      return;
    }
    if (req.method === "PUT" && req.url === "/down") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        state.down = body === "true";
        res.writeHead(204).end();
      });
      return;
    }
    if (req.method === "GET" && req.url === "/fetches") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ fetches: state.fetches }));
      return;
    }
    state.fetches++;
    if (state.down) {
      res.writeHead(503).end("down");
      return;
    }
    if (req.url === "/.well-known/openid-configuration") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/.well-known/jwks.json` }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = `${base}/.well-known/jwks.json`;
  return {
    url,
    issuer: base,
    get keys() {
      return state.keys;
    },
    set keys(k) {
      state.keys = k;
    },
    get down() {
      return state.down;
    },
    set down(d) {
      state.down = d;
    },
    get fetches() {
      return state.fetches;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
