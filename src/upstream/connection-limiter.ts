import type { ConnectionPolicy } from "./transport.js";

/**
 * Requests one endpoint may hold at once: `capacity` in service (HTTP/1.1: one per connection,
 * so maxConnections; HTTP/2: maxConnections × streams per connection) plus `maxPendingRequests`
 * waiting for one (the pool queues them). Past that a transport refuses with "overloaded"
 * before sending anything, so a slow endpoint cannot collect an unbounded queue (Envoy's
 * max_connections + max_pending_requests).
 */
export class ConnectionLimiter {
  private active = 0;
  private readonly limit: number;

  constructor(policy: ConnectionPolicy, streamsPerConnection = 1) {
    this.limit = policy.maxConnections === null ? Number.POSITIVE_INFINITY : policy.maxConnections * streamsPerConnection + policy.maxPendingRequests;
  }

  /** Null when unlimited: no bookkeeping on the hot path. */
  static for(policy: ConnectionPolicy, streamsPerConnection = 1): ConnectionLimiter | null {
    return policy.maxConnections === null ? null : new ConnectionLimiter(policy, streamsPerConnection);
  }

  /** Takes a slot; false when the endpoint's connections and queue are full. */
  tryAcquire(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  release(): void {
    if (this.active > 0) this.active--;
  }

  get inUse(): number {
    return this.active;
  }
}
