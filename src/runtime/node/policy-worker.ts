import { parentPort } from "node:worker_threads";
import { ParseCache } from "../../policy/parse-cache.js";
import { fastYamlValues } from "./fast-yaml.js";
import { PolicyReadState, type ReadRequest } from "./policy-read.js";
import { WireEncoder, wireBatches } from "./policy-wire.js";
import type { WorkerAnswer, WorkerMessage } from "./policy-reader.js";

// The policy worker thread: reads, settles, hashes, parses and validates policy files with a
// cache of parsed documents, and posts the validated set (policy-wire.ts) to the thread that
// compiles and serves. Nothing here runs on the serving thread's event loop.
const state = new PolicyReadState(new ParseCache(fastYamlValues));
const encoder = new WireEncoder();
const port = parentPort!;

port.on("message", (message: WorkerMessage) => {
  if (message.kind === "touched") return state.touched(message.at);
  if (message.kind === "reset") return encoder.reset();
  void answer(message.id, message.request);
});

/**
 * New documents go ahead of the answer in batches: receiving a structured clone runs on the
 * serving thread, and ten thousand routes in one message would hold it for a few hundred ms.
 */
const BATCH = 250;

async function answer(id: number, request: ReadRequest): Promise<void> {
  const read = await state.read(request);
  if (read.kind !== "prepared") return port.postMessage({ id, answer: read });
  const wire = encoder.encode(read.prepared);
  for (const docs of wireBatches(wire.fresh, BATCH)) port.postMessage({ docs });
  const reply: WorkerAnswer = { kind: "prepared", wire: { ...wire, fresh: [] }, modified: read.modified, parsed: read.parsed };
  port.postMessage({ id, answer: reply });
}
