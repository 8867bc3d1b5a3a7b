// The operator is tested against a FAKE Kubernetes API server (@espmesh/registry/testing):
// node:http on 127.0.0.1 speaking the real REST and list/watch protocol, not a real cluster.
// It has no garbage collector and no controllers: the test plays the HPA, the Deployment
// controller and the kubelet. The operator's periodic resync is set to an hour, so everything a
// test sees comes from its watches (of EspProjects and of the Deployments it created).
import { FakeKubeApi, type FakeObject, waitUntil } from "@espmesh/registry/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadTestProject } from "../test-projects.js";
import { ESP_PROJECT, type EspProject } from "./esp-project.js";
import { createOperator, type Operator, type OperatorOptions } from "./operator.js";

const ns = "espmesh";
const projects = `/apis/${ESP_PROJECT.group}/${ESP_PROJECT.version}/namespaces/${ns}/${ESP_PROJECT.plural}`;
const configMaps = `/api/v1/namespaces/${ns}/configmaps`;
const services = `/api/v1/namespaces/${ns}/services`;
const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
const hpas = `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`;

function espProject(spec: Record<string, unknown>): FakeObject {
  return {
    apiVersion: `${ESP_PROJECT.group}/${ESP_PROJECT.version}`,
    kind: ESP_PROJECT.kind,
    metadata: { name: "trading", namespace: ns },
    spec: {
      project: '{"test-project":"trading"}',
      image: "espmesh:test",
      routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
      minReplicas: 2,
      maxReplicas: 4,
      targetCpuUtilization: 60,
      ...spec,
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads deep into plain Kubernetes objects.
type Json = Record<string, any>;

function get(collection: string, name: string): Json | undefined {
  return api.store.get(collection, name) as Json | undefined;
}

function conditions(): Record<string, string> {
  const status = get(projects, "trading")?.status as EspProject["status"];
  return Object.fromEntries((status?.conditions ?? []).map((c) => [c.type, c.status]));
}

function conditionOf(type: string): { status: string; reason: string; message: string } | undefined {
  const status = get(projects, "trading")?.status as EspProject["status"];
  return status?.conditions?.find((c) => c.type === type);
}

/** Plays the Deployment controller: sets the replica counts of a Deployment's status. */
function setReplicas(name: string, replicas: number, readyReplicas: number): void {
  const live = get(deployments, name) as Json;
  api.store.put(deployments, { ...live, status: { replicas, readyReplicas } } as FakeObject);
}

const envOf = (deployment: string): { name: string; value?: string }[] =>
  get(deployments, deployment)?.spec.template.spec.containers[0].env;

const cascade = {
  bindings: {
    outputs: { bySymbol: { subject: "trading.totals", stream: "TOTALS" } },
    inputs: { trades: { stream: "TRADES", durable: "trading" } },
  },
};

let api: FakeKubeApi;

describe("EspProject operator (against a fake API server)", () => {
  let operator: Operator | undefined;

  const startOperator = (options: Partial<OperatorOptions> = {}) => {
    operator = createOperator({
      kubeConfig: api.kubeConfig(),
      namespace: ns,
      loadProject: loadTestProject,
      resyncMs: 3_600_000,
      silenceMs: 60_000,
      ...options,
    });
    operator.start();
  };

  beforeEach(async () => {
    api = await FakeKubeApi.start();
    operator = undefined;
  });

  afterEach(async () => {
    await operator?.stop();
    await api.close();
  });

  it("creates the project's ConfigMap, worker Deployment, Service and HPA, and balancer Deployment and Service", async () => {
    startOperator();
    api.store.put(projects, espProject({}));
    await waitUntil(() => conditions().Reconciled === "True");
    const config = get(configMaps, "trading-project");
    expect(config?.data["project.json"]).toBe('{"test-project":"trading"}');
    expect(JSON.parse(config?.data["settings.json"])).toMatchObject({ minReplicas: 2, maxReplicas: 4, shards: 4096 });
    const worker = get(deployments, "trading-worker");
    expect(worker?.spec.replicas).toBe(2);
    expect(worker?.metadata.ownerReferences).toMatchObject([{ kind: "EspProject", name: "trading", controller: true }]);
    const container = worker?.spec.template.spec.containers[0];
    expect(container.image).toBe("espmesh:test");
    expect(container.env).toContainEqual({ name: "ESPMESH_ROLE", value: "worker" });
    expect(container.resources.requests.cpu).toBe("500m");
    expect(get(services, "trading-worker")?.spec).toMatchObject({ clusterIP: "None", ports: [{ port: 7000 }] });
    const hpa = get(hpas, "trading-worker");
    expect(hpa?.spec).toMatchObject({
      scaleTargetRef: { kind: "Deployment", name: "trading-worker" },
      minReplicas: 2,
      maxReplicas: 4,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } },
      ],
    });
    expect(JSON.parse(config?.data["deployment.json"])).toEqual({
      project: "trading",
      deployment: "trading",
      shardCount: 4096,
      sources: [
        { name: "quotes", schema: "sym*:string,bid:double", routing: { policy: "multicast" } },
        {
          name: "trades",
          schema: "id*:int64,sym:string,price:double",
          routing: { policy: "hash", hashFields: ["sym"] },
        },
      ],
    });
    const balancer = get(deployments, "trading-balancer")?.spec.template.spec;
    expect(balancer.serviceAccountName).toBe("espmesh-balancer");
    expect(balancer.containers[0].env).toContainEqual({ name: "ESPMESH_K8S_SERVICE", value: "trading-worker" });
    expect(balancer.containers[0].env).toContainEqual({
      name: "ESPMESH_DEPLOYMENT_JSON",
      valueFrom: { configMapKeyRef: { name: "trading-project", key: "deployment.json" } },
    });
    expect(get(services, "trading-balancer")?.spec.ports).toMatchObject([{ port: 7100 }]);
    expect(conditions()).toEqual({ Valid: "True", Reconciled: "True", Ready: "False" });
    for (const deployment of ["trading-worker", "trading-balancer"]) {
      expect(envOf(deployment).map((entry) => entry.name)).not.toContain("ESPMESH_NATS_URL");
    }
    expect(get(projects, "trading")?.status.balancerAddress).toBe("trading-balancer.espmesh.svc:7100");
  });

  it("updates the objects when the EspProject changes, keeping the replicas its HPA chose", async () => {
    startOperator();
    api.store.put(projects, espProject({}));
    await waitUntil(() => get(hpas, "trading-worker") !== undefined && conditions().Reconciled === "True");
    const worker = get(deployments, "trading-worker") as Json;
    api.store.put(deployments, { ...worker, spec: { ...worker.spec, replicas: 3 } } as FakeObject);
    const hashBefore = worker.spec.template.metadata.annotations["espmesh.io/config-hash"];
    const current = get(projects, "trading") as Json;
    api.store.put(projects, {
      ...current,
      spec: { ...current.spec, maxReplicas: 6, targetCpuUtilization: 50, shards: 512 },
    } as FakeObject);
    await waitUntil(() => get(hpas, "trading-worker")?.spec.maxReplicas === 6);
    expect(get(hpas, "trading-worker")?.spec.metrics[0].resource.target.averageUtilization).toBe(50);
    await waitUntil(() => JSON.parse(get(configMaps, "trading-project")?.data["settings.json"]).shards === 512);
    await waitUntil(
      () =>
        get(deployments, "trading-worker")?.spec.template.metadata.annotations["espmesh.io/config-hash"] !== hashBefore,
    );
    expect(get(deployments, "trading-worker")?.spec.replicas).toBe(3);
  });

  it("flips Ready as the worker and balancer Deployments' ready replicas change, without a resync", async () => {
    startOperator();
    api.store.put(projects, espProject({}));
    await waitUntil(() => conditions().Reconciled === "True");
    expect(conditionOf("Ready")).toMatchObject({ status: "False", reason: "WorkersNotReady" });
    setReplicas("trading-worker", 2, 2);
    await waitUntil(() => conditionOf("Ready")?.reason === "BalancerNotReady");
    expect(conditionOf("Ready")).toMatchObject({
      status: "False",
      message: "2 of 2 workers ready, 0 of 0 balancers ready",
    });
    setReplicas("trading-balancer", 1, 1);
    await waitUntil(() => conditions().Ready === "True");
    expect(conditionOf("Ready")).toMatchObject({
      reason: "Available",
      message: "2 of 2 workers ready, 1 of 1 balancers ready",
    });
    expect(get(projects, "trading")?.status).toMatchObject({ workers: 2, readyWorkers: 2, readyBalancers: 1 });
    setReplicas("trading-worker", 2, 0);
    await waitUntil(() => conditions().Ready === "False");
    expect(conditionOf("Ready")).toMatchObject({
      reason: "WorkersNotReady",
      message: "0 of 2 workers ready, 1 of 1 balancers ready",
    });
    expect(get(projects, "trading")?.status).toMatchObject({ readyWorkers: 0 });
  });

  it("puts back a Deployment deleted behind its back, without a resync", async () => {
    startOperator();
    api.store.put(projects, espProject({}));
    await waitUntil(() => get(deployments, "trading-balancer") !== undefined);
    api.store.remove(deployments, "trading-balancer");
    await waitUntil(() => get(deployments, "trading-balancer") !== undefined);
    expect(get(deployments, "trading-balancer")?.spec.template.spec.serviceAccountName).toBe("espmesh-balancer");
  });

  it("passes its NATS URL to the workers and balancer of a project with bindings, and none without", async () => {
    startOperator({ natsUrl: "nats://nats.espmesh:4222" });
    api.store.put(projects, espProject(cascade));
    await waitUntil(() => conditions().Reconciled === "True");
    for (const deployment of ["trading-worker", "trading-balancer"]) {
      expect(envOf(deployment)).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://nats.espmesh:4222" });
    }
    expect(JSON.parse(get(configMaps, "trading-project")?.data["settings.json"]).bindings).toEqual(cascade.bindings);
    expect(JSON.parse(get(configMaps, "trading-project")?.data["deployment.json"]).sources).toContainEqual(
      expect.objectContaining({ name: "trades", input: { stream: "TRADES", durable: "trading" } }),
    );
    const current = get(projects, "trading") as Json;
    const { bindings: _, ...withoutBindings } = current.spec;
    api.store.put(projects, { ...current, spec: withoutBindings } as FakeObject);
    // The operator replaces the worker Deployment before the balancer's: wait for both.
    const hasNats = (deployment: string) => envOf(deployment).some((entry) => entry.name === "ESPMESH_NATS_URL");
    await waitUntil(() => !hasNats("trading-worker") && !hasNats("trading-balancer"));
    expect(envOf("trading-balancer").map((entry) => entry.name)).not.toContain("ESPMESH_NATS_URL");
  });

  it("prefers the EspProject's spec.natsUrl to its own", async () => {
    startOperator({ natsUrl: "nats://nats.espmesh:4222" });
    api.store.put(projects, espProject({ ...cascade, natsUrl: "nats://stage2-nats:4222" }));
    await waitUntil(() => conditions().Reconciled === "True");
    expect(envOf("trading-worker")).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://stage2-nats:4222" });
    expect(envOf("trading-balancer")).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://stage2-nats:4222" });
  });

  it("marks a project with bindings but no NATS URL Valid=False naming the setting, and starts no pods", async () => {
    startOperator();
    api.store.put(projects, espProject(cascade));
    await waitUntil(() => conditions().Valid === "False");
    expect(conditionOf("Valid")).toMatchObject({
      reason: "NatsUrlMissing",
      message:
        "bindings.outputs.bySymbol, bindings.inputs.trades bind to NATS but no NATS URL is set: set spec.natsUrl, " +
        "or ESPMESH_NATS_URL of the operator (Helm value nats.url)",
    });
    expect(conditions().Ready).toBe("False");
    expect(api.store.list(deployments)).toEqual([]);
    const current = get(projects, "trading") as Json;
    api.store.put(projects, { ...current, spec: { ...current.spec, natsUrl: "nats://nats:4222" } } as FakeObject);
    await waitUntil(() => conditions().Valid === "True");
    expect(envOf("trading-worker")).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://nats:4222" });
  });

  it("marks an invalid EspProject Valid=False with the validation message and creates nothing", async () => {
    startOperator();
    api.store.put(projects, espProject({ minReplicas: 5, maxReplicas: 2, routing: { trades: { policy: "random" } } }));
    await waitUntil(() => conditions().Valid === "False");
    const valid = (get(projects, "trading")?.status as EspProject["status"])?.conditions?.find(
      (c) => c.type === "Valid",
    );
    expect(valid?.reason).toBe("InvalidSettings");
    expect(valid?.message).toContain("minReplicas (5) is greater than maxReplicas (2)");
    expect(valid?.message).toContain('routing.trades.policy: unknown policy "random"');
    expect(api.store.list(deployments)).toEqual([]);
    expect(api.store.list(configMaps)).toEqual([]);
  });

  it("deletes the objects when the EspProject is deleted", async () => {
    startOperator();
    api.store.put(projects, espProject({}));
    await waitUntil(() => get(services, "trading-balancer") !== undefined);
    api.store.remove(projects, "trading");
    const left = () => [deployments, services, hpas, configMaps].flatMap((collection) => api.store.list(collection));
    await waitUntil(() => left().length === 0);
    expect(left()).toEqual([]);
  });
});
