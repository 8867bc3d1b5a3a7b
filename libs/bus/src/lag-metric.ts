import { getMeter } from "@espmesh/telemetry";

/** A durable consumer's backlog. */
export interface ConsumerLag {
  /** Messages in the stream (matching the filter) not delivered to the consumer yet. */
  readonly pending: number;
  /** Messages delivered and not acknowledged yet. */
  readonly ackPending: number;
}

/** Labels of one consumer's lag series. */
export interface LagLabels {
  readonly stream: string;
  readonly durable: string;
}

const meter = getMeter("@espmesh/bus");

/** Messages rejected by input bindings (bad JSON, wrong schema, unknown content type), by reason. */
export const rejectedMessages = meter.createCounter("espmesh_bus_rejected_messages", {
  description: "input messages that could not be read as batches and were terminated",
});

const lagGauge = meter.createObservableGauge("espmesh_bus_consumer_lag", {
  description: "messages of a durable consumer not acknowledged yet (pending + ack pending), for autoscaling on lag",
});

interface Watched {
  readonly labels: LagLabels;
  readonly read: () => Promise<ConsumerLag>;
  last: ConsumerLag | undefined;
}

const watched = new Set<Watched>();

lagGauge.addCallback(async (result) => {
  await Promise.all(
    [...watched].map(async (entry) => {
      try {
        entry.last = await entry.read();
      } catch {
        // NATS unreachable or the durable not created yet: report the last known lag, if any.
      }
      if (entry.last !== undefined) {
        result.observe(entry.last.pending + entry.last.ackPending, {
          stream: entry.labels.stream,
          durable: entry.labels.durable,
        });
      }
    }),
  );
});

/**
 * Reports a consumer's lag as `espmesh_bus_consumer_lag{stream,durable}` (pending + ack pending),
 * read through `read` at each collection; returns the function that stops reporting it.
 */
export function watchLag(labels: LagLabels, read: () => Promise<ConsumerLag>): () => void {
  const entry: Watched = { labels, read, last: undefined };
  watched.add(entry);
  return () => {
    watched.delete(entry);
  };
}
