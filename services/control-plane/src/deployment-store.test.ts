import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RedisServer, startRedis } from "@espmesh/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeploymentStore, StoredDeployment } from "./deployment-store.js";
import { createFileDeploymentStore } from "./file-deployment-store.js";
import { createRedisDeploymentStore } from "./redis-deployment-store.js";

function deployment(name: string, replicas = 1): StoredDeployment {
  return {
    name,
    project: '{"test-project":"plain"}',
    projectFormat: "json",
    settingsJson: '{"minReplicas":1}',
    replicas,
    createdAtMs: 1,
    updatedAtMs: 2,
  };
}

async function exercise(open: () => Promise<DeploymentStore>): Promise<void> {
  const first = await open();
  await first.put(deployment("b"));
  await first.put(deployment("a"));
  await first.put(deployment("b", 3));
  expect(await first.delete("missing")).toBe(false);
  await first.put(deployment("c"));
  expect(await first.delete("c")).toBe(true);
  await first.close();
  const reopened = await open();
  expect((await reopened.list()).map((d) => [d.name, d.replicas])).toEqual([
    ["a", 1],
    ["b", 3],
  ]);
  expect(await reopened.get("a")).toEqual(deployment("a"));
  expect(await reopened.get("c")).toBeUndefined();
  await reopened.close();
}

describe("deployment stores keep deployments across a reopen", () => {
  let directory: string;
  let redis: RedisServer;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "espmesh-store-"));
    redis = await startRedis();
  });

  afterAll(async () => {
    await redis.stop();
    await rm(directory, { recursive: true, force: true });
  });

  it("file store", async () => {
    await exercise(() => createFileDeploymentStore(join(directory, "nested", "deployments.json")));
  });

  it("redis store", async () => {
    await exercise(async () => createRedisDeploymentStore({ url: redis.url }));
  });

  it("file store reports an unreadable file", async () => {
    await expect(createFileDeploymentStore(directory)).rejects.toMatchObject({ code: "FAILED_PRECONDITION" });
  });
});
