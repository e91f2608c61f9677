import type { FaultPolicy } from "./policies.js";
import type { GatewayRequest, GatewayResponse } from "../http/exchange.js";
import { HeaderList } from "../http/header-list.js";
import type { Clock, Random } from "../http/runtime-env.js";

/**
 * Fault injection for chaos testing: delay and/or abort a share of requests, or only those
 * carrying the policy's header. Returns the abort response, or null to carry on.
 */
export async function injectFault(fault: FaultPolicy, req: GatewayRequest, clock: Clock, random: Random, signal?: AbortSignal): Promise<GatewayResponse | null> {
  if (fault.header !== null && !req.headers.has(fault.header)) return null;
  if (fault.delay !== null && random() < fault.delay.fraction) await clock.sleep(fault.delay.ms, signal);
  if (fault.abort !== null && random() < fault.abort.fraction) {
    const body = JSON.stringify({ error: { code: "fault_injected", message: `fault injection aborted the request with ${fault.abort.status}` } });
    return { status: fault.abort.status, headers: new HeaderList(["content-type", "application/json", "x-meshgate-flags", "FI"]), body };
  }
  return null;
}
