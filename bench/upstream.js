// The benchmark upstream: 100 bytes, keep-alive, on every path. A request with a body is
// answered once the body has been read, as a server that stores an upload would.
import { createServer } from "node:http";

const body = Buffer.alloc(100, "x");
const port = Number(process.argv[2] ?? 9500);
createServer((req, res) => {
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
    res.end(body);
  });
  req.resume();
})
  .listen(port, "127.0.0.1", () => console.log(`upstream listening on ${port}`))
  .keepAliveTimeout = 65_000;
