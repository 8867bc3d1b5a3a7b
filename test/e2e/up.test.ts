/**
 * `espmesh up` end to end: the CLI runs the whole mesh in a child process; the tests deploy,
 * publish, query and follow windows through the gateway (HTTP on 127.0.0.1) and through the SDK,
 * check that bad requests get their status and change nothing, and that stopping `up` (SIGTERM,
 * or SIGKILL) leaves no child process behind. `up` runs with its defaults: window state in the
 * state service's memory store, deployments in a file under a temp data dir.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type EspClient } from "@espmesh/client";
import type { Event, Row } from "@espmesh/events";
import { waitFor } from "@espmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORDERS_XML } from "../support/orders.js";
import { startUp, type UpProcess } from "../support/up-process.js";

const TOKEN = "e2e-secret-token";
const BODY_LIMIT = 4096;

/** Pids of the processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while the directory was read.
    }
  }
  return children;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `name` runs `workers` ready workers and its balancer answers queries. */
async function waitReady(client: EspClient, name: string, workers: number): Promise<void> {
  await waitFor(
    async () => {
      const status = await client.status(name);
      return status.replicasDesired === workers && status.replicasReady === workers;
    },
    { timeoutMs: 60_000, intervalMs: 200, message: `${workers} ready workers of ${name}` },
  );
  await waitFor(async () => Array.isArray(await client.query(name, "Totals")), {
    timeoutMs: 30_000,
    intervalMs: 200,
    message: `the balancer of ${name} to answer a query`,
  });
}

/** Follows a window through the SDK into `events` until the signal, re-subscribing after a failure. */
async function followSdk(
  client: EspClient,
  project: string,
  window: string,
  events: Event[],
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    try {
      for await (const event of client.subscribe(project, window, { signal })) events.push(event);
    } catch {
      // Not subscribed yet (the balancer sees no ready worker yet): try again shortly.
      await new Promise((resolveLater) => setTimeout(resolveLater, 200));
    }
  }
}

function bySymbol(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return [...rows].sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)));
}

/** Opens a server-sent event stream, retrying while the gateway answers 503 (no ready worker yet). */
async function openSse(url: string, signal: AbortSignal): Promise<Response> {
  let response: Response | undefined;
  await waitFor(
    async () => {
      response = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` }, signal });
      if (response.status === 503) await response.body?.cancel();
      return response.status !== 503;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: `${url} to answer` },
  );
  return response as Response;
}

/** Reads the `data:` frames of a server-sent event stream into `events` until the signal. */
async function readSse(response: Response, events: unknown[], signal: AbortSignal): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of frame.split("\n")) if (line.startsWith("data: ")) events.push(JSON.parse(line.slice(6)));
        end = buffer.indexOf("\n\n");
      }
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

describe("espmesh up, through the gateway and the SDK", () => {
  let dataDir = "";
  let up: UpProcess;
  let client: EspClient;
  /** A gateway request with the token, another token, or (null) none. */
  const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${up.gatewayUrl}${path}`, {
      ...init,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...init.headers },
    });
  const post = (path: string, type: string, body: string, token: string | null = TOKEN) =>
    api(path, { method: "POST", headers: { "content-type": type }, body }, token);
  const state = async (window: string) => {
    const response = await api(`/v1/projects/orders/windows/${window}/state`);
    expect(response.status).toBe(200);
    return bySymbol((await response.json()) as Record<string, unknown>[]);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "espmesh-up-e2e-"));
    const args = ["--data-dir", dataDir, "--workers", "2", "--body-limit", String(BODY_LIMIT)];
    up = await startUp(args, { ESPMESH_API_TOKEN: TOKEN });
    client = createClient({ address: up.controlAddress });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    if (up !== undefined && up.child.exitCode === null && up.child.signalCode === null) up.child.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("prints the gateway URL and the control plane's gRPC address", () => {
    expect(up.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(up.controlAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(up.output()).toMatch(/Ctrl-C stops the mesh/);
  });

  it("deploys ESP XML through the gateway with --workers workers", async () => {
    const response = await api("/v1/projects/orders?hashFields=symbol", {
      method: "PUT",
      headers: { "content-type": "application/xml" },
      body: ORDERS_XML,
    });
    expect(response.status).toBe(201);
    await waitReady(client, "orders", 2);
    const status = (await (await api("/v1/projects/orders")).json()) as {
      workers: { ready: boolean }[];
      settings: { minReplicas: number; maxReplicas: number };
    };
    expect(status.workers).toHaveLength(2);
    expect(status.workers.every((worker) => worker.ready)).toBe(true);
    // The control plane itself records the --workers default, so status and Scale agree with what runs.
    expect(status.settings).toMatchObject({ minReplicas: 2, maxReplicas: 2 });
  }, 90_000);

  it("takes events as JSON, NDJSON and CSV, answers with window state, SSE and the SDK subscription", async () => {
    const stop = new AbortController();
    const sse: unknown[] = [];
    const stream = await openSse(`${up.gatewayUrl}/v1/projects/orders/windows/Totals/events`, stop.signal);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
    let sseFailure: unknown;
    const following = readSse(stream, sse, stop.signal).catch((error: unknown) => {
      sseFailure = error;
    });
    const subscribed: Event[] = [];
    const subscription = followSdk(client, "orders", "Totals", subscribed, stop.signal);
    try {
      // Both subscriptions are open once a first event reaches them; until then, poke the window.
      let id = 1000;
      await waitFor(
        async () => {
          const rows = [{ symbol: "WARM", id: id++, qty: 1, price: 1 }];
          await post("/v1/projects/orders/windows/Orders/events", "application/json", JSON.stringify(rows));
          return sse.length > 0 && subscribed.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 300, message: "the SSE and SDK subscriptions to see events" },
      );
      const json = await post(
        "/v1/projects/orders/windows/Orders/events",
        "application/json",
        JSON.stringify([
          { symbol: "IBM", id: 1, qty: 100, price: 10.5 },
          { symbol: "MSFT", id: 2, qty: 50, price: 300 },
          { symbol: "IBM", id: 3, qty: 25, price: 11 },
        ]),
      );
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual({ accepted: 3 });
      const ndjson = await post(
        "/v1/projects/orders/windows/Orders/events",
        "application/x-ndjson",
        '{"symbol":"SAP","id":4,"qty":7,"price":120}\n{"symbol":"MSFT","id":5,"qty":5,"price":301}\n',
      );
      expect(ndjson.status).toBe(200);
      expect(await ndjson.json()).toEqual({ accepted: 2 });
      const csv = await post(
        "/v1/projects/orders/windows/Orders/events",
        "text/csv",
        "symbol,id,qty,price\nSAP,6,3,121\nIBM,7,75,12\n",
      );
      expect(csv.status).toBe(200);
      expect(await csv.json()).toEqual({ accepted: 2 });

      const totals = (await state("Totals")).filter((row) => row.symbol !== "WARM");
      expect(totals).toEqual([
        { symbol: "IBM", qty: 200, orders: 3 },
        { symbol: "MSFT", qty: 55, orders: 2 },
        { symbol: "SAP", qty: 10, orders: 2 },
      ]);
      expect((await state("Orders")).filter((row) => row.symbol !== "WARM")).toHaveLength(7);
      const final = { opcode: "update", fields: { symbol: "IBM", qty: 200, orders: 3 } };
      await waitFor(() => sse.some((event) => JSON.stringify(event) === JSON.stringify(final)), {
        timeoutMs: 10_000,
        message: "the SSE stream to show IBM's final total",
      });
      await waitFor(() => subscribed.some((event) => JSON.stringify(event) === JSON.stringify(final)), {
        timeoutMs: 10_000,
        message: "the SDK subscription to show IBM's final total",
      });
    } finally {
      stop.abort();
      await following;
      await subscription;
      expect(sseFailure).toBeUndefined();
    }
  }, 60_000);

  it("refuses each bad request with its status and leaves the state untouched", async () => {
    const before = [await state("Totals"), await state("Orders")];
    const events = "/v1/projects/orders/windows/Orders/events";
    const cases: [string, () => Promise<Response>, number][] = [
      ["malformed JSON", () => post(events, "application/json", '[{"symbol":"IBM","id":90,'), 400],
      ["unknown project", () => post("/v1/projects/nope/windows/Orders/events", "application/json", "[]"), 404],
      ["unknown window", () => post("/v1/projects/orders/windows/Nope/events", "application/json", "[]"), 404],
      [
        "a type error in row 3 (JSON)",
        () =>
          post(
            events,
            "application/json",
            JSON.stringify([
              { symbol: "IBM", id: 91, qty: 1, price: 1 },
              { symbol: "IBM", id: 92, qty: 1, price: 1 },
              { symbol: "IBM", id: 93, qty: "many", price: 1 },
            ]),
          ),
        400,
      ],
      [
        "a type error in row 3 (CSV)",
        () => post(events, "text/csv", "symbol,id,qty,price\nA,94,1,1\nA,95,1,1\nA,96,x,1\n"),
        400,
      ],
      ["a body over the limit", () => post(events, "application/x-ndjson", "x".repeat(BODY_LIMIT + 1)), 413],
      ["no token", () => post(events, "application/json", "[]", null), 401],
      ["a wrong token", () => post(events, "application/json", "[]", "not-the-token"), 401],
    ];
    for (const [what, send, status] of cases) {
      const response = await send();
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      expect({ what, status: response.status }).toEqual({ what, status });
      expect(body.error?.code, what).toBeTypeOf("string");
      if (what.includes("row 3")) expect(body.error?.message, what).toMatch(/row 3/);
    }
    expect([await state("Totals"), await state("Orders")]).toEqual(before);
  }, 60_000);

  it("deploys, publishes, queries and subscribes through the SDK", async () => {
    const status = await client.deploy("orders-sdk", ORDERS_XML, {
      routing: { Orders: { hashFields: ["symbol"] } },
      minReplicas: 1,
      maxReplicas: 1,
    });
    expect(status.sourceWindows).toEqual(["Orders"]);
    await waitReady(client, "orders-sdk", 1);
    const stop = new AbortController();
    const seen: Event[] = [];
    const subscription = followSdk(client, "orders-sdk", "Totals", seen, stop.signal);
    try {
      const publisher = client.publisher("orders-sdk", "Orders");
      let id = 0;
      // The subscription is open once it sees an event; publish until it does.
      await waitFor(
        async () => {
          await publisher.publish({ symbol: "AMD", id: id++, qty: 2, price: 160 });
          await publisher.flush();
          return seen.length > 0;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: "the SDK subscription to see an event" },
      );
      await publisher.publish([
        { symbol: "INTC", id: 1, qty: 10, price: 35 },
        { symbol: "INTC", id: 2, qty: 30, price: 36 },
      ]);
      await publisher.close();
      // The deployment's status carries the balancer's figures: traffic seen, nothing left in flight.
      // (A status call asks the balancer with a deadline; on a loaded machine the first may miss it.)
      let traffic = await client.status("orders-sdk");
      await waitFor(
        async () => {
          traffic = await client.status("orders-sdk");
          return traffic.balancerReachable;
        },
        { timeoutMs: 20_000, intervalMs: 200, message: "the status to carry the balancer's figures" },
      );
      expect(traffic.eventsPerSecond).toBeGreaterThan(0);
      expect(traffic.inFlight).toBe(0n);
      expect(traffic.heldEvents).toBe(0n);
      expect(traffic.workers.map((worker) => worker.shardsOwned)).toEqual([4096]);
      const rows: Row[] = await client.query("orders-sdk", "Totals");
      expect(rows.find((row) => row.symbol === "INTC")).toEqual({ symbol: "INTC", qty: 40, orders: 2 });
      expect(rows.find((row) => row.symbol === "AMD")).toEqual({ symbol: "AMD", qty: 2 * id, orders: id });
      await waitFor(() => seen.some((event) => event.fields.symbol === "INTC" && event.fields.qty === 40), {
        timeoutMs: 10_000,
        message: "the INTC total on the SDK subscription",
      });
    } finally {
      stop.abort();
      await subscription;
    }
  }, 90_000);

  it("stops on SIGTERM and leaves no child process", async () => {
    const pid = up.child.pid as number;
    const children = childrenOf(pid);
    // A balancer and two workers for "orders", a balancer and one worker for "orders-sdk".
    expect(children.length).toBeGreaterThanOrEqual(5);
    up.child.kill("SIGTERM");
    const exit = await Promise.race([
      up.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("up did not exit within 30 s")), 30_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(up.output()).toMatch(/espmesh: stopped/);
    await waitFor(() => children.every((child) => !alive(child)), {
      timeoutMs: 10_000,
      message: `the children ${children.join(", ")} to be gone`,
    });
  }, 45_000);
});

describe("espmesh up, killed with SIGKILL", () => {
  it("leaves no child process: the children stop on their own", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "espmesh-up-kill-"));
    const up = await startUp(["--data-dir", dataDir, "--workers", "1"], {});
    const client = createClient({ address: up.controlAddress });
    try {
      await client.deploy("orders", ORDERS_XML, { routing: { Orders: { hashFields: ["symbol"] } } });
      await waitReady(client, "orders", 1);
      const children = childrenOf(up.child.pid as number);
      expect(children.length).toBeGreaterThanOrEqual(2);
      up.child.kill("SIGKILL");
      await up.exited;
      await waitFor(() => children.every((child) => !alive(child)), {
        timeoutMs: 15_000,
        intervalMs: 100,
        message: `the children ${children.join(", ")} to stop after their parent was killed`,
      });
    } finally {
      client.close();
      if (up.child.exitCode === null && up.child.signalCode === null) up.child.kill("SIGKILL");
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
