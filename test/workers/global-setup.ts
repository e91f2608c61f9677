import type { TestProject } from "vitest/node";
import { startUpstream, type TestUpstream } from "../support/upstream.js";

import "../shared/provided-context.js";

let upstream: TestUpstream | undefined;

/** A real Node upstream on loopback that the Worker under test (in workerd) forwards to. */
export async function setup(project: TestProject): Promise<void> {
  upstream = await startUpstream("node-upstream");
  project.provide("upstreamPort", upstream.port);
}

export async function teardown(): Promise<void> {
  await upstream?.close();
}
