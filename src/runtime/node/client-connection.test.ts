import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayError } from "../../http/gateway-error.js";
import { clientConnection } from "./client-connection.js";

let server: Server | null = null;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** A real loopback connection: the server side's socket, and a function that closes the client side. */
async function connection(): Promise<{ serverSide: Socket; hangUp: () => void }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer(resolve);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const client = connect((server!.address() as AddressInfo).port, "127.0.0.1");
  const serverSide = await accepted;
  return { serverSide, hangUp: () => client.destroy() };
}

const closed = (socket: Socket) => new Promise((resolve) => socket.once("close", resolve));

describe("clientConnection", () => {
  it("is one state per connection: every request of it gets the same signal", async () => {
    const { serverSide, hangUp } = await connection();
    expect(clientConnection(serverSide)).toBe(clientConnection(serverSide));
    hangUp();
    await closed(serverSide);
  });

  it("a client that leaves while a request is in the pipeline aborts it, as the gateway's 400 client-closed error", async () => {
    const { serverSide, hangUp } = await connection();
    const conn = clientConnection(serverSide);
    conn.inFlight++;
    const aborted = new Promise((resolve) => conn.signal.addEventListener("abort", () => resolve(conn.signal.reason)));
    hangUp();
    const reason = await aborted;
    expect(reason).toBeInstanceOf(GatewayError);
    expect((reason as GatewayError).code).toBe("bad_request");
  });

  it("a connection that closes with nothing in flight (after its answers) aborts nothing", async () => {
    const { serverSide, hangUp } = await connection();
    const conn = clientConnection(serverSide);
    conn.inFlight++;
    conn.inFlight--; // answered
    let fired = false;
    conn.signal.addEventListener("abort", () => (fired = true));
    hangUp();
    await closed(serverSide);
    await new Promise((r) => setImmediate(r));
    expect(fired).toBe(false);
    expect(conn.signal.aborted).toBe(false);
  });
});
