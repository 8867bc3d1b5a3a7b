import { createServiceClient, type ServiceClient, WorkerService } from "@espmesh/proto";

/**
 * Asks workers for their Health (status, shards owned) on behalf of status calls: best effort,
 * with a short deadline; a worker that does not answer is reported without the figure. Keeps
 * one client per worker address and drops those of workers no longer asked about.
 */
export class WorkerProbe {
  readonly #clients = new Map<string, ServiceClient<typeof WorkerService>>();
  readonly #timeoutMs: number;

  /** @param timeoutMs deadline of one Health call. @default 300 */
  constructor(timeoutMs = 300) {
    this.#timeoutMs = timeoutMs;
  }

  /** Shards owned by each worker address that answered (addresses that did not are absent). */
  async shardsOwned(addresses: readonly string[]): Promise<Map<string, number>> {
    const results = await Promise.all(
      addresses.map(async (address) => {
        let client = this.#clients.get(address);
        if (client === undefined) {
          client = createServiceClient(WorkerService, address);
          this.#clients.set(address, client);
        }
        try {
          const health = await client.health({}, { deadline: this.#timeoutMs });
          return [address, health.shardsOwned] as const;
        } catch {
          // Not answering (starting, gone, or no Health yet): reported without the figure.
          return undefined;
        }
      }),
    );
    return new Map(results.filter((entry) => entry !== undefined));
  }

  /** Closes clients of addresses not in `keep`. */
  prune(keep: ReadonlySet<string>): void {
    for (const [address, client] of this.#clients) {
      if (!keep.has(address)) {
        client.close();
        this.#clients.delete(address);
      }
    }
  }

  /** Closes every client. */
  close(): void {
    this.prune(new Set());
  }
}
