import type { MirrorTarget } from "../compiled-rule.js";
import type { Transport } from "../../upstream/transport.js";
import { pick } from "../../upstream/weighted.js";
import type { GatewayRequest } from "../../http/exchange.js";
import type { Random } from "../../http/runtime-env.js";

export interface MirrorOptions {
  readonly transport: Transport;
  readonly random: Random;
  readonly onError?: ((err: unknown, context: string) => void) | undefined;
  /** Bodies larger than this are not mirrored (the original request must not wait for a copy). */
  readonly maxBodyBytes?: number;
}

/**
 * Gateway API RequestMirror: a copy of the request goes to another backend and its answer
 * is thrown away. A body is mirrored only when it can be held in memory, so the mirror
 * can never slow or break the real request.
 */
export function mirror(options: MirrorOptions): (req: GatewayRequest, targets: readonly MirrorTarget[]) => Promise<void> {
  const { transport, random, onError } = options;
  const maxBody = options.maxBodyBytes ?? 64 * 1024;
  return async function mirrorRequest(req, targets) {
    const chosen = targets.filter((t) => t.backend !== null && t.fraction > 0 && (t.fraction >= 1 || random() < t.fraction));
    if (chosen.length === 0) return;
    if (req.body !== null && !req.body.replayable) {
      req.body = await transport.makeReplayable(req.body, maxBody);
      if (!req.body.replayable) return;
    }
    for (const target of chosen) {
      const endpoint = pick(target.backend!.choose, random);
      if (endpoint === null) continue;
      transport
        .send({
          origin: endpoint.origin,
          tls: target.backend!.tls,
          protocol: target.backend!.protocol,
          connection: target.backend!.connection,
          method: req.method,
          path: req.path + req.query,
          headers: req.headers.clone(),
          body: req.body,
          signal: AbortSignal.timeout(30_000),
        })
        .then((res) => res.body.cancel(), (err: unknown) => onError?.(err, `mirror to ${target.backend!.key}`));
    }
  };
}
