import { parseArgs } from "node:util";
import { startNodeGateway } from "../runtime/node/gateway-server.js";
import { startDemoUpstreams } from "./demo-upstreams.js";
import { parsePort, untilSignal } from "./serve.js";

/** `meshgate demo` (what `npm start` runs): Bookinfo upstreams on 9081-9086 and the gateway over policies/. */
export const DEMO_OPTIONS = {
  policies: { type: "string", default: "policies" },
  port: { type: "string", default: "8080" },
  "admin-port": { type: "string", default: "9901" },
  host: { type: "string", default: "127.0.0.1" },
} as const;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: DEMO_OPTIONS, strict: true });
  const port = parsePort(values.port, "port");
  const adminPort = parsePort(values["admin-port"], "admin-port");
  const upstreams = await startDemoUpstreams();
  let gateway;
  try {
    gateway = await startNodeGateway({ policies: values.policies, port, adminPort, host: values.host });
  } catch (err) {
    await upstreams.close();
    throw err;
  }
  process.stdout.write(
    [
      `meshgate demo: gateway http://127.0.0.1:${gateway.port}, admin http://127.0.0.1:${gateway.adminPort}`,
      `  curl -s http://127.0.0.1:${gateway.port}/reviews/1                       # 90% v1, 10% v3`,
      `  curl -s -H 'end-user: jason' http://127.0.0.1:${gateway.port}/reviews/1  # always v2`,
      `  curl -s http://127.0.0.1:${gateway.adminPort}/config`,
      "",
    ].join("\n"),
  );
  await untilSignal(gateway, () => upstreams.close());
  return 0;
}
