import {
  type CompiledDeploymentSettings,
  createMemoryDeploymentStore,
  type DeploymentSpec,
  type Driver,
} from "@espmesh/control-plane";
import { noopLogger } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { withDefaultReplicas } from "./default-replicas.js";

const settings: CompiledDeploymentSettings = {
  routing: {},
  minReplicas: 1,
  maxReplicas: 1,
  targetCpuUtilization: 70,
  state: "service",
  shards: 16,
  checkpointIntervalMs: 100,
};

function spec(name: string): DeploymentSpec {
  return {
    name,
    project: "",
    projectFormat: "xml",
    model: { name, windows: [], sources: [] },
    settings,
    replicas: 1,
  };
}

function recordingDriver(applied: DeploymentSpec[]): Driver {
  return {
    apply: async (given) => {
      applied.push(given);
    },
    remove: async () => {},
    scale: async () => {},
    status: async () => undefined,
    stop: async () => {},
  };
}

describe("withDefaultReplicas", () => {
  it("runs --workers workers for deployments whose settings set no replica bounds, and leaves the others alone", async () => {
    const store = createMemoryDeploymentStore();
    const stored = { project: "", projectFormat: "xml" as const, replicas: 1, createdAtMs: 0, updatedAtMs: 0 };
    await store.put({ ...stored, name: "plain", settingsJson: "{}" });
    await store.put({ ...stored, name: "pinned", settingsJson: '{"maxReplicas": 1}' });
    const applied: DeploymentSpec[] = [];
    const driver = withDefaultReplicas(
      () => recordingDriver(applied),
      3,
      store,
    )({
      registryAddress: "127.0.0.1:1",
      membership: () => ({ version: 0, members: [] }),
      onScaled: () => {},
      logger: noopLogger,
    });
    await driver.apply(spec("plain"));
    await driver.apply(spec("pinned"));
    expect(
      applied.map((given) => [given.name, given.replicas, given.settings.minReplicas, given.settings.maxReplicas]),
    ).toEqual([
      ["plain", 3, 3, 3],
      ["pinned", 1, 1, 1],
    ]);
  });
});
