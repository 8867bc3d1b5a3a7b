import { MeshError } from "@espmesh/telemetry";
import { describe, expect, it } from "vitest";
import { compileDeploymentSettings } from "./deployment-settings.js";
import { statelessProject, tradingProject } from "./test-projects.js";

function rejection(settings: object | string): MeshError {
  try {
    compileDeploymentSettings(typeof settings === "string" ? settings : JSON.stringify(settings), tradingProject());
  } catch (error) {
    if (error instanceof MeshError) return error;
    throw error;
  }
  throw new Error("the settings were accepted");
}

describe("compileDeploymentSettings", () => {
  it("fills every default: consistent-hash on each source's key fields, 1..1 replicas, state service", () => {
    const settings = compileDeploymentSettings("", statelessProject());
    expect(settings).toEqual({
      routing: { events: { policy: "consistent-hash", hashFields: ["id"] } },
      minReplicas: 1,
      maxReplicas: 1,
      targetCpuUtilization: 70,
      state: "service",
      shards: 4096,
      checkpointIntervalMs: 100,
    });
  });

  it("accepts a join fed by multicast quotes and trades hashed on the grouped field", () => {
    const settings = compileDeploymentSettings(
      {
        routing: { trades: { policy: "hash", hashFields: ["sym"] }, quotes: { policy: "multicast" } },
        minReplicas: 2,
        maxReplicas: 5,
        targetCpuUtilization: 60,
        state: "none",
        shards: 256,
        checkpointIntervalMs: 50,
      },
      tradingProject(),
    );
    expect(settings.routing).toEqual({
      trades: { policy: "hash", hashFields: ["sym"] },
      quotes: { policy: "multicast", hashFields: [] },
    });
    expect(settings).toMatchObject({
      minReplicas: 2,
      maxReplicas: 5,
      state: "none",
      shards: 256,
      checkpointIntervalMs: 50,
    });
  });

  it("takes maxReplicas from minReplicas when only the minimum is given", () => {
    expect(compileDeploymentSettings({ minReplicas: 3 }, statelessProject()).maxReplicas).toBe(3);
  });

  it("runs the control plane's default replicas only when the settings name neither bound", () => {
    const defaults = { replicas: 3 };
    expect(compileDeploymentSettings({}, statelessProject(), defaults)).toMatchObject({
      minReplicas: 3,
      maxReplicas: 3,
    });
    expect(compileDeploymentSettings({ maxReplicas: 2 }, statelessProject(), defaults)).toMatchObject({
      minReplicas: 1,
      maxReplicas: 2,
    });
    expect(compileDeploymentSettings({ minReplicas: 2 }, statelessProject(), defaults)).toMatchObject({
      minReplicas: 2,
      maxReplicas: 2,
    });
  });

  it("rejects an unknown window, naming it and the source windows", () => {
    const error = rejection({ routing: { trade: { policy: "hash", hashFields: ["sym"] } } });
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain('routing: unknown window "trade"; source windows: quotes, trades');
    expect(error.details.window).toBe("trade");
  });

  it("rejects routing on a window that is not a source", () => {
    expect(rejection({ routing: { bySymbol: { policy: "multicast" } } }).message).toContain(
      'routing: window "bySymbol" is not a source window',
    );
  });

  it("rejects an unknown hash field, naming window and field", () => {
    const error = rejection({ routing: { trades: { policy: "hash", hashFields: ["symbol"] } } });
    expect(error.message).toContain(
      'routing.trades.hashFields: window "trades" has no field "symbol" (fields: id, sym, price)',
    );
    expect(error.details).toMatchObject({ window: "trades", field: "symbol" });
  });

  it("rejects min > max", () => {
    expect(rejection({ minReplicas: 4, maxReplicas: 2 }).message).toContain(
      "minReplicas (4) is greater than maxReplicas (2)",
    );
  });

  it("rejects an unknown policy", () => {
    expect(rejection({ routing: { quotes: { policy: "random" } } }).message).toContain(
      'routing.quotes.policy: unknown policy "random"; expected round-robin, multicast, hash, consistent-hash',
    );
  });

  it("rejects a stateful window whose key is not covered by its input's hash fields", () => {
    const error = rejection({ routing: { trades: { policy: "consistent-hash" }, quotes: { policy: "multicast" } } });
    expect(error.message).toContain(
      'window "bySymbol" keeps state by its group-by (sym) but source "trades" is routed by consistent-hash on (id): "id" is not part of that key',
    );
    expect(error.message).toContain('window "enriched" keeps state by its left join condition (sym)');
    expect(error.details).toMatchObject({ window: "bySymbol", field: "id" });
  });

  it("rejects round-robin into a stateful window, and accepts it into stateless ones", () => {
    expect(
      rejection({ routing: { trades: { policy: "round-robin" }, quotes: { policy: "multicast" } } }).message,
    ).toContain('window "bySymbol" keeps state by its group-by (sym) but source "trades" is routed round-robin');
    const plain = compileDeploymentSettings({ routing: { events: { policy: "round-robin" } } }, statelessProject());
    expect(plain.routing.events).toEqual({ policy: "round-robin", hashFields: [] });
  });

  it("rejects malformed JSON, unknown settings and out-of-range numbers", () => {
    expect(rejection("{nope").message).toContain("deployment settings are not valid JSON");
    const error = rejection({ replicas: 3, state: "redis", shards: 0, targetCpuUtilization: 1.5 });
    expect(error.message).toContain('unknown setting "replicas"');
    expect(error.message).toContain('state must be "service" or "none", not "redis"');
    expect(error.message).toContain("shards must be an integer from 1 to 1048576, not 0");
    expect(error.message).toContain("targetCpuUtilization must be an integer from 1 to 1000, not 1.5");
  });
});
