import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deploymentNameOf, deploySettings } from "./deploy-settings.js";

const PROJECT = `
name: p
windows:
  - { name: trades, kind: source, schema: "id*:int64,symbol:string,qty:int32" }
  - { name: quotes, kind: source, schema: "symbol*:string,bid:double" }
`;

describe("deploySettings", () => {
  it("applies --policy and --hash-fields to every source window", async () => {
    const settings = await deploySettings(PROJECT, { policy: "hash", hashFields: "symbol, id" });
    expect(settings.routing).toEqual({
      trades: { policy: "hash", hashFields: ["symbol", "id"] },
      quotes: { policy: "hash", hashFields: ["symbol", "id"] },
    });
  });

  it("puts the replica and CPU flags over --settings JSON", async () => {
    const settings = await deploySettings(PROJECT, {
      settings: '{"minReplicas": 1, "state": "none", "routing": {"quotes": {"policy": "multicast"}}}',
      minReplicas: "2",
      maxReplicas: "5",
      targetCpu: "60",
      hashFields: "symbol",
    });
    expect(settings).toEqual({
      minReplicas: 2,
      maxReplicas: 5,
      targetCpuUtilization: 60,
      state: "none",
      routing: { trades: { hashFields: ["symbol"] }, quotes: { policy: "multicast", hashFields: ["symbol"] } },
    });
  });

  it("reads --settings @file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "espmesh-settings-"));
    try {
      const file = join(dir, "settings.json");
      await writeFile(file, '{"shards": 64}');
      expect(await deploySettings(PROJECT, { settings: `@${file}` })).toEqual({ shards: 64 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses settings that are not a JSON object, and non-integer flags, naming them", async () => {
    await expect(deploySettings(PROJECT, { settings: "{nope" })).rejects.toThrow(/--settings is not JSON/);
    await expect(deploySettings(PROJECT, { settings: "[1]" })).rejects.toThrow(/--settings must be a JSON object/);
    await expect(deploySettings(PROJECT, { minReplicas: "two" })).rejects.toThrow(/--min-replicas must be an integer/);
  });

  it("refuses a broken project with the loader's message when the routing flags need its source windows", async () => {
    await expect(deploySettings("name: p\nwindows: [{ name: x, kind: nope }]", { policy: "hash" })).rejects.toThrow(
      /nope/,
    );
  });
});

describe("deploymentNameOf", () => {
  it("names a deployment after its file, lower-cased, other characters made dashes", () => {
    expect(deploymentNameOf("/projects/Trades_Project.v2.xml")).toBe("trades-project-v2");
    expect(deploymentNameOf("orders.yaml")).toBe("orders");
  });

  it("asks for --name when the file name has no letter to start with", () => {
    expect(() => deploymentNameOf("2024.xml")).toThrow(/give --name/);
  });
});
