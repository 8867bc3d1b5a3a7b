import { tmpdir } from "node:os";
import { join } from "node:path";
import { MeshError, noopLogger } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { compileDeploymentSettings } from "./deployment-settings.js";
import type { DeploymentSpec } from "./driver.js";
import { localDriver } from "./local/local-driver.js";
import { balancerEnvironment, workerEnvironment } from "./process-environment.js";
import { tradingProject } from "./test-projects.js";

const routing = { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } };

function problems(bindings: unknown): { message: string; window?: string; field?: string }[] {
  try {
    compileDeploymentSettings({ routing, bindings }, tradingProject());
  } catch (error) {
    if (error instanceof MeshError) return error.details.problems as { message: string }[];
    throw error;
  }
  throw new Error("the settings were accepted");
}

const BINDINGS = {
  outputs: { big: { subject: "trading.big", stream: "BIG" } },
  inputs: { trades: { stream: "TRADES", subject: "upstream.>", durable: "trading-trades" } },
};

function spec(settings: object): DeploymentSpec {
  const model = tradingProject();
  return {
    name: "trading",
    project: "<project/>",
    projectFormat: "xml",
    model,
    settings: compileDeploymentSettings({ routing, ...settings }, model),
    replicas: 1,
  };
}

describe("binding settings", () => {
  it("accepts output bindings on any window and input bindings on source windows", () => {
    const settings = compileDeploymentSettings({ routing, bindings: BINDINGS }, tradingProject());
    expect(settings.bindings).toEqual(BINDINGS);
  });

  it("leaves the compiled settings without bindings when none are given", () => {
    expect(compileDeploymentSettings({ routing }, tradingProject())).not.toHaveProperty("bindings");
  });

  it("rejects an input binding on a window that is not a source, naming the window", () => {
    const found = problems({ inputs: { big: { stream: "S", durable: "d" } } });
    expect(found).toEqual([
      expect.objectContaining({ window: "big", message: expect.stringMatching(/not a source window/) }),
    ]);
  });

  it("rejects unknown windows, missing fields and bad names, naming window and field", () => {
    const found = problems({
      outputs: { nope: { subject: "a" }, big: { subject: "a.*" }, bySymbol: { subject: "ok", stream: "has.dot" } },
      inputs: { trades: { stream: "S" }, quotes: { stream: "S", durable: "d", extra: 1 } },
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ window: "nope", message: expect.stringMatching(/unknown window "nope"/) }),
        expect.objectContaining({
          window: "big",
          field: "subject",
          message: expect.stringMatching(/without wildcards/),
        }),
        expect.objectContaining({ window: "bySymbol", field: "stream" }),
        expect.objectContaining({ window: "trades", field: "durable" }),
        expect.objectContaining({ window: "quotes", field: "extra" }),
      ]),
    );
  });

  it("rejects two source windows reading the same durable", () => {
    const found = problems({
      inputs: { trades: { stream: "S", durable: "d" }, quotes: { stream: "S", durable: "d" } },
    });
    expect(found).toEqual([
      expect.objectContaining({ field: "durable", message: expect.stringMatching(/one reader/) }),
    ]);
  });

  it("passes the input binding to the balancer and ESPMESH_NATS_URL to both roles", () => {
    const withBindings = spec({ bindings: BINDINGS });
    const balancer = balancerEnvironment(withBindings, { id: "b", address: "a", natsUrl: "nats://127.0.0.1:4222" });
    expect(balancer.ESPMESH_NATS_URL).toBe("nats://127.0.0.1:4222");
    const sources = JSON.parse(balancer.ESPMESH_DEPLOYMENT_JSON ?? "").sources as { name: string; input?: unknown }[];
    expect(sources.find((source) => source.name === "trades")?.input).toEqual(BINDINGS.inputs.trades);
    expect(sources.find((source) => source.name === "quotes")?.input).toBeUndefined();
    const worker = workerEnvironment(withBindings, "/p", { id: "w", address: "a", natsUrl: "nats://n" });
    expect(worker.ESPMESH_NATS_URL).toBe("nats://n");
    expect(JSON.parse(worker.ESPMESH_SETTINGS ?? "").bindings.outputs).toEqual(BINDINGS.outputs);
    expect(workerEnvironment(spec({}), "/p", { id: "w", address: "a", natsUrl: "n" }).ESPMESH_NATS_URL).toBeUndefined();
  });

  it("refuses to run a deployment with bindings locally when the control plane has no NATS URL", async () => {
    const driver = localDriver({ workDir: join(tmpdir(), `espmesh-bindings-${process.pid}`) })({
      registryAddress: "127.0.0.1:1",
      membership: () => ({ version: 0, members: [] }),
      onScaled: () => undefined,
      logger: noopLogger,
    });
    await expect(driver.apply(spec({ bindings: BINDINGS }))).rejects.toMatchObject({
      code: "FAILED_PRECONDITION",
      message: expect.stringMatching(/ESPMESH_NATS_URL/),
    });
    await driver.stop();
  });
});
