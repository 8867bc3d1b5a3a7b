/**
 * A hand-written encoder of `espmesh.v1.CommitRequest`, the one hot message of the state
 * service: the protobuf wire format exactly (protobuf-es reads it back to the same message; see
 * the tests), without the reflective per-field work of the generic codec: sizes are computed
 * first, then everything is written into one buffer. Its counterpart is commit-decoder.ts.
 */
import { messageSize, varintSize, WireWriter } from "@espmesh/proto";
import { MeshError } from "@espmesh/telemetry";
import type { NormalizedCommit, NormalizedShardCommit } from "./normalize.js";

// Tags: (field number << 3) | wire type (0 varint, 2 length-delimited).
const T_PROJECT = 0x0a;
const T_DEPLOYMENT = 0x12;
const T_OWNER = 0x1a;
const T_EPOCH = 0x20;
const T_SHARDS = 0x2a;
const T_SHARD = 0x08;
const T_WINDOWS = 0x12;
const T_WATERMARKS = 0x1a;
const T_DELETED = 0x22;
const T_DELETE_SHARD = 0x28;
const T_KEY = 0x0a;
const T_VALUE = 0x12;
const T_SEQ = 0x10;

/** The commit's writer: the shared one-pass writer plus string and bytes fields by raw tag. */
class Writer extends WireWriter {
  constructor(readonly buffer: Buffer) {
    super(buffer);
  }

  string(tag: number, value: string, length: number): void {
    this.buffer[this.pos++] = tag;
    this.varint(length);
    this.pos += this.buffer.write(value, this.pos, length, "utf8");
  }

  bytes(tag: number, value: Uint8Array): void {
    this.buffer[this.pos++] = tag;
    this.varint(value.byteLength);
    this.buffer.set(value, this.pos);
    this.pos += value.byteLength;
  }
}

interface ShardPlan {
  readonly size: number;
  readonly windowNames: number[];
  readonly windowEntries: number[];
  readonly sourceNames: number[];
  readonly marks: number[];
  readonly deleted: number[];
}

function planShard(shard: NormalizedShardCommit): ShardPlan {
  let size = shard.shard === 0 ? 0 : 1 + varintSize(shard.shard);
  const windowNames: number[] = [];
  const windowEntries: number[] = [];
  for (const [window, blob] of shard.windows) {
    const name = Buffer.byteLength(window);
    const entry = messageSize(name) + messageSize(blob.byteLength);
    windowNames.push(name);
    windowEntries.push(entry);
    size += messageSize(entry);
  }
  const sourceNames: number[] = [];
  const marks: number[] = [];
  for (const [source, seq] of shard.watermarks) {
    const name = Buffer.byteLength(source);
    const mark = messageSize(name) + (seq === 0 ? 0 : 1 + varintSize(seq));
    sourceNames.push(name);
    marks.push(mark);
    size += messageSize(mark);
  }
  const deleted: number[] = [];
  for (const window of shard.deletedWindows) {
    const name = Buffer.byteLength(window);
    deleted.push(name);
    size += messageSize(name);
  }
  if (shard.deleteShard) size += 2;
  return { size, windowNames, windowEntries, sourceNames, marks, deleted };
}

function writeShard(out: Writer, shard: NormalizedShardCommit, plan: ShardPlan): void {
  out.buffer[out.pos++] = T_SHARDS;
  out.varint(plan.size);
  if (shard.shard !== 0) {
    out.buffer[out.pos++] = T_SHARD;
    out.varint(shard.shard);
  }
  for (let w = 0; w < shard.windows.length; w++) {
    const [window, blob] = shard.windows[w] as readonly [string, Uint8Array];
    out.buffer[out.pos++] = T_WINDOWS;
    out.varint(plan.windowEntries[w] as number);
    out.string(T_KEY, window, plan.windowNames[w] as number);
    out.bytes(T_VALUE, blob);
  }
  for (let m = 0; m < shard.watermarks.length; m++) {
    const [source, seq] = shard.watermarks[m] as readonly [string, number];
    out.buffer[out.pos++] = T_WATERMARKS;
    out.varint(plan.marks[m] as number);
    out.string(T_KEY, source, plan.sourceNames[m] as number);
    if (seq !== 0) {
      out.buffer[out.pos++] = T_SEQ;
      out.varint(seq);
    }
  }
  for (let d = 0; d < shard.deletedWindows.length; d++) {
    out.string(T_DELETED, shard.deletedWindows[d] as string, plan.deleted[d] as number);
  }
  if (shard.deleteShard) {
    out.buffer[out.pos++] = T_DELETE_SHARD;
    out.buffer[out.pos++] = 1;
  }
}

/** The protobuf encoding of a CommitRequest for a validated commit. */
export function encodeCommitRequest(scope: { project: string; deployment: string }, commit: NormalizedCommit): Buffer {
  const project = Buffer.byteLength(scope.project);
  const deployment = Buffer.byteLength(scope.deployment);
  const owner = Buffer.byteLength(commit.owner);
  const plans = commit.shards.map(planShard);
  let size = messageSize(project) + messageSize(deployment) + messageSize(owner);
  if (commit.epoch !== 0) size += 1 + varintSize(commit.epoch);
  for (const plan of plans) size += messageSize(plan.size);

  const out = new Writer(Buffer.allocUnsafe(size));
  out.string(T_PROJECT, scope.project, project);
  out.string(T_DEPLOYMENT, scope.deployment, deployment);
  out.string(T_OWNER, commit.owner, owner);
  if (commit.epoch !== 0) {
    out.buffer[out.pos++] = T_EPOCH;
    out.varint(commit.epoch);
  }
  for (let s = 0; s < commit.shards.length; s++)
    writeShard(out, commit.shards[s] as NormalizedShardCommit, plans[s] as ShardPlan);
  if (out.pos !== size) throw new MeshError("INTERNAL", `CommitRequest encoder wrote ${out.pos} of ${size} bytes`);
  return out.buffer;
}
