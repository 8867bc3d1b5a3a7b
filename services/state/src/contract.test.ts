import { createServiceBackend } from "@espmesh/state-client";
import { CONTRACT_MAX_COMMIT_BYTES, describeStateBackendContract } from "@espmesh/state-client/contract";
import { startRedis } from "@espmesh/testing";
import { createStateService } from "./state-service.js";

describeStateBackendContract("service over redis", async () => {
  const redis = await startRedis();
  const service = createStateService({ redisUrl: redis.url, maxCommitBytes: CONTRACT_MAX_COMMIT_BYTES });
  await service.start();
  return {
    create: (scope) => createServiceBackend({ ...scope, address: service.address, retryTimeoutMs: 2000 }),
    stop: async () => {
      await service.stop();
      await redis.stop();
    },
  };
});

describeStateBackendContract("service over its memory store (embedded mode)", async () => {
  const service = createStateService({ store: "memory", maxCommitBytes: CONTRACT_MAX_COMMIT_BYTES });
  await service.start();
  return {
    create: (scope) => createServiceBackend({ ...scope, address: service.address, retryTimeoutMs: 2000 }),
    stop: () => service.stop(),
  };
});
