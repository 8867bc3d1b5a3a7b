import { WorkerService } from "@espmesh/proto";
import { ProbeClients } from "./probe-clients.js";

/**
 * Asks workers for their Health (status, shards owned) on behalf of status calls: best effort,
 * with a short deadline; a worker that does not answer is reported without the figure.
 */
export class WorkerProbe {
  readonly #clients = new ProbeClients(WorkerService);
  readonly #timeoutMs: number;

  /** @param timeoutMs deadline of one Health call. @default 300 */
  constructor(timeoutMs = 300) {
    this.#timeoutMs = timeoutMs;
  }

  /** Shards owned by each worker address that answered (addresses that did not are absent). */
  async shardsOwned(addresses: readonly string[]): Promise<Map<string, number>> {
    const results = await Promise.all(
      addresses.map(async (address) => {
        try {
          const health = await this.#clients.of(address).health({}, { deadline: this.#timeoutMs });
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
    this.#clients.prune(keep);
  }

  /** Closes every client. */
  close(): void {
    this.#clients.close();
  }
}
