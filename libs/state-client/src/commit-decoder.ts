/**
 * A hand-written decoder of `espmesh.v1.CommitRequest` (the counterpart of commit-encoder.ts):
 * reads any valid protobuf encoding of it (fields in any order, unknown fields skipped, last
 * value wins for scalars) straight into the normalized shape `validateCommit` checks (no Maps),
 * returns window blobs as views into the received buffer, and rejects
 * malformed input and 64-bit values above 2^53 - 1 with INVALID_ARGUMENT.
 */
import { MeshError } from "@espmesh/telemetry";
import type { NormalizedShardCommit, UncheckedCommit } from "./normalize.js";

/** A decoded CommitRequest: its scope and the commit (still to be validated by `validateCommit`). */
export interface DecodedCommitRequest {
  readonly project: string;
  readonly deployment: string;
  readonly commit: UncheckedCommit;
}

class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  malformed(what: string): MeshError {
    return new MeshError("INVALID_ARGUMENT", `malformed CommitRequest: ${what} at byte ${this.pos}`, {
      details: { byte: this.pos },
    });
  }

  /** A varint as a number (exact up to 2^53; larger values come back above MAX_SAFE_INTEGER). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw this.malformed("truncated varint");
      const byte = this.buf[this.pos++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw this.malformed("varint longer than 10 bytes");
  }

  /** A uint64 field as a safe integer. */
  uint64(field: string): number {
    const value = this.varint();
    if (value > Number.MAX_SAFE_INTEGER) {
      throw new MeshError("INVALID_ARGUMENT", `${field} is above 2^53 - 1`, { details: { field } });
    }
    return value;
  }

  /** The end offset of a length-delimited payload starting here. */
  delimited(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw this.malformed("length past the end of the message");
    return end;
  }

  string(): string {
    const end = this.delimited();
    const value = this.buf.toString("utf8", this.pos, end);
    this.pos = end;
    return value;
  }

  bytes(): Uint8Array {
    const end = this.delimited();
    const value = this.buf.subarray(this.pos, end);
    this.pos = end;
    return value;
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw this.malformed(`unsupported wire type ${tag & 7}`);
    }
    if (this.pos > this.end) throw this.malformed("truncated field");
  }

  /** A sub-reader over the next length-delimited payload (and skips it here). */
  message(): Reader {
    const end = this.delimited();
    const sub = new Reader(this.buf, this.pos, end);
    this.pos = end;
    return sub;
  }
}

function readWindowEntry(reader: Reader, windows: Array<readonly [string, Uint8Array]>): void {
  let key = "";
  let value: Uint8Array = new Uint8Array(0);
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    if (tag === 0x0a) key = reader.string();
    else if (tag === 0x12) value = reader.bytes();
    else reader.skip(tag);
  }
  windows.push([key, value]);
}

function readWatermark(reader: Reader, watermarks: Array<readonly [string, number]>): void {
  let source = "";
  let seq = 0;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    if (tag === 0x0a) source = reader.string();
    else if (tag === 0x10) seq = reader.uint64("watermark seq");
    else reader.skip(tag);
  }
  watermarks.push([source, seq]);
}

function readShard(reader: Reader): NormalizedShardCommit {
  let shard = 0;
  const windows: Array<readonly [string, Uint8Array]> = [];
  const watermarks: Array<readonly [string, number]> = [];
  const deletedWindows: string[] = [];
  let deleteShard = false;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    switch (tag) {
      case 0x08:
        shard = reader.varint() % 2 ** 32;
        break;
      case 0x12:
        readWindowEntry(reader.message(), windows);
        break;
      case 0x1a:
        readWatermark(reader.message(), watermarks);
        break;
      case 0x22:
        deletedWindows.push(reader.string());
        break;
      case 0x28:
        deleteShard = reader.varint() !== 0;
        break;
      default:
        reader.skip(tag);
    }
  }
  return { shard, windows, watermarks, deletedWindows, deleteShard };
}

/** Decodes the protobuf encoding of a CommitRequest. */
export function decodeCommitRequest(bytes: Uint8Array): DecodedCommitRequest {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(buf, 0, buf.length);
  let project = "";
  let deployment = "";
  let owner = "";
  let epoch = 0;
  const shards: NormalizedShardCommit[] = [];
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    switch (tag) {
      case 0x0a:
        project = reader.string();
        break;
      case 0x12:
        deployment = reader.string();
        break;
      case 0x1a:
        owner = reader.string();
        break;
      case 0x20:
        epoch = reader.uint64("epoch");
        break;
      case 0x2a:
        shards.push(readShard(reader.message()));
        break;
      default:
        reader.skip(tag);
    }
  }
  return { project, deployment, commit: { owner, epoch, shards } };
}

/** Decodes the protobuf encoding of a CommitResponse: shards and bytes written. */
export function decodeCommitResponse(bytes: Uint8Array): { shards: number; bytes: number } {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = new Reader(buf, 0, buf.length);
  let shards = 0;
  let written = 0;
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    if (tag === 0x08) shards = reader.varint() % 2 ** 32;
    else if (tag === 0x10) written = reader.uint64("bytes");
    else reader.skip(tag);
  }
  return { shards, bytes: written };
}
