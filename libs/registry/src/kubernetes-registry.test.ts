// These tests run the Kubernetes registry against a FAKE API server (testing/fake-kube-api.ts):
// node:http on 127.0.0.1 speaking the real list/watch protocol, not a real cluster.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRegistry } from "./create-registry.js";
import { createKubernetesRegistry, type KubernetesRegistry } from "./kubernetes-registry.js";
import { FakeKubeApi, type FakeObject } from "./testing/fake-kube-api.js";
import { nextMatching, waitUntil } from "./testing/wait.js";
import type { MembershipSnapshot } from "./types.js";

const slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";

interface EndpointSpec {
  pod: string;
  ip: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

function slice(name: string, endpoints: EndpointSpec[], service = "workers"): FakeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name, namespace: "default", labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    ports: [{ name: "grpc", port: 7000, protocol: "TCP" }],
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip],
      conditions: {
        ready: endpoint.ready ?? true,
        serving: endpoint.serving ?? endpoint.ready ?? true,
        terminating: endpoint.terminating ?? false,
      },
      targetRef: { kind: "Pod", name: endpoint.pod, namespace: "default" },
    })),
  };
}

function summary(snapshot: MembershipSnapshot): string[] {
  return snapshot.members.map(
    (member) =>
      `${member.id}@${member.address}${member.ready ? " ready" : ""}${member.serving ? " serving" : ""}${member.terminating ? " terminating" : ""}`,
  );
}

describe("kubernetes registry (against a fake API server)", () => {
  let api: FakeKubeApi;
  let registry: KubernetesRegistry | undefined;
  let controller: AbortController;

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    controller = new AbortController();
  });

  afterEach(async () => {
    controller.abort();
    await registry?.close();
    registry = undefined;
    await api.close();
  });

  function open(silenceMs = 60_000): AsyncIterator<MembershipSnapshot> {
    registry = createKubernetesRegistry({
      service: "workers",
      kubeConfig: api.kubeConfig(),
      port: "grpc",
      silenceMs,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    return registry.watch(controller.signal)[Symbol.asyncIterator]();
  }

  it("publishes an empty membership for a service with no endpoints, then its pods", async () => {
    const snapshots = open();
    const empty = await nextMatching(snapshots, () => true);
    expect(empty.members).toEqual([]);
    api.store.put(slices, slice("workers-a", []));
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const one = await nextMatching(snapshots, (s) => s.members.length === 1);
    expect(summary(one)).toEqual(["w-0@10.0.0.1:7000 ready serving"]);
    expect(one.version).toBeGreaterThan(empty.version);
    api.store.remove(slices, "workers-a");
    const none = await nextMatching(snapshots, (s) => s.members.length === 0);
    expect(none.members).toEqual([]);
  });

  it("follows pods becoming ready, not ready and terminating", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1", ready: false }]));
    const snapshots = open();
    const starting = await nextMatching(snapshots, () => true);
    expect(summary(starting)).toEqual(["w-0@10.0.0.1:7000"]);
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1" },
        { pod: "w-1", ip: "10.0.0.2" },
      ]),
    );
    const ready = await nextMatching(snapshots, (s) => s.members.every((m) => m.ready) && s.members.length === 2);
    expect(summary(ready)).toEqual(["w-0@10.0.0.1:7000 ready serving", "w-1@10.0.0.2:7000 ready serving"]);
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1", ready: false, serving: true, terminating: true },
        { pod: "w-1", ip: "10.0.0.2", ready: false },
      ]),
    );
    const draining = await nextMatching(snapshots, (s) => s.members.every((m) => !m.ready));
    expect(summary(draining)).toEqual(["w-0@10.0.0.1:7000 serving terminating", "w-1@10.0.0.2:7000"]);
  });

  it("merges members across several slices of the service, once per pod, ignoring other services", async () => {
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1" },
        { pod: "w-1", ip: "10.0.0.2", ready: false },
      ]),
    );
    api.store.put(
      slices,
      slice("workers-b", [
        { pod: "w-1", ip: "10.0.0.2" },
        { pod: "w-2", ip: "10.0.0.3" },
      ]),
    );
    api.store.put(slices, slice("others-a", [{ pod: "x-0", ip: "10.0.9.9" }], "others"));
    const snapshots = open();
    const merged = await nextMatching(snapshots, (s) => s.members.length === 3);
    expect(summary(merged)).toEqual([
      "w-0@10.0.0.1:7000 ready serving",
      "w-1@10.0.0.2:7000 ready serving",
      "w-2@10.0.0.3:7000 ready serving",
    ]);
    api.store.remove(slices, "workers-b");
    const shrunk = await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(summary(shrunk)).toEqual(["w-0@10.0.0.1:7000 ready serving", "w-1@10.0.0.2:7000"]);
  });

  it("relists after 410 Gone and sees the changes it had missed", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const snapshots = open();
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await waitUntil(() => api.openWatches === 1);
    const listsBefore = api.requestsOf({ method: "GET", watch: false, collection: "endpointslices" }).length;
    api.stallWatches();
    api.store.put(slices, slice("workers-b", [{ pod: "w-1", ip: "10.0.0.2" }]));
    api.store.compact();
    api.endWatches();
    const relisted = await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(summary(relisted)).toEqual(["w-0@10.0.0.1:7000 ready serving", "w-1@10.0.0.2:7000 ready serving"]);
    expect(api.requestsOf({ method: "GET", watch: false, collection: "endpointslices" }).length).toBe(listsBefore + 1);
    expect(registry?.restarts).toBe(0);
  });

  it("relists when an open watch reports 410 Gone", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const snapshots = open();
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await waitUntil(() => api.openWatches === 1);
    const listsBefore = api.requestsOf({ method: "GET", watch: false }).length;
    api.expireWatches();
    await waitUntil(
      () => api.requestsOf({ method: "GET", watch: false }).length > listsBefore && api.openWatches === 1,
    );
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1" },
        { pod: "w-1", ip: "10.0.0.2" },
      ]),
    );
    const after = await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(summary(after)).toContain("w-1@10.0.0.2:7000 ready serving");
  });

  it("resumes a watch the server ended from the last resourceVersion, without relisting", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const snapshots = open();
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await waitUntil(() => api.openWatches === 1);
    const seen = String(api.store.resourceVersion);
    const listsBefore = api.requestsOf({ watch: false }).length;
    api.endWatches();
    await waitUntil(() => api.openWatches === 1);
    const watches = api.requestsOf({ watch: true });
    expect(watches.at(-1)?.query.resourceVersion).toBe(seen);
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1" },
        { pod: "w-1", ip: "10.0.0.2" },
      ]),
    );
    await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(api.requestsOf({ watch: false }).length).toBe(listsBefore);
  });

  it("recovers from a watch connection cut abruptly and from failing list requests", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    api.failNext({ watch: false, collection: "endpointslices" }, 500, 2);
    const snapshots = open();
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await waitUntil(() => api.openWatches === 1);
    api.dropWatches();
    api.store.put(
      slices,
      slice("workers-a", [
        { pod: "w-0", ip: "10.0.0.1" },
        { pod: "w-1", ip: "10.0.0.2" },
      ]),
    );
    const after = await nextMatching(snapshots, (s) => s.members.length === 2);
    expect(summary(after)).toEqual(["w-0@10.0.0.1:7000 ready serving", "w-1@10.0.0.2:7000 ready serving"]);
    expect(registry?.restarts).toBeGreaterThanOrEqual(2);
  });

  it("restarts a silent watch through its watchdog and catches up", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const snapshots = open(300);
    await nextMatching(snapshots, (s) => s.members.length === 1);
    await waitUntil(() => api.openWatches === 1);
    api.stallWatches();
    api.store.put(
      slices,
      slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1", ready: false, serving: true, terminating: true }]),
    );
    const after = await nextMatching(snapshots, (s) => s.members[0]?.terminating === true);
    expect(summary(after)).toEqual(["w-0@10.0.0.1:7000 serving terminating"]);
    expect(registry?.restarts).toBeGreaterThanOrEqual(1);
  });

  it("ends every watch when the registry is closed", async () => {
    const snapshots = open();
    await nextMatching(snapshots, () => true);
    await registry?.close();
    await expect(snapshots.next()).resolves.toEqual({ done: true, value: undefined });
    await waitUntil(() => api.openWatches === 0);
  });

  it("is what createRegistry builds for kind kubernetes", async () => {
    api.store.put(slices, slice("workers-a", [{ pod: "w-0", ip: "10.0.0.1" }]));
    const built = createRegistry({ kind: "kubernetes", service: "workers", kubeConfig: api.kubeConfig() });
    const first = await nextMatching(built.watch(controller.signal)[Symbol.asyncIterator](), () => true);
    expect(summary(first)).toEqual(["w-0@10.0.0.1:7000 ready serving"]);
    await built.close();
  });
});
