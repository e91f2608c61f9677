import { request as httpRequest } from "node:http";

/**
 * Sends `url`'s path and query to the gateway with `url`'s host as Host, byte for byte
 * (fetch() can neither set Host nor keep `//` and dot segments), and wraps the answer as a Web Response.
 */
export function sendWithHost(gatewayUrl: string, url: string, method: string, headers: Record<string, string>): Promise<Response> {
  const target = new URL(url);
  const rawPath = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${gatewayUrl}${rawPath.startsWith("/") ? "" : "/"}`, { method, path: rawPath, headers: { ...headers, host: target.host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        resolve(new Response(res.statusCode === 301 || chunks.length === 0 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: h }));
      });
    });
    req.on("error", reject);
    req.end();
  });
}
