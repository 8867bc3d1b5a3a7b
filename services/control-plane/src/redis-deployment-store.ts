import { MeshError } from "@espmesh/telemetry";
import { Redis } from "ioredis";
import type { DeploymentStore, StoredDeployment } from "./deployment-store.js";

/** Options of {@link createRedisDeploymentStore}. */
export interface RedisDeploymentStoreOptions {
  /** `redis://host:port[/db]` */
  url: string;
  /** The hash holding one field per deployment. @default "espmesh:control:deployments" */
  key?: string;
}

function unavailable(error: unknown): MeshError {
  return new MeshError("UNAVAILABLE", `deployment store (Redis) failed: ${(error as Error).message}`, { cause: error });
}

/** Deployments in a Redis hash: one field per deployment name, its JSON as the value. */
export function createRedisDeploymentStore(options: RedisDeploymentStoreOptions): DeploymentStore {
  const key = options.key ?? "espmesh:control:deployments";
  const redis = new Redis(options.url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  // Errors reach the callers through the failed commands below; the event only needs a listener.
  redis.on("error", () => undefined);
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw unavailable(error);
    }
  };
  return {
    list: () =>
      call(async () => {
        const all = await redis.hgetall(key);
        return Object.values(all)
          .map((text) => JSON.parse(text) as StoredDeployment)
          .sort((a, b) => a.name.localeCompare(b.name));
      }),
    get: (name) =>
      call(async () => {
        const text = await redis.hget(key, name);
        return text === null ? undefined : (JSON.parse(text) as StoredDeployment);
      }),
    put: (deployment) =>
      call(async () => {
        await redis.hset(key, deployment.name, JSON.stringify(deployment));
      }),
    delete: (name) => call(async () => (await redis.hdel(key, name)) > 0),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
