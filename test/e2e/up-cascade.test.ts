/**
 * `espmesh up --nats URL` end to end: a deployment whose source window reads a JetStream subject
 * (an input binding) and whose aggregate publishes to another (an output binding) runs under the
 * local driver of `up`; JSON orders published to the subject reach the window, the totals reach
 * the output stream, and the deployment's status reports the binding's consumer lag from the
 * balancer. Real NATS (a throwaway nats-server) and the mesh in a child process, on loopback.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type EspClient } from "@espmesh/client";
import type { Row } from "@espmesh/events";
import { type NatsServer, startNats, waitFor } from "@espmesh/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORDERS_XML } from "../support/orders.js";
import { startUp, type UpProcess } from "../support/up-process.js";

const SETTINGS = {
  routing: { Orders: { hashFields: ["symbol"] } },
  bindings: {
    inputs: { Orders: { stream: "ORDERS", subject: "orders.in", durable: "orders-mesh" } },
    outputs: { Totals: { stream: "TOTALS", subject: "orders.totals" } },
  },
};

describe("espmesh up --nats: a deployment fed from a subject", () => {
  let nats: NatsServer;
  let connection: NatsConnection;
  let up: UpProcess;
  let client: EspClient;
  let dataDir: string;

  beforeAll(async () => {
    nats = await startNats();
    connection = await connect({ servers: nats.url });
    dataDir = await mkdtemp(join(tmpdir(), "espmesh-up-cascade-"));
    up = await startUp(["--data-dir", dataDir, "--nats", nats.url], {});
    client = createClient({ address: up.controlAddress });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    if (up !== undefined && up.child.exitCode === null && up.child.signalCode === null) {
      up.child.kill("SIGTERM");
      await up.exited;
    }
    await connection?.close();
    await nats?.stop();
    await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it("reads JSON orders from the subject, publishes the totals, and reports the consumer lag in its status", async () => {
    await client.deploy("orders", ORDERS_XML, SETTINGS);
    // The balancer creates the stream and the durable when it starts; its lag is known from then on.
    await waitFor(
      async () => {
        const status = await client.status("orders");
        const running = status.replicasReady > 0 && status.replicasReady === status.replicasDesired;
        return running && status.inputLag.some((lag) => lag.error === "");
      },
      { timeoutMs: 60_000, intervalMs: 200, message: "the deployment to run and its input binding to report lag" },
    );

    const js = jetstream(connection);
    const orders = [
      { symbol: "IBM", id: 1, qty: 100, price: 10.5 },
      { symbol: "MSFT", id: 2, qty: 50, price: 300 },
      [
        { symbol: "IBM", id: 3, qty: 25, price: 11 },
        { symbol: "SAP", id: 4, qty: 7, price: 120 },
      ],
      { symbol: "IBM", id: 1, qty: 10, price: 10.25, _opcode: "update" },
    ];
    for (const order of orders) await js.publish("orders.in", JSON.stringify(order));

    const expected = [
      { symbol: "IBM", qty: 35, orders: 2 },
      { symbol: "MSFT", qty: 50, orders: 1 },
      { symbol: "SAP", qty: 7, orders: 1 },
    ];
    const totals = async () =>
      ((await client.query("orders", "Totals")) as Row[]).sort((a, b) =>
        String(a.symbol).localeCompare(String(b.symbol)),
      );
    await waitFor(async () => JSON.stringify(await totals()) === JSON.stringify(expected), {
      timeoutMs: 30_000,
      intervalMs: 200,
      message: "the totals of the orders read from orders.in",
    });
    expect(await totals()).toEqual(expected);

    // Every message was committed by the worker and acked, so nothing is pending on the durable.
    let status = await client.status("orders");
    await waitFor(
      async () => {
        status = await client.status("orders");
        const [lag] = status.inputLag;
        return lag !== undefined && lag.pending === 0n && lag.ackPending === 0n;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "the input binding's lag to reach 0" },
    );
    expect(status.balancerReachable).toBe(true);
    expect(
      status.inputLag.map(({ sourceWindow, stream, durable, error }) => ({ sourceWindow, stream, durable, error })),
    ).toEqual([{ sourceWindow: "Orders", stream: "ORDERS", durable: "orders-mesh", error: "" }]);

    const manager = await jetstreamManager(connection);
    const published = await manager.streams.info("TOTALS");
    expect(published.state.messages).toBeGreaterThan(0);
  }, 120_000);
});
