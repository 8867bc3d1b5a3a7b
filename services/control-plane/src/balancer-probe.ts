import { BalancerService, type StatsResponse } from "@espmesh/proto";
import { ProbeClients } from "./probe-clients.js";

/**
 * Asks a deployment's balancer for its figures (events/s, in flight, shard moves, input lag) on
 * behalf of status calls: best effort, with a short deadline; undefined when it does not answer.
 */
export class BalancerProbe {
  readonly #clients = new ProbeClients(BalancerService);
  readonly #timeoutMs: number;

  /** @param timeoutMs deadline of one Stats call (it asks NATS for the input lag). @default 2000 */
  constructor(timeoutMs = 2000) {
    this.#timeoutMs = timeoutMs;
  }

  async stats(address: string): Promise<StatsResponse | undefined> {
    if (address === "") return undefined;
    try {
      return await this.#clients.of(address).stats({}, { deadline: this.#timeoutMs });
    } catch {
      // Starting, draining or gone: the status says the balancer was not reachable.
      return undefined;
    }
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
