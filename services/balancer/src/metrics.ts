import { getMeter } from "@espmesh/telemetry";

/** Where the gauges read the balancer's current state. */
export interface MetricsSource {
  /** In-flight events and bytes per worker id. */
  inflight(): Iterable<{ worker: string; events: number; bytes: number }>;
  /** Events held for paused or unowned shards. */
  heldEvents(): number;
}

/**
 * The balancer's instruments (OpenTelemetry API; they record into whatever provider the service
 * registers): events in and out per window, in flight per worker, held events, shard moves and
 * hand-off pauses.
 */
export interface BalancerMetrics {
  /** Events read from publishers, by `window`. */
  readonly eventsIn: { add(value: number, attributes: { window: string }): void };
  /** Events sent to workers (each multicast copy counts), by `window`. */
  readonly eventsOut: { add(value: number, attributes: { window: string }): void };
  /** Shards that changed owner. */
  readonly shardMoves: { add(value: number): void };
  /** How long moved shards were paused during a hand-off, in ms. */
  readonly handoffPause: { record(value: number): void };
  /** Origins answered, by `result` (`ack` or `error`). */
  readonly replies: { add(value: number, attributes: { result: "ack" | "error" }): void };
  /** Stops reporting the gauges of this balancer. */
  close(): void;
}

/** Creates the instruments of one balancer; gauges read `source` when collected. */
export function createBalancerMetrics(source: MetricsSource): BalancerMetrics {
  const meter = getMeter("@espmesh/balancer");
  const inflightEvents = meter.createObservableGauge("espmesh.balancer.inflight.events", {
    description: "Events sent to a worker and not yet committed",
  });
  const inflightBytes = meter.createObservableGauge("espmesh.balancer.inflight.bytes", {
    description: "Estimated bytes sent to a worker and not yet committed",
    unit: "By",
  });
  const held = meter.createObservableGauge("espmesh.balancer.held.events", {
    description: "Events held while their shards have no owner",
  });
  const observe = (
    result: { observe(value: number, attributes?: Record<string, string>): void },
    pick: "events" | "bytes",
  ) => {
    for (const entry of source.inflight()) result.observe(entry[pick], { worker: entry.worker });
  };
  const observeEvents = (result: Parameters<typeof observe>[0]) => observe(result, "events");
  const observeBytes = (result: Parameters<typeof observe>[0]) => observe(result, "bytes");
  const observeHeld = (result: Parameters<typeof observe>[0]) => result.observe(source.heldEvents());
  inflightEvents.addCallback(observeEvents);
  inflightBytes.addCallback(observeBytes);
  held.addCallback(observeHeld);
  return {
    eventsIn: meter.createCounter("espmesh.balancer.events.in", { description: "Events read from publishers" }),
    eventsOut: meter.createCounter("espmesh.balancer.events.out", { description: "Events sent to workers" }),
    shardMoves: meter.createCounter("espmesh.balancer.shard.moves", { description: "Shards that changed owner" }),
    handoffPause: meter.createHistogram("espmesh.balancer.handoff.pause", {
      description: "Time moved shards were paused during a hand-off",
      unit: "ms",
    }),
    replies: meter.createCounter("espmesh.balancer.replies", { description: "Published origins answered" }),
    close() {
      inflightEvents.removeCallback(observeEvents);
      inflightBytes.removeCallback(observeBytes);
      held.removeCallback(observeHeld);
    },
  };
}
