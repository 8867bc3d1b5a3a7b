/**
 * Fixed-width packing of columns for the wire: little-endian, whatever the platform. Typed-array
 * views are used directly on little-endian platforms; on big-endian ones the bytes are swapped.
 */

import { float64s } from "./slab.js";

const probe = new Uint16Array([1]);
/** Whether this platform stores typed-array elements little-endian. */
export const LITTLE_ENDIAN = new Uint8Array(probe.buffer)[0] === 1;

const TWO_32 = 4294967296;
/** 2^-32: multiplying by it is exact, like dividing by 2^32, and cheaper. */
const INV_TWO_32 = 1 / TWO_32;

/**
 * A new ArrayBuffer of `bytes` bytes whose content is unspecified: skips zero-filling for
 * buffers the caller overwrites entirely.
 */
export function uninitializedBuffer(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** Swaps the bytes of every `width`-byte element in place (big-endian platforms only). */
function swapInPlace(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** The little-endian bytes of the first `count` elements of a typed array (a view when possible). */
export function packFixed(values: Float64Array | Int32Array | Uint32Array, count: number): Uint8Array {
  const width = values.BYTES_PER_ELEMENT;
  const view = new Uint8Array(values.buffer, values.byteOffset, count * width);
  if (LITTLE_ENDIAN) return view;
  const copy = view.slice();
  swapInPlace(copy, width);
  return copy;
}

/**
 * Copies little-endian wire bytes into a new aligned buffer of `count` elements of `width` bytes
 * and returns that buffer (native byte order).
 */
export function unpackFixed(bytes: Uint8Array, width: number): ArrayBuffer {
  const buffer = uninitializedBuffer(bytes.byteLength);
  const copy = new Uint8Array(buffer);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) swapInPlace(copy, width);
  return buffer;
}

let scratchWords = new Int32Array(2048);

/**
 * A fixed-width column's bytes as 32-bit words in wire (little-endian) byte order: a view when
 * aligned, else copied into a reused aligned buffer, valid until the next call (a copy is cheaper
 * than allocating one per column). For transient reads that move or compare words only; a
 * big-endian reader wanting values uses {@link unpackFixed}.
 */
export function wireWords(bytes: Uint8Array): Int32Array {
  const n = bytes.byteLength >>> 2;
  if ((bytes.byteOffset & 3) === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, n);
  if (scratchWords.length < n) scratchWords = new Int32Array(Math.max(n, scratchWords.length * 2));
  new Uint8Array(scratchWords.buffer, 0, n * 4).set(bytes.subarray(0, n * 4));
  return scratchWords;
}

/**
 * `count` uint32 little-endian values as a Uint32Array: a view of the bytes when the platform and
 * the alignment allow, else an aligned copy. For transient reads only (it may alias the bytes).
 */
export function viewUint32(bytes: Uint8Array, count: number): Uint32Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, count);
  return new Uint32Array(unpackFixed(bytes.subarray(0, count * 4), 4));
}

/** `count` int32 pairs (low, high) of int64 little-endian values, as {@link viewUint32}. */
function viewInt32(bytes: Uint8Array, count: number): Int32Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, count);
  return new Int32Array(unpackFixed(bytes.subarray(0, count * 4), 4));
}

/**
 * The first `count` numbers of a column as int64 little-endian, each multiplied by `scale` and
 * rounded (1 for int64/date/stamp, 1e6 for money), so that `v / scale` gives the value back. Values
 * are safe integers after scaling.
 */
export function packInt64(values: Float64Array, count: number, scale: number): Uint8Array {
  const words = new Int32Array(uninitializedBuffer(count * 8));
  if (scale === 1) {
    for (let i = 0, j = 0; i < count; i++, j += 2) {
      const v = values[i] as number;
      const low = v >>> 0;
      words[j] = low;
      words[j + 1] = (v - low) * INV_TWO_32;
    }
  } else {
    for (let i = 0, j = 0; i < count; i++, j += 2) {
      const v = scaledInteger(values[i] as number, scale);
      const low = v >>> 0;
      words[j] = low;
      words[j + 1] = (v - low) * INV_TWO_32;
    }
  }
  return packFixed(words, count * 2);
}

/**
 * `round(x * scale)`, except where x is exactly `m / scale` for an integer m: then m. Near 2^53
 * micro-units the product can miss that m by one or two (two roundings); this finds it, so that
 * scaling is idempotent and decoding (`m / scale`) gives x back exactly.
 */
export function scaledInteger(x: number, scale: number): number {
  const rounded = Math.round(x * scale);
  if (rounded / scale === x) return rounded;
  for (const delta of [-1, 1, -2, 2]) if ((rounded + delta) / scale === x) return rounded + delta;
  return rounded;
}

/**
 * Decodes `count` int64 little-endian values into numbers divided by `scale`. Returns the index of
 * the first value that is not a safe integer instead when there is one.
 */
export function unpackInt64(bytes: Uint8Array, count: number, scale: number): Float64Array | number {
  const words = viewInt32(bytes, count * 2);
  const out = float64s(count);
  for (let i = 0, j = 0; i < count; i++, j += 2) {
    const v = (words[j + 1] as number) * TWO_32 + ((words[j] as number) >>> 0);
    if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) return i;
    out[i] = scale === 1 ? v : v / scale;
  }
  return out;
}
