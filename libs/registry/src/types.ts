/** One worker as the registry sees it. */
export interface Member {
  /** Stable id: the pod name on Kubernetes, the worker's name locally. */
  readonly id: string;
  /** `host:port` of the worker's gRPC server (`[v6]:port` for IPv6). */
  readonly address: string;
  /** Takes new shards. Only ready members should be given shards. */
  readonly ready: boolean;
  /** Still answers requests (true while a terminating member drains). */
  readonly serving: boolean;
  /** Going away: drain what it has, give it nothing new. */
  readonly terminating: boolean;
}

/** The whole membership at one moment. */
export interface MembershipSnapshot {
  /** Increases by one with every change a registry publishes; starts at 1. */
  readonly version: number;
  /** Members sorted by id; no id appears twice. Frozen: do not modify. */
  readonly members: Member[];
}

/**
 * A source of worker membership. `watch` yields the current snapshot first (as soon as the
 * registry knows one, which may be an empty membership) and then every later change. A slow
 * reader is never queued up: it gets the newest snapshot, skipping ones it had no time for.
 */
export interface Registry {
  /** Membership snapshots until `signal` aborts or the registry is closed. */
  watch(signal?: AbortSignal): AsyncIterable<MembershipSnapshot>;
  /** Stops the registry's background work; every open watch ends. */
  close(): Promise<void>;
}
