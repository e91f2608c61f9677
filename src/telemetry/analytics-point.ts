import type { RequestOutcome } from "./request-outcome.js";

/**
 * One Workers Analytics Engine data point per request. Blobs (strings) and doubles keep a fixed
 * order so SQL over the dataset can name them: blob1 route, blob2 backend, blob3 status code,
 * blob4 response flags, blob5 config version; double1 duration ms, double2 response bytes,
 * double3 upstream attempts. Indexed by route (the sampling key).
 */
export function analyticsPoint(o: RequestOutcome): { blobs: string[]; doubles: number[]; indexes: string[] } {
  const route = o.routeId ?? "";
  return {
    indexes: [route.slice(0, 96)],
    blobs: [route, o.backend ?? "", String(o.response.status), o.flags, o.snapshot.version],
    doubles: [o.endTime - o.request.startTime, o.responseBytes ?? 0, o.forward.attempts],
  };
}
