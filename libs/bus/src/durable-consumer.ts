import type { Logger } from "@espmesh/telemetry";
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
  ReplayPolicy,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { apiErrorCode, CONSUMER_NOT_FOUND, natsError } from "./nats-errors.js";

/** The durable pull consumer an input binding reads through. */
export interface DurableSpec {
  readonly stream: string;
  readonly durable: string;
  /** Filter subject, or undefined for every subject of the stream. */
  readonly subject: string | undefined;
  readonly ackWaitMs: number;
  readonly maxAckPending: number;
}

/** A durable opened for a binding. */
export interface OpenedDurable {
  readonly info: ConsumerInfo;
  /** Every message up to this stream sequence is acked (the durable's ack floor). */
  readonly ackFloor: number;
  /**
   * Highest stream sequence a previous reader of the durable may have seen: the durable was
   * rewound to its ack floor, so messages up to here may come a second time. 0 when not rewound.
   */
  readonly rewoundThrough: number;
}

function consumerConfig(spec: DurableSpec, startSeq: number | undefined): Partial<ConsumerConfig> {
  return {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    ...(startSeq === undefined
      ? { deliver_policy: DeliverPolicy.All }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }),
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: spec.maxAckPending,
    max_deliver: -1,
    replay_policy: ReplayPolicy.Instant,
    ...(spec.subject === undefined ? {} : { filter_subject: spec.subject }),
  };
}

/** Whether an existing consumer is an explicit-ack pull consumer configured as `spec` asks. */
function matches(info: ConsumerInfo, spec: DurableSpec): boolean {
  const config = info.config;
  return (
    config.ack_policy === AckPolicy.Explicit &&
    (config.deliver_subject ?? "") === "" &&
    (config.filter_subject ?? "") === (spec.subject ?? "") &&
    config.ack_wait === nanos(spec.ackWaitMs) &&
    config.max_ack_pending === spec.maxAckPending
  );
}

function where(spec: DurableSpec): string {
  return `durable "${spec.durable}" on stream "${spec.stream}"`;
}

/** The consumer's info, or undefined when it does not exist. */
export async function durableInfo(manager: JetStreamManager, spec: DurableSpec): Promise<ConsumerInfo | undefined> {
  try {
    return await manager.consumers.info(spec.stream, spec.durable);
  } catch (error) {
    if (apiErrorCode(error) === CONSUMER_NOT_FOUND) return undefined;
    throw natsError(`cannot look up ${where(spec)}`, error, { stream: spec.stream, durable: spec.durable });
  }
}

/**
 * Opens the durable at the start of a binding. A missing durable is created to deliver the whole
 * stream. An existing one is used as is when nothing is waiting for an ack and its configuration
 * matches; otherwise it is recreated to start at its ack floor + 1, so that every message not acked
 * yet comes again first and in stream order (JetStream would otherwise redeliver them only after
 * their ack wait, behind newer messages).
 * @throws MeshError NOT_FOUND when the stream does not exist; UNAVAILABLE when NATS does not answer.
 */
export async function openDurable(
  manager: JetStreamManager,
  spec: DurableSpec,
  logger: Logger,
): Promise<OpenedDurable> {
  const existing = await durableInfo(manager, spec);
  if (existing === undefined) {
    try {
      const info = await manager.consumers.add(spec.stream, consumerConfig(spec, undefined));
      logger.info({ stream: spec.stream, durable: spec.durable }, "durable consumer created");
      return { info, ackFloor: 0, rewoundThrough: 0 };
    } catch (error) {
      throw natsError(`cannot create ${where(spec)}`, error, { stream: spec.stream, durable: spec.durable });
    }
  }
  const ackFloor = existing.ack_floor.stream_seq;
  if (matches(existing, spec) && existing.num_ack_pending === 0) return { info: existing, ackFloor, rewoundThrough: 0 };
  const info = await repositionDurable(manager, spec, ackFloor + 1, logger);
  return { info, ackFloor, rewoundThrough: existing.delivered.stream_seq };
}

/**
 * Recreates the durable to deliver from stream sequence `startSeq` on (its delivery and ack state
 * start over).
 * @throws MeshError NOT_FOUND when the stream does not exist; UNAVAILABLE when NATS does not answer.
 */
export async function repositionDurable(
  manager: JetStreamManager,
  spec: DurableSpec,
  startSeq: number,
  logger: Logger,
): Promise<ConsumerInfo> {
  const details = { stream: spec.stream, durable: spec.durable };
  try {
    await manager.consumers.delete(spec.stream, spec.durable);
  } catch (error) {
    if (apiErrorCode(error) !== CONSUMER_NOT_FOUND) throw natsError(`cannot reposition ${where(spec)}`, error, details);
  }
  try {
    const info = await manager.consumers.add(spec.stream, consumerConfig(spec, startSeq));
    logger.info({ ...details, startSeq }, "durable consumer repositioned");
    return info;
  } catch (error) {
    throw natsError(`cannot reposition ${where(spec)}`, error, details);
  }
}
