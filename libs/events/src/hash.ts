/**
 * Key hashing for shards. The algorithm (stable across processes, runs and platforms):
 *
 * A 32-bit state starts at SEED. Each key field in turn mixes words into it with the MurmurHash3
 * (x86, 32-bit) block step `mix(h, k)`; then the result is `fmix32(h ^ fieldCount)` as an
 * unsigned 32-bit number. Per value:
 * - null: `TAG_NULL`;
 * - a number with an integral value (int32, int64, date, stamp, and integral double or money):
 *   `TAG_INT`, then the low and the high 32 bits of its 64-bit two's complement (so 5, 5.0 and
 *   -0/0 hash alike whatever the numeric type);
 * - any other number: `TAG_FLOAT`, then the low and the high 32 bits of its IEEE-754 bits (all NaNs
 *   as 0x7ff8000000000000);
 * - boolean: as the integer 0 or 1;
 * - string: `TAG_STRING`, its length in UTF-16 code units, then its code units two per word (the
 *   first in the low 16 bits; an odd last one alone);
 * - blob: `TAG_BLOB`, its length in bytes, then its bytes four per word little-endian (the last
 *   word zero-padded).
 * Equal values give equal hashes whatever batch they sit in and however the batch is laid out.
 */
import { BAD, COERCERS, EXPECTED } from "./coerce.js";
import { bitIsSet } from "./columns.js";
import { invalidArgument } from "./errors.js";
import { uint32s } from "./slab.js";
import type { Batch, Column, FieldType, InputValue } from "./types.js";

/** Start state of a key hash (shared with `hash-wire.ts`). */
export const SEED = 0x9e3779b9 | 0;
/** Tag words of the value kinds (shared with `hash-wire.ts`). */
export const TAG_NULL = 0x6e756c6c;
export const TAG_INT = 0x696e7400;
const TAG_FLOAT = 0x666c7400;
export const TAG_STRING = 0x73747200;
const TAG_BLOB = 0x626c6200;
const C1 = 0xcc9e2d51 | 0;
const C2 = 0x1b873593 | 0;
const TWO_32 = 4294967296;

const floatView = new Float64Array(1);
const wordView = new Uint32Array(floatView.buffer);
floatView[0] = 1;
/** Index of the low word of a float64 in a Uint32Array view (platform byte order). */
const LOW = wordView[1] === 0 ? 0 : 1;
const HIGH = 1 - LOW;

/** The MurmurHash3 block step: mixes word `k` into state `h`. */
export function mix(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The final step: the key hash (uint32) of state `h` after `fields` fields. */
export function finish(h: number, fields: number): number {
  h ^= fields;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixNumber(h: number, v: number): number {
  if (Number.isInteger(v)) {
    const low = v >>> 0;
    return mix(mix(mix(h, TAG_INT), low), (v - low) / TWO_32);
  }
  if (Number.isNaN(v)) return mix(mix(mix(h, TAG_FLOAT), 0), 0x7ff80000);
  floatView[0] = v;
  return mix(mix(mix(h, TAG_FLOAT), wordView[LOW] as number), wordView[HIGH] as number);
}

function mixString(h: number, s: string): number {
  const n = s.length;
  h = mix(mix(h, TAG_STRING), n);
  let i = 0;
  for (; i + 1 < n; i += 2) h = mix(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  return i < n ? mix(h, s.charCodeAt(i)) : h;
}

function mixBytes(h: number, b: Uint8Array): number {
  const n = b.length;
  h = mix(mix(h, TAG_BLOB), n);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    h = mix(
      h,
      (b[i] as number) | ((b[i + 1] as number) << 8) | ((b[i + 2] as number) << 16) | ((b[i + 3] as number) << 24),
    );
  }
  if (i < n) {
    let k = 0;
    for (let shift = 0; i < n; i++, shift += 8) k |= (b[i] as number) << shift;
    h = mix(h, k);
  }
  return h;
}

function mixStored(h: number, v: unknown): number {
  if (typeof v === "number") return mixNumber(h, v);
  if (typeof v === "string") return mixString(h, v);
  return mixBytes(h, v as Uint8Array);
}

function checkFields(batch: Batch, fieldIndexes: readonly number[]): void {
  for (const index of fieldIndexes) {
    if (batch.columns[index] === undefined) {
      throw invalidArgument(`no field ${index} to hash: the schema has ${batch.columns.length} fields`);
    }
  }
}

/**
 * The key hash (uint32) of one row over the given fields, in the given order (see the algorithm
 * above). Equal to {@link hashValues} of the same values and to {@link hashRows} of the row.
 */
export function hashRow(batch: Batch, fieldIndexes: readonly number[], row: number): number {
  checkFields(batch, fieldIndexes);
  let h = SEED;
  for (const index of fieldIndexes) {
    const column = batch.columns[index] as Column;
    if (column.nulls !== undefined && bitIsSet(column.nulls, row)) h = mix(h, TAG_NULL);
    else h = mixStored(h, column.values[row]);
  }
  return finish(h, fieldIndexes.length);
}

/**
 * The key hashes of every row of a batch, column by column.
 * @param out where to write them; reused when at least `batch.length` long. @default a new array
 * @returns the hashes (the first `batch.length` entries of `out`).
 */
export function hashRows(batch: Batch, fieldIndexes: readonly number[], out?: Uint32Array): Uint32Array {
  checkFields(batch, fieldIndexes);
  const n = batch.length;
  const hashes = out !== undefined && out.length >= n ? out : uint32s(n);
  hashes.fill(SEED >>> 0, 0, n);
  for (const index of fieldIndexes) {
    const column = batch.columns[index] as Column;
    const values = column.values;
    const nulls = column.nulls;
    if (values instanceof Int32Array || values instanceof Uint8Array) {
      for (let r = 0; r < n; r++) {
        const v = values[r] as number;
        hashes[r] =
          nulls !== undefined && bitIsSet(nulls, r)
            ? mix(hashes[r] as number, TAG_NULL)
            : mix(mix(mix(hashes[r] as number, TAG_INT), v), v >> 31);
      }
    } else if (values instanceof Float64Array) {
      for (let r = 0; r < n; r++) {
        hashes[r] =
          nulls !== undefined && bitIsSet(nulls, r)
            ? mix(hashes[r] as number, TAG_NULL)
            : mixNumber(hashes[r] as number, values[r] as number);
      }
    } else {
      for (let r = 0; r < n; r++) {
        hashes[r] =
          nulls !== undefined && bitIsSet(nulls, r)
            ? mix(hashes[r] as number, TAG_NULL)
            : mixStored(hashes[r] as number, values[r]);
      }
    }
  }
  const fields = fieldIndexes.length;
  for (let r = 0; r < n; r++) hashes[r] = finish(hashes[r] as number, fields);
  return n === hashes.length ? hashes : hashes.subarray(0, n);
}

/**
 * The key hash of values given with their field types: the same result as {@link hashRow} of a
 * row holding these values. Values are coerced as a batch builder would (an ISO stamp, money
 * rounding, booleans).
 * @throws MeshError INVALID_ARGUMENT when a value does not fit its type or the lengths differ.
 */
export function hashValues(values: readonly InputValue[], types: readonly FieldType[]): number {
  if (values.length !== types.length) {
    throw invalidArgument(`hashValues got ${values.length} values for ${types.length} types`);
  }
  let h = SEED;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined) {
      h = mix(h, TAG_NULL);
      continue;
    }
    const type = types[i] as FieldType;
    const coercer = COERCERS[type];
    if (coercer === undefined) throw invalidArgument(`hashValues: unknown field type ${JSON.stringify(type)}`);
    const stored = coercer(value);
    if (stored === BAD) throw invalidArgument(`hashValues: value ${i} is not a valid ${EXPECTED[type]}`, { index: i });
    h = mixStored(h, stored);
  }
  return finish(h, values.length);
}

/**
 * The shard of a key hash: `hash mod shardCount`.
 * @throws MeshError INVALID_ARGUMENT when shardCount is not an integer from 1 to 2^32.
 */
export function shardOf(hash: number, shardCount: number): number {
  if (!(Number.isInteger(shardCount) && shardCount >= 1 && shardCount <= TWO_32)) {
    throw invalidArgument(`shard count must be an integer from 1 to 2^32, got ${shardCount}`);
  }
  return (hash >>> 0) % shardCount;
}
