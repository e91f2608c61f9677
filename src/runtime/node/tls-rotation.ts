import type { Server } from "node:tls";
import type { ListenerTls } from "./listener-tls.js";
import type { Logger } from "./log.js";

/** Certificate rotation without a restart: new connections get the new certificate, open ones keep theirs. */
export function watchTls(server: Server, initial: ListenerTls, log: Logger): NodeJS.Timeout {
  let current = `${initial.cert}\u0000${initial.key}\u0000${initial.clientCa ?? ""}`;
  const timer = setInterval(() => {
    let next: ListenerTls;
    try {
      next = initial.reload!();
    } catch (err) {
      return log("warn", "TLS files could not be re-read; keeping the current certificate", { error: (err as Error).message });
    }
    const text = `${next.cert}\u0000${next.key}\u0000${next.clientCa ?? ""}`;
    if (text === current) return;
    try {
      server.setSecureContext({ cert: next.cert, key: next.key, ...(next.clientCa ? { ca: next.clientCa } : {}) });
      current = text;
      log("info", "TLS certificate reloaded", {});
    } catch (err) {
      log("error", "new TLS certificate refused; keeping the current one", { error: (err as Error).message });
    }
  }, initial.reloadMs ?? 10_000);
  timer.unref();
  return timer;
}
