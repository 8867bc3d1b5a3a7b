/**
 * Key hashes read straight from the wire bytes of a batch's key columns, for a router that only
 * needs each row's shard: no column is decoded into JavaScript values, no string is built. The
 * result equals `hashRows` of the decoded batch (see `hash.ts` for the algorithm). Only the
 * common key types are read here; for anything else the caller decodes (and validates) the
 * columns and uses `hashRows`.
 */
import { bitIsSet } from "./columns.js";
import { finish, mix, SEED, TAG_INT, TAG_NULL, TAG_STRING } from "./hash.js";
import { uint32s } from "./slab.js";
import type { FieldType } from "./types.js";
import { LITTLE_ENDIAN, unpackFixed, wireWords } from "./wire.js";

/** The bytes of one column as `espmesh.v1.Column` carries them. */
export interface WireColumn {
  /** Values: little-endian fixed-width, or the concatenated UTF-8 of strings. */
  readonly values: Uint8Array;
  /** String and blob columns: each value's byte length as a little-endian uint32. */
  readonly lengths: Uint8Array;
  /** Null bitmap (bit `row` set = null); empty when no value is null. */
  readonly nulls: Uint8Array;
}

/** int64 words (low unsigned, high signed) that make a safe integer (|v| <= 2^53 − 1). */
const HIGH_MIN = -0x200000;
const HIGH_MAX = 0x1fffff;

/** A little-endian int32 at any offset. */
function int32At(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) |
    ((bytes[at + 1] as number) << 8) |
    ((bytes[at + 2] as number) << 16) |
    ((bytes[at + 3] as number) << 24)
  );
}

/** A column's values as little-endian 32-bit words, read as numbers. */
function wordsOf(bytes: Uint8Array): Int32Array {
  return LITTLE_ENDIAN ? wireWords(bytes) : new Int32Array(unpackFixed(bytes, 4));
}

function mixInt32Column(hashes: Int32Array, column: WireColumn, count: number): boolean {
  if (column.values.byteLength !== count * 4) return false;
  const words = wordsOf(column.values);
  const nulls = column.nulls.byteLength === 0 ? undefined : column.nulls;
  for (let r = 0; r < count; r++) {
    const h = hashes[r] as number;
    if (nulls !== undefined && bitIsSet(nulls, r)) hashes[r] = mix(h, TAG_NULL);
    else {
      const v = words[r] as number;
      hashes[r] = mix(mix(mix(h, TAG_INT), v), v >> 31);
    }
  }
  return true;
}

/** int64, date and stamp (scale 1): false when a value is not a safe integer (the decoder names it). */
function mixInt64Column(hashes: Int32Array, column: WireColumn, count: number): boolean {
  if (column.values.byteLength !== count * 8) return false;
  const words = wordsOf(column.values);
  const nulls = column.nulls.byteLength === 0 ? undefined : column.nulls;
  for (let r = 0, at = 0; r < count; r++, at += 2) {
    const low = words[at] as number;
    const high = words[at + 1] as number;
    // The decoder rejects unsafe values even in null slots.
    if (high < HIGH_MIN || high > HIGH_MAX || (high === HIGH_MIN && low === 0)) return false;
    const h = hashes[r] as number;
    hashes[r] = nulls !== undefined && bitIsSet(nulls, r) ? mix(h, TAG_NULL) : mix(mix(mix(h, TAG_INT), low), high);
  }
  return true;
}

/** Strings of pure ASCII (one UTF-16 code unit per byte); false for any other text. */
function mixAsciiColumn(hashes: Int32Array, column: WireColumn, count: number): boolean {
  const bytes = column.values;
  const lengths = column.lengths;
  if (lengths.byteLength !== count * 4) return false;
  let high = 0;
  for (let i = 0; i < bytes.byteLength; i++) high |= bytes[i] as number;
  if (high >= 0x80) return false;
  const nulls = column.nulls.byteLength === 0 ? undefined : column.nulls;
  let offset = 0;
  for (let r = 0; r < count; r++) {
    const n = int32At(lengths, r * 4) >>> 0;
    const end = offset + n;
    if (end > bytes.byteLength) return false;
    let h = hashes[r] as number;
    if (nulls !== undefined && bitIsSet(nulls, r)) h = mix(h, TAG_NULL);
    else {
      h = mix(mix(h, TAG_STRING), n);
      let i = offset;
      for (; i + 1 < end; i += 2) h = mix(h, (bytes[i] as number) | ((bytes[i + 1] as number) << 16));
      if (i < end) h = mix(h, bytes[i] as number);
    }
    hashes[r] = h;
    offset = end;
  }
  return offset === bytes.byteLength;
}

let states = new Int32Array(1024);

/**
 * The key hashes of `count` rows over the given wire columns (in key order, with their field
 * types): equal to `hashRows` of the decoded columns.
 * @param out where to write them; reused when at least `count` long. @default a new array
 * @returns the hashes, or undefined when a column is not one this reads (a type other than
 * int32, int64, date and stamp, or ASCII strings; a value that is not a safe integer; a layout
 * that does not fit the count): decode the columns then.
 */
export function hashWireRows(
  columns: readonly WireColumn[],
  types: readonly FieldType[],
  count: number,
  out?: Uint32Array,
): Uint32Array | undefined {
  if (columns.length !== types.length) return undefined;
  // Hash states as int32 (what `mix` works in), the results as uint32.
  if (states.length < count) states = new Int32Array(Math.max(count, states.length * 2));
  const hashes = states;
  hashes.fill(SEED, 0, count);
  for (let f = 0; f < columns.length; f++) {
    const column = columns[f] as WireColumn;
    let read: boolean;
    switch (types[f]) {
      case "int32":
        read = mixInt32Column(hashes, column, count);
        break;
      case "int64":
      case "date":
      case "stamp":
        read = mixInt64Column(hashes, column, count);
        break;
      case "string":
        read = mixAsciiColumn(hashes, column, count);
        break;
      default:
        read = false;
    }
    if (!read) return undefined;
  }
  const fields = columns.length;
  const result = out !== undefined && out.length >= count ? out.subarray(0, count) : uint32s(count);
  for (let r = 0; r < count; r++) result[r] = finish(hashes[r] as number, fields);
  return result;
}
