// The gRPC benchmark upstream: unary `bench.Echo/Unary` over h2c on node:http2, answering every
// call with the message it received (gRPC's wire format: a 5-byte length prefix, then
// grpc-status 0 in the trailers). Raw node:http2 rather than grpc-js so the upstream is not what
// limits the proxies measured in front of it.
import { createServer } from "node:http2";

const port = Number(process.argv[2] ?? 9600);
const server = createServer({ settings: { maxConcurrentStreams: 1000 } });
server.on("stream", (stream, headers) => {
  const chunks = [];
  stream.on("data", (c) => chunks.push(c));
  stream.on("end", () => {
    if (headers[":path"] !== "/bench.Echo/Unary") {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unknown method" }, { endStream: true });
      return;
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(Buffer.concat(chunks));
  });
  stream.on("error", () => undefined);
});
server.listen(port, "127.0.0.1", () => console.log(`gRPC upstream listening on ${port}`));
