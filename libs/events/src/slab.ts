/**
 * Small typed arrays cut from shared slabs. Every typed array of more than 64 bytes gets its own
 * buffer outside the JavaScript heap, and allocating one costs about as much as processing a few
 * hundred events; decoding a batch makes one per column and the engine's operators several more
 * (a selection, a computed column, the columns of what they emit). Arrays up to {@link SLAB_MAX}
 * bytes are instead carved, zero-filled, from a slab that is used once front to back and never
 * reused: it is freed when the last array cut from it is. An array kept alive keeps its slab (at most {@link SLAB_BYTES}) alive.
 */

/** Bytes of one slab. */
export const SLAB_BYTES = 64 * 1024;
/** Larger arrays get a buffer of their own. */
export const SLAB_MAX = 16 * 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** The byte offset of `bytes` fresh zero bytes (8-byte aligned) in the current slab. */
function take(bytes: number): number {
  const size = (bytes + 7) & ~7;
  if (used + size > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const offset = used;
  used += size;
  return offset;
}

/** A zero-filled Float64Array of `length` values. */
export function float64s(length: number): Float64Array {
  const bytes = length * 8;
  if (bytes <= 64 || bytes > SLAB_MAX) return new Float64Array(length);
  const offset = take(bytes);
  return new Float64Array(slab, offset, length);
}

/** A zero-filled Int32Array of `length` values. */
export function int32s(length: number): Int32Array {
  const bytes = length * 4;
  if (bytes <= 64 || bytes > SLAB_MAX) return new Int32Array(length);
  const offset = take(bytes);
  return new Int32Array(slab, offset, length);
}

/** A zero-filled Uint32Array of `length` values. */
export function uint32s(length: number): Uint32Array {
  const bytes = length * 4;
  if (bytes <= 64 || bytes > SLAB_MAX) return new Uint32Array(length);
  const offset = take(bytes);
  return new Uint32Array(slab, offset, length);
}

/** A zero-filled Uint8Array of `length` values. */
export function uint8s(length: number): Uint8Array {
  if (length <= 64 || length > SLAB_MAX) return new Uint8Array(length);
  const offset = take(length);
  return new Uint8Array(slab, offset, length);
}
