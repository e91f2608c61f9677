import { createServer, type Server } from "node:http";
import type { TestProject } from "vitest/node";
import "../shared/provided-context.js";
import { startUpstream, type TestUpstream } from "../support/upstream.js";
import { exportJWK, generateKeyPair } from "jose";
import { startRetrySimulation, type RetrySimulation } from "../support/retry-simulation.js";
import { startWsUpstream, type WsUpstream } from "../support/ws-upstream.js";
import { startStreamUpstream, type StreamUpstream } from "../support/stream-upstream.js";
import { startJwksServer, type JwksServer } from "../support/jwks-server.js";

let upstream: TestUpstream | undefined;
let collector: Server | undefined;
let jwksServer: Server | undefined;
let retrySimulation: RetrySimulation | undefined;
let wsUpstream: WsUpstream | undefined;
let streamUpstream: StreamUpstream | undefined;
let rotatingJwks: JwksServer | undefined;

/**
 * Real loopback servers the Worker under test (in workerd) talks to: an upstream it forwards to,
 * and an OTLP collector that keeps what it receives (GET /received returns it).
 */
export async function setup(project: TestProject): Promise<void> {
  upstream = await startUpstream("node-upstream");
  project.provide("upstreamPort", upstream.port);
  const received: unknown[] = [];
  collector = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/received") return res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(received));
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/v1/traces") received.push(JSON.parse(body));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector!.listen(0, "127.0.0.1", r));
  project.provide("collectorPort", (collector.address() as { port: number }).port);

  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "workers-1", alg: "RS256", use: "sig" }] });
  jwksServer = createServer((_, res) => res.writeHead(200, { "content-type": "application/json" }).end(jwks));
  await new Promise<void>((r) => jwksServer!.listen(0, "127.0.0.1", r));
  project.provide("jwksPort", (jwksServer.address() as { port: number }).port);
  project.provide("jwksPrivateKey", JSON.stringify(await exportJWK(privateKey)));
  retrySimulation = await startRetrySimulation();
  project.provide("retryUpstreamPort", retrySimulation.port);
  wsUpstream = await startWsUpstream();
  project.provide("wsUpstreamPort", wsUpstream.port);
  streamUpstream = await startStreamUpstream();
  project.provide("streamUpstreamPort", streamUpstream.port);
  rotatingJwks = await startJwksServer([]);
  project.provide("rotatingJwksPort", Number(new URL(rotatingJwks.url).port));
}

export async function teardown(): Promise<void> {
  await upstream?.close();
  await new Promise((r) => (collector ? collector.close(r) : r(undefined)));
  await new Promise((r) => (jwksServer ? jwksServer.close(r) : r(undefined)));
  await retrySimulation?.close();
  await wsUpstream?.close();
  await streamUpstream?.close();
  await rotatingJwks?.close();
}
