import {
  addService,
  bindServer,
  ControlService,
  createServiceClient,
  type ServiceClient,
  shutdownServer,
  WorkerService,
} from "@espmesh/proto";
import { registerWorker } from "@espmesh/registry";
import { waitUntil } from "@espmesh/registry/testing";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ControlPlane, createControlPlane } from "./control-plane.js";
import type { DeploymentSpec, DriverContext, DriverFactory } from "./driver.js";
import { loadTestProject } from "./test-projects.js";

/** A driver that runs nothing: it records specs and reports the registry's members as workers. */
function recordingDriver(applied: DeploymentSpec[]): DriverFactory {
  return (context: DriverContext) => {
    const running = new Map<string, DeploymentSpec>();
    return {
      async apply(spec) {
        applied.push(spec);
        running.set(spec.name, spec);
      },
      async remove(name) {
        running.delete(name);
      },
      async scale(name, replicas) {
        const spec = running.get(name);
        if (spec !== undefined) running.set(name, { ...spec, replicas });
      },
      async status(name) {
        const spec = running.get(name);
        if (spec === undefined) return undefined;
        const members = context.membership(name).members;
        return {
          replicasDesired: spec.replicas,
          replicasReady: members.filter((member) => member.ready).length,
          workers: members.map((member) => ({ id: member.id, address: member.address, ready: member.ready })),
          balancerAddress: "127.0.0.1:1",
        };
      },
      async stop() {},
    };
  };
}

const trading = '{"test-project":"trading"}';
const goodTrading = JSON.stringify({
  routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
  minReplicas: 1,
  maxReplicas: 4,
});

describe("Control API over loopback gRPC", () => {
  let plane: ControlPlane;
  let client: ServiceClient<typeof ControlService>;
  let applied: DeploymentSpec[];

  beforeEach(async () => {
    applied = [];
    plane = createControlPlane({ loadProject: loadTestProject, driver: recordingDriver(applied) });
    await plane.start();
    client = createServiceClient(ControlService, plane.address);
  });

  afterEach(async () => {
    client.close();
    await plane.stop();
  });

  it("deploys a project and reports its status with the compiled settings", async () => {
    const response = await client.deploy({ name: "trading", project: trading, settingsJson: goodTrading });
    expect(response.created).toBe(true);
    const status = response.status;
    expect(status).toMatchObject({
      name: "trading",
      replicasDesired: 1,
      phase: "running",
      projectFormat: "json",
      sourceWindows: ["quotes", "trades"],
      balancerAddress: "127.0.0.1:1",
    });
    expect(JSON.parse(status?.settingsJson ?? "")).toMatchObject({
      routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast", hashFields: [] } },
      state: "service",
      shards: 4096,
    });
    expect((await client.deploy({ name: "trading", project: trading, settingsJson: goodTrading })).created).toBe(false);
    expect(applied).toHaveLength(2);
  });

  it("rejects bad settings with INVALID_ARGUMENT naming window and field", async () => {
    const bad = JSON.stringify({ routing: { trades: { policy: "hash", hashFields: ["price"] } } });
    const failure = client.deploy({ name: "trading", project: trading, settingsJson: bad });
    await expect(failure).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { window: "bySymbol", field: "price" },
    });
    await expect(client.deploy({ name: "Trading!", project: trading })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    expect((await client.list({})).deployments).toEqual([]);
  });

  it("answers NOT_FOUND for unknown deployments", async () => {
    await expect(client.get({ name: "nope" })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no deployment named nope",
    });
    await expect(client.delete({ name: "nope" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(client.scale({ name: "nope", replicas: 2 })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("scales within min and max only, and updates settings keeping the project", async () => {
    await client.deploy({ name: "trading", project: trading, settingsJson: goodTrading });
    expect((await client.scale({ name: "trading", replicas: 3 })).status?.replicasDesired).toBe(3);
    await expect(client.scale({ name: "trading", replicas: 9 })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("replicas 9 is outside minReplicas..maxReplicas (1..4)"),
    });
    const narrowed = JSON.stringify({ ...JSON.parse(goodTrading), maxReplicas: 2 });
    const updated = (await client.update({ name: "trading", settingsJson: narrowed })).status;
    expect(updated?.replicasDesired).toBe(2);
    expect(applied.at(-1)?.project).toBe(trading);
    await client.delete({ name: "trading" });
    expect((await client.list({})).deployments).toEqual([]);
  });

  it("shows the workers registered with its RegistryService", async () => {
    await client.deploy({ name: "trading", project: trading, settingsJson: goodTrading });
    const registration = await registerWorker({
      registry: plane.address,
      deployment: "trading",
      id: "trading-worker-0",
      address: "127.0.0.1:7000",
    });
    await waitUntil(async () => ((await client.get({ name: "trading" })).status?.replicasReady ?? 0) === 1);
    expect((await client.get({ name: "trading" })).status?.workers).toMatchObject([
      { id: "trading-worker-0", address: "127.0.0.1:7000", ready: true },
    ]);
    await registration.deregister();
  });

  it("shows the shards each worker reports owning through its Health", async () => {
    const server = new grpc.Server();
    const unimplemented = () => {
      throw new MeshError("UNIMPLEMENTED", "not in this fake worker");
    };
    addService(server, WorkerService, {
      process: unimplemented,
      subscribe: unimplemented,
      snapshot: unimplemented,
      health: () => ({ status: 2, workerId: "trading-worker-0", project: "trading", shardsOwned: 1024 }),
    });
    const port = await bindServer(server, "127.0.0.1:0");
    await client.deploy({ name: "trading", project: trading, settingsJson: goodTrading });
    const registration = await registerWorker({
      registry: plane.address,
      deployment: "trading",
      id: "trading-worker-0",
      address: `127.0.0.1:${port}`,
    });
    await waitUntil(async () => (await client.get({ name: "trading" })).status?.workers?.[0]?.shardsOwned === 1024);
    await registration.deregister();
    await shutdownServer(server);
  });
});
