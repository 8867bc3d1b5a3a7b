/**
 * Helpers of the hand-written protobuf writers (`batch-writer.ts` here, the balancer's process
 * encoder, the state client's commit encoder): sizes of fields computed first, then every byte written once into one buffer cut from
 * a shared slab. The generic protobuf-es writer copies a nested message's bytes once per nesting
 * level, which for event batches (bytes fields three levels deep) is most of its cost.
 */

/** Wire type of length-delimited fields. */
export const LEN = 2;
/** Wire type of varints. */
export const VARINT = 0;

const encoder = new TextEncoder();
/** An empty byte array (shared; never written to). */
export const EMPTY_BYTES = new Uint8Array(0);

/** Bytes of an unsigned varint (n < 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Bytes of a length-delimited field with `length` bytes of payload, 0 when proto3 omits it (empty). */
export function omittableSize(length: number): number {
  return length === 0 ? 0 : 1 + varintSize(length) + length;
}

/** Bytes of a length-delimited field that is always written (a message). */
export function messageSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** The UTF-8 bytes of a string (not cached). */
export function encodeUtf8(value: string): Uint8Array {
  return encoder.encode(value);
}

/** UTF-8 of the strings every batch of a window repeats (window names, fingerprints, sources). */
const stringCache = new Map<string, Uint8Array>();

/** The UTF-8 bytes of a string (cached for the few strings batches repeat). */
export function utf8Of(value: string): Uint8Array {
  let bytes = stringCache.get(value);
  if (bytes === undefined) {
    bytes = encoder.encode(value);
    if (value.length <= 256) {
      if (stringCache.size >= 256) stringCache.clear();
      stringCache.set(value, bytes);
    }
  }
  return bytes;
}

/** A uint64 as varint bytes when above 2^53 (rare), else the number itself. */
export function uint64Varint(value: bigint): number | number[] {
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return bytes;
}

/** Bytes of a {@link uint64Varint}. */
export function uint64Size(value: number | number[]): number {
  return typeof value === "number" ? varintSize(value) : value.length;
}

/** Writes into a buffer sized beforehand. */
export class WireWriter {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    buf[this.pos++] = n;
  }

  /** A {@link uint64Varint}. */
  uint64(value: number | number[]): void {
    if (typeof value === "number") this.varint(value);
    else for (const byte of value) this.buf[this.pos++] = byte;
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  /** A length-delimited field, skipped when empty. */
  omittable(field: number, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    this.tag(field, LEN);
    this.varint(bytes.byteLength);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** A length-delimited field that is always written. */
  always(field: number, bytes: Uint8Array): void {
    this.header(field, bytes.byteLength);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  /** The tag and length of a length-delimited field whose payload follows. */
  header(field: number, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
  }

  /** Checks that exactly the sized bytes were written and returns them. */
  done(): Uint8Array {
    if (this.pos !== this.buf.byteLength) {
      throw new Error(`protobuf writer wrote ${this.pos} of ${this.buf.byteLength} bytes`);
    }
    return this.buf;
  }
}

const SLAB_BYTES = 1024 * 1024;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * `size` bytes for one message, cut from a shared slab (one allocation per megabyte instead of
 * one per message; a slab is freed once gRPC copied out every message cut from it). Not zeroed:
 * the writers write every byte (checked by {@link WireWriter.done}). Regions are never handed out
 * twice.
 */
export function carve(size: number): Uint8Array {
  if (size > SLAB_BYTES / 8) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return bytes;
}
