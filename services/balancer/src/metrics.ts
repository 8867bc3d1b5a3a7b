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
  /** Running totals since the balancer started, for its Stats call. */
  readonly totals: BalancerTotals;
  /** Events read per second over the last few seconds. */
  eventsPerSecond(): number;
  /** Stops reporting the gauges of this balancer and its rate sampling. */
  close(): void;
}

/** Counts since the balancer started. */
export interface BalancerTotals {
  readonly eventsIn: number;
  readonly eventsOut: number;
  readonly shardMoves: number;
}

/** A monotonic sum by one attribute, kept in process and observed when metrics are collected. */
interface LocalCounter {
  add(value: number, attribute: string): void;
  /** The sum over every attribute value. */
  readonly total: number;
  close(): void;
}

function localCounter(
  meter: ReturnType<typeof getMeter>,
  name: string,
  description: string,
  key: string,
): LocalCounter {
  const sums = new Map<string, { readonly attributes: Record<string, string>; value: number }>();
  const counter = meter.createObservableCounter(name, { description });
  const observe = (result: { observe(value: number, attributes?: Record<string, string>): void }) => {
    for (const sum of sums.values()) result.observe(sum.value, sum.attributes);
  };
  counter.addCallback(observe);
  let total = 0;
  return {
    get total() {
      return total;
    },
    add(value, attribute) {
      total += value;
      const sum = sums.get(attribute);
      if (sum === undefined) sums.set(attribute, { attributes: { [key]: attribute }, value });
      else sum.value += value;
    },
    close() {
      counter.removeCallback(observe);
    },
  };
}

const RATE_SAMPLE_MS = 1000;
const RATE_SAMPLES = 5;

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
  // Events in and out and replies are counted here and reported as cumulative sums when the
  // metrics are collected: adding to an OpenTelemetry counter with attributes on every batch
  // hashes the attributes each time.
  const eventsIn = localCounter(meter, "espmesh.balancer.events.in", "Events read from publishers", "window");
  const eventsOut = localCounter(meter, "espmesh.balancer.events.out", "Events sent to workers", "window");
  const replies = localCounter(meter, "espmesh.balancer.replies", "Published origins answered", "result");
  const shardMoves = meter.createCounter("espmesh.balancer.shard.moves", {
    description: "Shards that changed owner",
  });
  let moves = 0;
  const totals: BalancerTotals = {
    get eventsIn() {
      return eventsIn.total;
    },
    get eventsOut() {
      return eventsOut.total;
    },
    get shardMoves() {
      return moves;
    },
  };
  // The rate is read from samples of the running total taken once a second, oldest first.
  const samples: { atMs: number; eventsIn: number }[] = [{ atMs: Date.now(), eventsIn: 0 }];
  const sampler = setInterval(() => {
    samples.push({ atMs: Date.now(), eventsIn: totals.eventsIn });
    if (samples.length > RATE_SAMPLES + 1) samples.shift();
  }, RATE_SAMPLE_MS);
  sampler.unref();
  return {
    eventsIn: {
      add(value, attributes) {
        eventsIn.add(value, attributes.window);
      },
    },
    eventsOut: {
      add(value, attributes) {
        eventsOut.add(value, attributes.window);
      },
    },
    shardMoves: {
      add(value) {
        moves += value;
        shardMoves.add(value);
      },
    },
    totals,
    eventsPerSecond() {
      const oldest = samples[0] as { atMs: number; eventsIn: number };
      const elapsedMs = Date.now() - oldest.atMs;
      return elapsedMs <= 0 ? 0 : ((totals.eventsIn - oldest.eventsIn) * 1000) / elapsedMs;
    },
    handoffPause: meter.createHistogram("espmesh.balancer.handoff.pause", {
      description: "Time moved shards were paused during a hand-off",
      unit: "ms",
    }),
    replies: {
      add(value, attributes) {
        replies.add(value, attributes.result);
      },
    },
    close() {
      clearInterval(sampler);
      eventsIn.close();
      eventsOut.close();
      replies.close();
      inflightEvents.removeCallback(observeEvents);
      inflightBytes.removeCallback(observeBytes);
      held.removeCallback(observeHeld);
    },
  };
}
