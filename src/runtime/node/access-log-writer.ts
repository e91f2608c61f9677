import { createWriteStream } from "node:fs";
import type { RequestOutcome } from "../../telemetry/request-outcome.js";
import { accessLogEntry } from "../../telemetry/access-log.js";

/** A writer of access-log lines, or null when logging is off. */
export function openAccessLog(target: string): ((o: RequestOutcome) => void) | null {
  if (target === "off") return null;
  const out = target === "stdout" ? process.stdout : createWriteStream(target, { flags: "a" });
  return (o) => {
    const wallStart = Date.now() - (performance.now() - o.request.startTime);
    out.write(`${JSON.stringify(accessLogEntry(o, wallStart))}\n`);
  };
}
