import { createServiceClient, RegistryService } from "@espmesh/proto";
import { afterEach, describe, expect, it } from "vitest";
import { createRegistry } from "./create-registry.js";
import { createLocalRegistryServer, type LocalRegistryServer } from "./local-registry-server.js";
import { registerWorker, type WorkerRegistration } from "./register-worker.js";
import { nextMatching } from "./testing/wait.js";
import type { MembershipSnapshot, Registry } from "./types.js";

function ids(snapshot: MembershipSnapshot): string[] {
  return snapshot.members.map((member) => member.id);
}

describe("local registry over loopback gRPC", () => {
  const cleanups: (() => Promise<void>)[] = [];
  const controller = new AbortController();

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function server(address?: string): Promise<LocalRegistryServer> {
    const started = await createLocalRegistryServer({ defaultTtlMs: 300, ...(address ? { address } : {}) });
    cleanups.push(() => started.stop());
    return started;
  }

  function watcher(address: string, deployment = "orders"): AsyncIterator<MembershipSnapshot> {
    const registry: Registry = createRegistry({
      kind: "local",
      address,
      deployment,
      backoff: { initialMs: 20, maxMs: 100 },
    });
    const local = new AbortController();
    cleanups.push(async () => {
      local.abort();
      await registry.close();
    });
    return registry.watch(local.signal)[Symbol.asyncIterator]();
  }

  async function worker(
    registry: string,
    id: string,
    port: number,
    deployment = "orders",
  ): Promise<WorkerRegistration> {
    const registration = await registerWorker({
      registry,
      deployment,
      id,
      address: `127.0.0.1:${port}`,
      ttlMs: 300,
      backoff: { initialMs: 20, maxMs: 100 },
      signal: controller.signal,
    });
    cleanups.push(() => registration.deregister());
    return registration;
  }

  it("streams an empty membership, then registered workers, per deployment", async () => {
    const registry = await server();
    const snapshots = watcher(registry.address);
    expect((await nextMatching(snapshots, () => true)).members).toEqual([]);
    await worker(registry.address, "w-1", 7001);
    await worker(registry.address, "w-0", 7000);
    await worker(registry.address, "x-0", 7100, "other");
    const both = await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(both.members).toEqual([
      { id: "w-0", address: "127.0.0.1:7000", ready: true, serving: true, terminating: false },
      { id: "w-1", address: "127.0.0.1:7001", ready: true, serving: true, terminating: false },
    ]);
  });

  it("shows a draining worker as terminating and removes it when it deregisters", async () => {
    const registry = await server();
    const snapshots = watcher(registry.address);
    const w0 = await worker(registry.address, "w-0", 7000);
    await worker(registry.address, "w-1", 7001);
    await nextMatching(snapshots, (s) => s.members.length === 2);
    await w0.drain();
    const draining = await nextMatching(snapshots, (s) => s.members.some((m) => m.terminating));
    expect(draining.members[0]).toEqual({
      id: "w-0",
      address: "127.0.0.1:7000",
      ready: false,
      serving: true,
      terminating: true,
    });
    await w0.deregister();
    const left = await nextMatching(snapshots, (s) => s.members.length === 1);
    expect(ids(left)).toEqual(["w-1"]);
  });

  it("keeps a heartbeating worker past its lease and drops one whose lease ran out", async () => {
    const registry = await server();
    const snapshots = watcher(registry.address);
    await worker(registry.address, "w-0", 7000);
    const client = createServiceClient(RegistryService, registry.address);
    cleanups.push(async () => client.close());
    const silent = await client.register({
      deployment: "orders",
      member: { id: "w-9", address: "127.0.0.1:7009", ready: true, serving: true },
      ttlMs: 150,
    });
    expect(silent.ttlMs).toBe(150);
    await nextMatching(snapshots, (s) => s.members.length === 2);
    const after = await nextMatching(snapshots, (s) => s.members.length === 1);
    expect(ids(after)).toEqual(["w-0"]);
    await expect(client.heartbeat({ leaseId: silent.leaseId })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("rejects a registration without deployment or address", async () => {
    const registry = await server();
    const client = createServiceClient(RegistryService, registry.address);
    cleanups.push(async () => client.close());
    await expect(client.register({ member: { id: "w", address: "127.0.0.1:1" } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(client.register({ deployment: "d", member: { id: "w" } })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "register: member w has no address",
    });
    await expect(
      registerWorker({ registry: registry.address, deployment: "", id: "w", address: "127.0.0.1:1" }),
    ).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: "register: `deployment` is required" });
  });

  it("gets workers back after the registry restarts: they register again and watchers reconnect", async () => {
    const first = await createLocalRegistryServer({ defaultTtlMs: 300 });
    const address = first.address;
    const snapshots = watcher(address);
    await worker(address, "w-0", 7000);
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await first.stop();
    const second = await server(address);
    expect(second.address).toBe(address);
    const back = await nextMatching(snapshots, (s) => s.members.length === 1 && s.members[0]?.id === "w-0", 10_000);
    expect(back.members[0]?.ready).toBe(true);
    expect(second.leases.membership("orders").members.map((m) => m.id)).toEqual(["w-0"]);
  });
});
