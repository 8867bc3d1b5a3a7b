import type { Value } from "@espmesh/events";
import { MeshError } from "@espmesh/telemetry";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const TAG_NULL = 0;
const TAG_NUMBER = 1;
const TAG_STRING = 2;
const TAG_TRUE = 3;
const TAG_FALSE = 4;
const TAG_BYTES = 5;

/** A growable little-endian byte buffer for snapshots. */
export class ByteWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private offset = 0;

  private reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.offset));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.offset;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.offset++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.offset, value, true);
    this.offset += 8;
  }

  bytes(value: Uint8Array): void {
    this.u32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
  }

  string(value: string): void {
    this.bytes(encoder.encode(value));
  }

  /** One value with a type tag. */
  value(value: Value): void {
    if (value === null) this.u8(TAG_NULL);
    else if (typeof value === "number") {
      this.u8(TAG_NUMBER);
      this.f64(value);
    } else if (typeof value === "string") {
      this.u8(TAG_STRING);
      this.string(value);
    } else if (typeof value === "boolean") this.u8(value ? TAG_TRUE : TAG_FALSE);
    else {
      this.u8(TAG_BYTES);
      this.bytes(value);
    }
  }

  /** A count, then each value. */
  values(values: readonly Value[]): void {
    this.u32(values.length);
    for (const value of values) this.value(value);
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buffer.slice(0, this.offset);
  }
}

/** Reads what a {@link ByteWriter} wrote; any overrun is DATA_LOSS. */
export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) {
      throw new MeshError("DATA_LOSS", `snapshot is truncated at byte ${this.offset}`);
    }
  }

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.offset++]!;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  bytes(): Uint8Array {
    const length = this.u32();
    this.need(length);
    const value = this.buffer.slice(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  string(): string {
    const length = this.u32();
    this.need(length);
    const value = decoder.decode(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  value(): Value {
    const tag = this.u8();
    switch (tag) {
      case TAG_NULL:
        return null;
      case TAG_NUMBER:
        return this.f64();
      case TAG_STRING:
        return this.string();
      case TAG_TRUE:
        return true;
      case TAG_FALSE:
        return false;
      case TAG_BYTES:
        return this.bytes();
      default:
        throw new MeshError("DATA_LOSS", `snapshot has an unknown value tag ${tag} at byte ${this.offset - 1}`);
    }
  }

  values(): Value[] {
    const count = this.u32();
    const out = new Array<Value>(count);
    for (let i = 0; i < count; i++) out[i] = this.value();
    return out;
  }
}
