import { Server, ServerCredentials, credentials, makeGenericClientConstructor, Metadata, status, type ServiceDefinition, type handleBidiStreamingCall, type handleClientStreamingCall, type handleServerStreamingCall, type handleUnaryCall } from "@grpc/grpc-js";

/** Messages are raw bytes: no protobuf needed to test a proxy. */
const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const method = (path: string, requestStream: boolean, responseStream: boolean) => ({ path, requestStream, responseStream, requestSerialize: raw.serialize, requestDeserialize: raw.deserialize, responseSerialize: raw.serialize, responseDeserialize: raw.deserialize });

/** grpcbin-like echo service `test.Echo` (the name the tests route on). */
export const ECHO_SERVICE: ServiceDefinition = {
  Unary: method("/test.Echo/Unary", false, false),
  ServerStream: method("/test.Echo/ServerStream", false, true),
  ClientStream: method("/test.Echo/ClientStream", true, false),
  Bidi: method("/test.Echo/Bidi", true, true),
  Fail: method("/test.Echo/Fail", false, false),
  Slow: method("/test.Echo/Slow", false, false),
  SplitMe: method("/test.Echo/SplitMe", false, false),
  Flaky: method("/test.Echo/Flaky", false, false),
};

export interface EchoServer {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  /** Metadata of every call the server saw, in order. */
  readonly seen: { path: string; metadata: Record<string, string> }[];
  close(): Promise<void>;
}

/** A real grpc-js server (h2c) echoing what it receives, naming itself in metadata `x-server`. */
export async function startEchoServer(name: string): Promise<EchoServer> {
  const seen: EchoServer["seen"] = [];
  const record = (path: string, md: Metadata) => seen.push({ path, metadata: Object.fromEntries(Object.entries(md.getMap()).map(([k, v]) => [k, String(v)])) });
  const named = () => {
    const md = new Metadata();
    md.set("x-server", name);
    return md;
  };
  const unary: handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    record("/test.Echo/Unary", call.metadata);
    call.sendMetadata(named());
    const trailer = new Metadata();
    trailer.set("x-trailer", "done");
    cb(null, call.request, trailer);
  };
  const serverStream: handleServerStreamingCall<Buffer, Buffer> = (call) => {
    record("/test.Echo/ServerStream", call.metadata);
    const n = Number(call.request.toString() || "3");
    let i = 0;
    const timer = setInterval(() => {
      if (i === n) {
        clearInterval(timer);
        return call.end();
      }
      call.write(Buffer.from(`msg-${i++}`));
    }, 20);
    call.on("cancelled", () => clearInterval(timer));
  };
  const clientStream: handleClientStreamingCall<Buffer, Buffer> = (call, cb) => {
    record("/test.Echo/ClientStream", call.metadata);
    const parts: Buffer[] = [];
    call.on("data", (b: Buffer) => parts.push(b));
    call.on("end", () => cb(null, Buffer.from(`${parts.length}:${Buffer.concat(parts).length}`)));
  };
  const bidi: handleBidiStreamingCall<Buffer, Buffer> = (call) => {
    record("/test.Echo/Bidi", call.metadata);
    call.on("data", (b: Buffer) => call.write(Buffer.concat([Buffer.from("echo:"), b])));
    call.on("end", () => call.end());
  };
  const fail: handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    record("/test.Echo/Fail", call.metadata);
    cb({ code: status.FAILED_PRECONDITION, details: `refused by ${name}` });
  };
  const slow: handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    record("/test.Echo/Slow", call.metadata);
    const timer = setTimeout(() => cb(null, call.request), 2_000);
    call.on("cancelled", () => clearTimeout(timer));
  };
  // UNAVAILABLE for the first two calls of each key (the request body), then an answer.
  const flakyCalls = new Map<string, number>();
  const flaky: handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    record("/test.Echo/Flaky", call.metadata);
    const key = call.request.toString();
    const n = (flakyCalls.get(key) ?? 0) + 1;
    flakyCalls.set(key, n);
    if (n <= 2) return cb({ code: status.UNAVAILABLE, details: `try ${n} unavailable` });
    cb(null, Buffer.from(`ok after ${n}`));
  };
  const server = new Server();
  server.addService(ECHO_SERVICE, { Unary: unary, SplitMe: unary, Flaky: flaky, ServerStream: serverStream, ClientStream: clientStream, Bidi: bidi, Fail: fail, Slow: slow });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    name,
    seen,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}

const EchoClient = makeGenericClientConstructor(ECHO_SERVICE, "test.Echo");
export type EchoClientInstance = InstanceType<typeof EchoClient> & Record<string, (...args: unknown[]) => unknown>;

/** A grpc-js client speaking h2c to `target` (host:port), with `authority` as :authority. */
export function echoClient(target: string, authority?: string): EchoClientInstance {
  return new EchoClient(target, credentials.createInsecure(), authority ? { "grpc.default_authority": authority } : {}) as EchoClientInstance;
}
