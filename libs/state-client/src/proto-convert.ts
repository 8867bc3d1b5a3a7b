/**
 * Conversions between the plain types of {@link StateBackend} and the StateService messages,
 * used by the `service` backend and by the state service itself. 64-bit fields become numbers
 * here and must stay below 2^53.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  CommitRequestSchema,
  ShardCheckpoint as ProtoShardCheckpoint,
  ShardCheckpointSchema,
} from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import type { NormalizedCommit } from "./normalize.js";
import type { ShardCheckpoint } from "./types.js";

/** A uint64 protocol field as a number; INVALID_ARGUMENT above 2^53 - 1. */
export function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new MeshError("INVALID_ARGUMENT", `${field} ${value} is above 2^53 - 1`, { details: { field } });
  }
  return Number(value);
}

/**
 * The wire form of a validated commit as a protobuf-es init shape: the reference the hand-written
 * encoder (commit-encoder.ts) is tested against.
 */
export function commitToProto(
  scope: { project: string; deployment: string },
  commit: NormalizedCommit,
): MessageInitShape<typeof CommitRequestSchema> {
  return {
    project: scope.project,
    deployment: scope.deployment,
    owner: commit.owner,
    epoch: BigInt(commit.epoch),
    shards: commit.shards.map((shard) => ({
      shard: shard.shard,
      windows: Object.fromEntries(shard.windows),
      watermarks: shard.watermarks.map(([sourceId, seq]) => ({ sourceId, seq: BigInt(seq) })),
      deletedWindows: [...shard.deletedWindows],
      deleteShard: shard.deleteShard,
    })),
  };
}

/** The wire form of a checkpoint. */
export function checkpointToProto(checkpoint: ShardCheckpoint): MessageInitShape<typeof ShardCheckpointSchema> {
  return {
    shard: checkpoint.shard,
    windows: Object.fromEntries(checkpoint.windows),
    watermarks: [...checkpoint.watermarks].map(([sourceId, seq]) => ({ sourceId, seq: BigInt(seq) })),
    epoch: BigInt(checkpoint.epoch),
    owner: checkpoint.owner,
  };
}

/** A received checkpoint as a plain {@link ShardCheckpoint}. */
export function checkpointFromProto(message: ProtoShardCheckpoint): ShardCheckpoint {
  return {
    shard: message.shard,
    windows: new Map(Object.entries(message.windows)),
    watermarks: new Map(message.watermarks.map((mark) => [mark.sourceId, safeNumber(mark.seq, "watermark seq")])),
    epoch: safeNumber(message.epoch, "epoch"),
    owner: message.owner,
  };
}
