import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployTrades, type Fixture, json, startFixture } from "./test-support/fixture.js";

/** The part of the `ws` client used here (the package ships no types of its own). */
interface WsClient {
  on(event: "message", listener: (data: Buffer) => void): void;
  on(event: "open", listener: () => void): void;
  on(event: "close", listener: () => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  close(): void;
}
const { WebSocket } = createRequire(import.meta.url)("ws") as {
  WebSocket: new (url: string, options?: { headers?: Record<string, string> }) => WsClient;
};

interface Received {
  opcode: string;
  fields: Record<string, unknown>;
}

/** Reads `count` SSE data frames from a response body. */
async function readSse(response: Response, count: number): Promise<Received[]> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const events: Received[] = [];
  let buffer = "";
  while (events.length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of frame.split("\n")) if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)));
      end = buffer.indexOf("\n\n");
    }
  }
  await reader.cancel();
  return events;
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(condition()).toBe(true);
}

// The mesh here is a stand-in (test-support/mesh-stand-in.ts): a real gRPC server implementing
// ControlService and IngestService in memory, because the real mesh is not runnable yet.
describe("gateway subscriptions", () => {
  let fixture: Fixture;
  const post = (rows: object[]) => fixture.request("POST", "/v1/projects/trades/windows/trades/events", { body: rows });

  beforeAll(async () => {
    fixture = await startFixture({ token: "s3cret" });
    await deployTrades(fixture);
  });
  afterAll(async () => {
    await fixture?.stop();
  });

  it("streams a window's events as server-sent events with their opcodes", async () => {
    const response = await fixture.request("GET", "/v1/projects/trades/windows/trades/events");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    await waitFor(() => fixture.mesh.subscriptions === 1);
    expect((await post([{ id: 1, symbol: "IBM", price: 10, quantity: 5 }])).status).toBe(200);
    expect((await post([{ id: 1, _opcode: "delete" }])).status).toBe(200);
    expect(await readSse(response, 2)).toEqual([
      { opcode: "insert", fields: { id: 1, symbol: "IBM", price: 10, quantity: 5 } },
      { opcode: "delete", fields: { id: 1, symbol: null, price: null, quantity: null } },
    ]);
    await waitFor(() => fixture.mesh.subscriptions === 0);
  });

  it("sends the current rows first with snapshot=true", async () => {
    expect((await post([{ id: 9, symbol: "SNAP", price: 1, quantity: 1 }])).status).toBe(200);
    const response = await fixture.request("GET", "/v1/projects/trades/windows/trades/events?snapshot=true");
    expect(await readSse(response, 1)).toEqual([
      { opcode: "insert", fields: { id: 9, symbol: "SNAP", price: 1, quantity: 1 } },
    ]);
    await waitFor(() => fixture.mesh.subscriptions === 0);
  });

  it("streams a window's events over a WebSocket upgrade of the same path", async () => {
    const socket = new WebSocket(`${fixture.url.replace("http", "ws")}/v1/projects/trades/windows/trades/events`, {
      headers: { authorization: "Bearer s3cret" },
    });
    const messages: Received[] = [];
    socket.on("message", (data) => messages.push(JSON.parse(data.toString())));
    await new Promise<void>((resolve, reject) => {
      socket.on("open", resolve);
      socket.on("error", reject);
    });
    await waitFor(() => fixture.mesh.subscriptions === 1);
    expect((await post([{ id: 2, symbol: "WS", price: 2, quantity: 300 }])).status).toBe(200);
    await waitFor(() => messages.length === 1);
    expect(messages).toEqual([{ opcode: "insert", fields: { id: 2, symbol: "WS", price: 2, quantity: 300 } }]);
    const closed = new Promise<void>((resolve) => socket.on("close", resolve));
    socket.close();
    await closed;
    await waitFor(() => fixture.mesh.subscriptions === 0);
  });

  it("answers 404 before streaming for an unknown window, over SSE and WebSocket", async () => {
    const response = await fixture.request("GET", "/v1/projects/trades/windows/nope/events");
    expect(response.status).toBe(404);
    expect((await json(response)).error.code).toBe("NOT_FOUND");
    const socket = new WebSocket(`${fixture.url.replace("http", "ws")}/v1/projects/nope/windows/trades/events`, {
      headers: { authorization: "Bearer s3cret" },
    });
    const error = await new Promise<Error>((resolve) => socket.on("error", resolve));
    expect(error.message).toContain("404");
  });

  it("refuses a WebSocket upgrade without the token, and accepts the token as access_token", async () => {
    const path = "/v1/projects/trades/windows/trades/events";
    const refused = new WebSocket(`${fixture.url.replace("http", "ws")}${path}`);
    const error = await new Promise<Error>((resolve) => refused.on("error", resolve));
    expect(error.message).toContain("401");
    const response = await fetch(`${fixture.url}${path}?access_token=s3cret`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    await waitFor(() => fixture.mesh.subscriptions === 0);
  });
});
