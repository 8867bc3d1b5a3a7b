import { createServiceClient, RegistryService } from "@espmesh/proto";
import { type Logger, MeshError, noopLogger } from "@espmesh/telemetry";
import { Backoff, type BackoffOptions, sleep } from "./backoff.js";
import { SnapshotHub } from "./snapshot-hub.js";
import type { Registry } from "./types.js";

/** Options of {@link createLocalRegistry}. */
export interface LocalRegistryOptions {
  /** `host:port` of the RegistryService (the local registry server or the control plane). */
  address: string;
  /** The deployment whose workers are watched. */
  deployment: string;
  /** Delays between reconnects. @default { initialMs: 200, maxMs: 5000 } */
  backoff?: BackoffOptions;
  /** @default no-op */
  logger?: Logger;
}

/**
 * Worker membership from a RegistryService Watch stream. The stream is reopened with backoff
 * when it breaks; meanwhile the last membership stays current. Starts with the first `watch`.
 */
export function createLocalRegistry(options: LocalRegistryOptions): Registry {
  if (options.address === "") throw new MeshError("INVALID_ARGUMENT", "local registry: `address` is required");
  if (options.deployment === "") throw new MeshError("INVALID_ARGUMENT", "local registry: `deployment` is required");
  const logger = (options.logger ?? noopLogger).child({ component: "registry" });
  const hub = new SnapshotHub();
  const stop = new AbortController();
  let loop: Promise<void> | undefined;

  async function run(): Promise<void> {
    const client = createServiceClient(RegistryService, options.address);
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000, ...options.backoff });
    try {
      while (!stop.signal.aborted) {
        try {
          for await (const response of client.watch({ deployment: options.deployment }, { signal: stop.signal })) {
            backoff.reset();
            hub.publish(response.membership?.members ?? []);
          }
        } catch (error) {
          if (stop.signal.aborted) break;
          logger.warn(
            {
              address: options.address,
              deployment: options.deployment,
              err: MeshError.from(error),
            },
            "registry watch failed; retrying",
          );
        }
        await sleep(backoff.next(), stop.signal);
      }
    } finally {
      client.close();
    }
  }

  return {
    watch(signal) {
      if (loop === undefined && !hub.closed) {
        loop = run().catch((error: unknown) => {
          logger.error({ err: MeshError.from(error) }, "registry watch loop failed");
        });
      }
      return hub.watch(signal);
    },
    async close() {
      hub.close();
      stop.abort();
      await loop;
    },
  };
}
