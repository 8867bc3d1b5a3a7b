import type { DescService } from "@bufbuild/protobuf";
import { createServiceClient, type ServiceClient } from "@espmesh/proto";

/** One gRPC client per address for best-effort status calls; clients of addresses gone are closed. */
export class ProbeClients<S extends DescService> {
  readonly #service: S;
  readonly #clients = new Map<string, ServiceClient<S>>();

  constructor(service: S) {
    this.#service = service;
  }

  /** The client of `address`, created on first use. */
  of(address: string): ServiceClient<S> {
    let client = this.#clients.get(address);
    if (client === undefined) {
      client = createServiceClient(this.#service, address);
      this.#clients.set(address, client);
    }
    return client;
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
