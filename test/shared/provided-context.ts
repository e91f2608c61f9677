// Values the vitest global setup hands to test projects (the Workers pool reads them in vitest.config.ts).
declare module "vitest" {
  export interface ProvidedContext {
    upstreamPort: number;
    collectorPort: number;
    /** A JWKS endpoint on loopback (GET /jwks.json) and the private key (JWK) that signs for it. */
    jwksPort: number;
    jwksPrivateKey: string;
    /** The Gateway API retry simulation backend (test/support/retry-simulation.ts). */
    retryUpstreamPort: number;
    /** A WebSocket echo server (test/support/ws-upstream.ts). */
    wsUpstreamPort: number;
    /** Server-sent events and streaming uploads (test/support/stream-upstream.ts). */
    streamUpstreamPort: number;
    /** A JWKS endpoint whose key set a test replaces with PUT /keys (test/support/jwks-server.ts). */
    rotatingJwksPort: number;
  }
}
export {};
