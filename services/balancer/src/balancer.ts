import * as pb from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import * as grpc from "@grpc/grpc-js";
import { Dispatcher } from "./dispatcher.js";
import { type FanInContext, queryWindow, subscribe } from "./fan-in.js";
import { type InputFeeds, type InputLag, startInputFeeds } from "./input-bindings.js";
import { type BalancerMetrics, createBalancerMetrics } from "./metrics.js";
import { type BalancerOptions, type CompiledBalancerOptions, compileBalancerOptions } from "./options.js";
import { type PublishContext, servePublish } from "./publish.js";
import { statsResponse } from "./stats-service.js";
import { WorkerPool } from "./worker-pool.js";

/** Lifecycle of a balancer. */
export type BalancerState = "created" | "starting" | "running" | "draining" | "stopped";

/** One worker as the balancer sees it now. */
export interface BalancerWorkerStats {
  readonly id: string;
  readonly state: "connecting" | "ready" | "closed";
  /** Events sent and not yet committed. */
  readonly inflightEvents: number;
  /** Estimated bytes sent and not yet committed. */
  readonly inflightBytes: number;
  /** Shards it owns now. */
  readonly shards: number;
}

/** The balancer's current state, for status pages and tests. */
export interface BalancerStats {
  readonly state: BalancerState;
  readonly workers: readonly BalancerWorkerStats[];
  /** Events held for shards without an owner (paused by a hand-off, or no worker yet). */
  readonly heldEvents: number;
  /** Published origins not answered yet. */
  readonly outstanding: number;
  /** Events read from publishers and input bindings since start. */
  readonly eventsIn: number;
  /** Events sent to workers since start (each multicast copy counts). */
  readonly eventsOut: number;
  /** Events read per second over the last few seconds. */
  readonly eventsPerSecond: number;
  /** Shards that changed owner since start. */
  readonly shardMoves: number;
}

/** The balancer of one deployment (DESIGN §5): ingest, routing, in-flight tracking, hand-off, fan-in. */
export interface Balancer {
  /** Listens and starts following the membership. */
  start(): Promise<{ port: number }>;
  /**
   * Drains: stops reading publishers, waits (up to `drainTimeoutMs`) until every origin read is
   * committed and answered, then closes worker streams, subscriptions and the server.
   */
  stop(): Promise<void>;
  /** `host:port` once started. */
  readonly address: string | undefined;
  readonly state: BalancerState;
  /** Current workers, in-flight and held counts. */
  stats(): BalancerStats;
  /** The owner (worker id) of every shard, undefined = none right now. */
  owners(): (string | undefined)[];
  /** The backlog of every source's input binding (empty without bindings). */
  inputLag(): Promise<InputLag[]>;
}

/** Creates a balancer; nothing listens until `start()`. */
export function createBalancer(options: BalancerOptions): Balancer {
  return new BalancerImpl(compileBalancerOptions(options));
}

class BalancerImpl implements Balancer {
  state: BalancerState = "created";
  address: string | undefined;
  private readonly dispatcher: Dispatcher;
  private readonly pool: WorkerPool;
  private readonly metrics: BalancerMetrics;
  private readonly server = new grpc.Server();
  private readonly draining = new AbortController();
  private readonly stopping = new AbortController();
  private outstanding = 0;
  private onDrained: (() => void) | undefined;
  private watching: Promise<void> | undefined;
  private feeds: InputFeeds | undefined;

  constructor(private readonly options: CompiledBalancerOptions) {
    this.metrics = createBalancerMetrics({
      inflight: () =>
        [...this.dispatcher.links.values()].map((link) => ({
          worker: link.id,
          events: link.inflightEvents,
          bytes: link.inflightBytes,
        })),
      heldEvents: () => this.dispatcher.heldEvents,
    });
    this.dispatcher = new Dispatcher(options, this.metrics);
    this.pool = new WorkerPool(options, this.dispatcher, this.metrics);
  }

  async start(): Promise<{ port: number }> {
    if (this.state !== "created") throw new MeshError("FAILED_PRECONDITION", `the balancer is ${this.state}`);
    this.state = "starting";
    const publishContext: PublishContext = {
      options: this.options,
      dispatcher: this.dispatcher,
      metrics: this.metrics,
      logger: this.options.logger,
      draining: this.draining.signal,
      outstanding: { add: (n) => this.countOutstanding(n) },
    };
    const fanIn: FanInContext = {
      project: this.options.project,
      pool: this.pool,
      logger: this.options.logger,
      stopping: this.stopping.signal,
    };
    pb.addService(
      this.server,
      pb.IngestService,
      {
        publish: (requests, call) => servePublish(requests, call.signal, publishContext),
        subscribe: (request, call) => subscribe(request, call.signal, fanIn),
        queryWindow: (request, call) => queryWindow(request, call.signal, fanIn),
      },
      { readers: { publish: pb.readPublishRequest } },
    );
    pb.addService(this.server, pb.BalancerService, { stats: () => statsResponse(this) });
    const port = await pb.bindServer(this.server, this.options.listen, this.options.serverCredentials);
    const host = this.options.listen.slice(0, this.options.listen.lastIndexOf(":"));
    this.address = `${host}:${port}`;
    this.watching = this.watchMembership();
    this.state = "running";
    try {
      this.feeds = await startInputFeeds(publishContext, this.options.balancerId);
    } catch (error) {
      await this.stop();
      throw MeshError.from(error);
    }
    this.options.logger.info({ address: this.address, project: this.options.project }, "balancer listening");
    return { port };
  }

  private async watchMembership(): Promise<void> {
    try {
      for await (const snapshot of this.options.membership.watch(this.stopping.signal)) this.pool.update(snapshot);
    } catch (error) {
      if (!this.stopping.signal.aborted)
        this.options.logger.error({ err: MeshError.from(error) }, "membership watch failed");
    }
  }

  private countOutstanding(n: number): void {
    this.outstanding += n;
    if (this.outstanding === 0) this.onDrained?.();
  }

  async stop(): Promise<void> {
    if (this.state === "stopped" || this.state === "draining") return;
    if (this.state === "created") {
      this.state = "stopped";
      this.metrics.close();
      return;
    }
    this.state = "draining";
    this.draining.abort(new MeshError("UNAVAILABLE", "the balancer is draining"));
    if (this.outstanding > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.drainTimeoutMs);
        this.onDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    if (this.outstanding > 0) {
      this.options.logger.warn({ outstanding: this.outstanding }, "stopping with origins not yet committed");
    }
    // Input readers stopped reading when draining began; closing flushes the acks sent.
    await this.feeds?.close();
    this.stopping.abort(new MeshError("CANCELLED", "the balancer is stopping"));
    this.pool.stop();
    this.dispatcher.clear();
    await pb.shutdownServer(this.server, 2000);
    await this.watching;
    await this.pool.settled();
    this.metrics.close();
    this.state = "stopped";
  }

  stats(): BalancerStats {
    const owned = new Map<number, number>();
    for (const slot of this.dispatcher.effective) if (slot >= 0) owned.set(slot, (owned.get(slot) ?? 0) + 1);
    return {
      state: this.state,
      workers: [...this.dispatcher.links.values()].map((link) => ({
        id: link.id,
        state: link.state,
        inflightEvents: link.inflightEvents,
        inflightBytes: link.inflightBytes,
        shards: owned.get(link.slot) ?? 0,
      })),
      heldEvents: this.dispatcher.heldEvents,
      outstanding: this.outstanding,
      ...this.metrics.totals,
      eventsPerSecond: this.metrics.eventsPerSecond(),
    };
  }

  async inputLag(): Promise<InputLag[]> {
    return (await this.feeds?.lag()) ?? [];
  }

  owners(): (string | undefined)[] {
    return Array.from(this.dispatcher.effective, (slot) =>
      slot < 0 ? undefined : this.dispatcher.links.get(slot)?.id,
    );
  }
}
