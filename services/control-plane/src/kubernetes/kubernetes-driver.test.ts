// The Control API's Kubernetes driver and the operator, together against a FAKE Kubernetes API
// server (@espmesh/registry/testing): node:http on 127.0.0.1 speaking the real REST and
// list/watch protocol. The test plays the kubelet and the endpoint controller.
import { FakeKubeApi, type FakeObject, waitUntil } from "@espmesh/registry/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ControlPlane, createControlPlane } from "../control-plane.js";
import { loadTestProject } from "../test-projects.js";
import { ESP_PROJECT } from "./esp-project.js";
import { kubernetesDriver } from "./kubernetes-driver.js";
import { createOperator, type Operator } from "./operator.js";

const ns = "espmesh";
const projects = `/apis/${ESP_PROJECT.group}/${ESP_PROJECT.version}/namespaces/${ns}/${ESP_PROJECT.plural}`;
const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
const slices = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`;

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep into plain Kubernetes objects.
type Json = any;

describe("Control API on Kubernetes (fake API server)", () => {
  let api: FakeKubeApi;
  let operator: Operator;
  let plane: ControlPlane;

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    operator = createOperator({
      kubeConfig: api.kubeConfig(),
      namespace: ns,
      loadProject: loadTestProject,
      resyncMs: 300,
    });
    operator.start();
    plane = createControlPlane({
      loadProject: loadTestProject,
      probeWorkers: false,
      driver: kubernetesDriver({
        kubeConfig: api.kubeConfig(),
        namespace: ns,
        image: "espmesh:test",
        natsUrl: "nats://nats.espmesh:4222",
      }),
    });
    await plane.start();
  });

  afterEach(async () => {
    await plane.stop();
    await operator.stop();
    await api.close();
  });

  it("deploys as an EspProject, reports workers from EndpointSlices, scales and deletes", async () => {
    const settings = JSON.stringify({
      routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
      minReplicas: 2,
      maxReplicas: 5,
    });
    await plane.deployments.deploy("trading", '{"test-project":"trading"}', settings);
    const resource = api.store.get(projects, "trading") as Json;
    expect(resource.spec).toMatchObject({
      image: "espmesh:test",
      minReplicas: 2,
      maxReplicas: 5,
      routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
    });
    await waitUntil(() => api.store.get(deployments, "trading-worker") !== undefined);
    const worker = api.store.get(deployments, "trading-worker") as Json;
    api.store.put(deployments, { ...worker, status: { replicas: 2, readyReplicas: 1 } } as FakeObject);
    api.store.put(slices, {
      metadata: { name: "trading-worker-abc", labels: { "kubernetes.io/service-name": "trading-worker" } },
      addressType: "IPv4",
      ports: [{ name: "grpc", port: 7000 }],
      endpoints: [
        { addresses: ["10.1.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "trading-worker-0" } },
        { addresses: ["10.1.0.2"], conditions: { ready: false }, targetRef: { kind: "Pod", name: "trading-worker-1" } },
      ],
    });
    await waitUntil(async () => (await plane.deployments.get("trading")).balancerAddress !== "");
    const status = await plane.deployments.get("trading");
    expect(status).toMatchObject({
      replicasDesired: 2,
      replicasReady: 1,
      balancerAddress: "trading-balancer.espmesh.svc:7100",
      workers: [
        { id: "trading-worker-0", address: "10.1.0.1:7000", ready: true },
        { id: "trading-worker-1", address: "10.1.0.2:7000", ready: false },
      ],
    });
    await plane.deployments.scale("trading", 4);
    expect((api.store.get(deployments, "trading-worker") as Json).spec.replicas).toBe(4);
    await plane.deployments.delete("trading");
    expect(api.store.get(projects, "trading")).toBeUndefined();
    await waitUntil(() => api.store.list(deployments).length === 0);
  });

  it("carries a deployment's bindings and its NATS URL into the EspProject and on to the pods", async () => {
    const bindings = {
      outputs: { bySymbol: { subject: "trading.totals" } },
      inputs: { trades: { stream: "TRADES", subject: "stage1.>", durable: "trading" } },
    };
    const settings = {
      routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
      bindings,
    };
    await plane.deployments.deploy("trading", '{"test-project":"trading"}', JSON.stringify(settings));
    expect((api.store.get(projects, "trading") as Json).spec).toMatchObject({
      bindings,
      natsUrl: "nats://nats.espmesh:4222",
    });
    await waitUntil(() => api.store.get(deployments, "trading-balancer") !== undefined);
    for (const name of ["trading-worker", "trading-balancer"]) {
      const container = (api.store.get(deployments, name) as Json).spec.template.spec.containers[0];
      expect(container.env).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://nats.espmesh:4222" });
    }
  });

  it("leaves bindings and NATS out of the EspProject of a deployment without bindings", async () => {
    const settings = { routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } } };
    await plane.deployments.deploy("trading", '{"test-project":"trading"}', JSON.stringify(settings));
    const spec = (api.store.get(projects, "trading") as Json).spec;
    expect(spec).not.toHaveProperty("bindings");
    expect(spec).not.toHaveProperty("natsUrl");
  });
});
