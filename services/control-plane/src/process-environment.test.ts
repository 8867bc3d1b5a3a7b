import { describe, expect, it } from "vitest";
import { compileDeploymentSettings } from "./deployment-settings.js";
import type { DeploymentSpec } from "./driver.js";
import { balancerEnvironment, workerEnvironment } from "./process-environment.js";
import { tradingProject } from "./test-projects.js";

function spec(settings: object): DeploymentSpec {
  const model = tradingProject();
  return {
    name: "trading",
    project: "<project/>",
    projectFormat: "xml",
    model,
    settings: compileDeploymentSettings(settings, model),
    replicas: 1,
  };
}

const routing = { routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } } };

describe("process environments", () => {
  it("gives a worker its id, project, settings, address, registry and state service", () => {
    const env = workerEnvironment(spec(routing), "/tmp/p.xml", {
      id: "trading-worker-0",
      address: "127.0.0.1:0",
      registryAddress: "127.0.0.1:7400",
      stateAddress: "127.0.0.1:7200",
    });
    expect(env).toMatchObject({
      ESPMESH_WORKER_ID: "trading-worker-0",
      ESPMESH_PROJECT: "trading",
      ESPMESH_DEPLOYMENT: "trading",
      ESPMESH_PROJECT_FILE: "/tmp/p.xml",
      ESPMESH_WORKER_ADDRESS: "127.0.0.1:0",
      ESPMESH_REGISTRY_ADDRESS: "127.0.0.1:7400",
      ESPMESH_STATE_ADDRESS: "127.0.0.1:7200",
    });
    expect(JSON.parse(env.ESPMESH_SETTINGS ?? "")).toMatchObject({
      shards: 4096,
      routing: { quotes: { policy: "multicast" } },
    });
  });

  it("keeps a state-less deployment's workers away from the state service", () => {
    const env = workerEnvironment(spec({ ...routing, state: "none" }), "/p", {
      id: "w",
      address: "a",
      stateAddress: "s",
    });
    expect(env.ESPMESH_STATE_ADDRESS).toBeUndefined();
  });

  it("gives the balancer its sources with schema strings and routing", () => {
    const env = balancerEnvironment(spec({ ...routing, shards: 64 }), { id: "b", address: "127.0.0.1:7300" });
    expect(env.ESPMESH_BALANCER_ADDRESS).toBe("127.0.0.1:7300");
    expect(JSON.parse(env.ESPMESH_DEPLOYMENT_JSON ?? "")).toEqual({
      project: "trading",
      deployment: "trading",
      shardCount: 64,
      sources: [
        { name: "quotes", schema: "sym*:string,bid:double", routing: { policy: "multicast" } },
        {
          name: "trades",
          schema: "id*:int64,sym:string,price:double",
          routing: { policy: "hash", hashFields: ["sym"] },
        },
      ],
    });
  });
});
