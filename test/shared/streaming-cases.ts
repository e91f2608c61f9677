/**
 * Streaming behaviour, checked the same way on Node (test/node/streaming.test.ts) and in workerd
 * (test/workers/streaming.test.ts) against test/support/stream-upstream.ts. Every check is
 * causal where it can be (the upstream waits for the client), so a gateway that buffers fails
 * by never delivering, not by being a few milliseconds slow.
 */

type Send = (url: string, init?: RequestInit) => Promise<Response>;

/** The route both runtimes serve the cases on: /bounded has timeouts.request 300ms, the rest none (Backend `events`). */
export const EVENTS_ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: events }
spec:
  rules:
    - matches: [{ path: { value: /bounded } }]
      timeouts: { request: 300ms }
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /events } } }]
      backendRefs: [{ name: events }]
    - backendRefs: [{ name: events }]
`;

/** Reads server-sent events off a response body as they arrive; `each` may await before the next is read. */
export async function readEvents(res: Response, each: (data: { i: number }, index: number) => Promise<void> | void = () => undefined): Promise<{ i: number }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { i: number }[] = [];
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffered.indexOf("\n\n")) !== -1) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = block.split("\n").find((l) => l.startsWith("data: "));
      if (data === undefined) continue;
      const parsed = JSON.parse(data.slice(6)) as { i: number };
      events.push(parsed);
      await each(parsed, events.length - 1);
    }
  }
  return events;
}

/** Event i+1 is only sent once the client acknowledged event i: all arrive only if none is held back. */
export async function lockstep(gateway: string, upstream: string, send: Send, path = "/lockstep"): Promise<number[]> {
  const id = crypto.randomUUID();
  const res = await send(`${gateway}${path}?id=${id}&n=5`);
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  if (!(res.headers.get("content-type") ?? "").startsWith("text/event-stream")) throw new Error(`content-type ${res.headers.get("content-type")}`);
  const events = await readEvents(res, async (e) => {
    if (e.i === 4) return; // the last one: the upstream ends the stream after it
    const ack = await fetch(`${upstream}/ack?id=${id}&i=${e.i}`);
    if (ack.status !== 204) throw new Error(`ack ${e.i}: ${ack.status}`);
  });
  return events.map((e) => e.i);
}

/** Ten events 100 ms apart: the first must be read long before the last is sent (≥ 900 ms later). */
export async function cadence(gateway: string, send: Send, path = "/events"): Promise<{ events: number; firstAfterMs: number; streamMs: number }> {
  const started = Date.now();
  const res = await send(`${gateway}${path}?n=10&every=100`);
  let first = 0;
  const events = await readEvents(res, (_e, index) => {
    if (index === 0) first = Date.now();
  });
  return { events: events.length, firstAfterMs: first - started, streamMs: Date.now() - started };
}

/**
 * A request body the client is still writing when the upstream has read its first part: the
 * client sends 64 KiB, waits until the upstream says it received them, then sends the rest.
 */
export async function streamingUpload(gateway: string, upstream: string, send: Send, path = "/upload"): Promise<{ status: number; total: string; sawFirstPartEarly: boolean }> {
  const id = crypto.randomUUID();
  const part = new Uint8Array(64 * 1024).fill(1);
  let sawFirstPartEarly = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(part);
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        const got = Number(await (await fetch(`${upstream}/received?id=${id}`)).text());
        if (got >= part.length) {
          sawFirstPartEarly = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      controller.enqueue(part);
      controller.close();
    },
  });
  const res = await send(`${gateway}${path}?id=${id}`, { method: "POST", body, ...({ duplex: "half" } as Record<string, string>) });
  return { status: res.status, total: await res.text(), sawFirstPartEarly };
}
