import type { ValueClass } from "./ast.js";

/**
 * A vector of intermediate expression results for `n` rows, reused from batch to batch (it only
 * grows). Numbers and booleans (1/0) live in `num`, strings in `str`, blobs in `bytes`; `nulls[k]`
 * is 1 when row k is null, and `anyNull` says whether any of the first `n` rows is.
 */
export class Vec {
  num: Float64Array;
  str: string[];
  bytes: Uint8Array[];
  nulls: Uint8Array;
  anyNull = false;
  capacity: number;

  constructor(
    readonly cls: ValueClass,
    capacity = 64,
  ) {
    this.capacity = capacity;
    this.num = new Float64Array(cls === "string" || cls === "blob" ? 0 : capacity);
    this.str = cls === "string" ? new Array<string>(capacity).fill("") : [];
    this.bytes = cls === "blob" ? new Array<Uint8Array>(capacity) : [];
    this.nulls = new Uint8Array(capacity);
  }

  /** Grows the vector to hold `n` rows; returns true when it had to grow (contents are lost). */
  ensure(n: number): boolean {
    if (n <= this.capacity) return false;
    let capacity = this.capacity;
    while (capacity < n) capacity *= 2;
    this.capacity = capacity;
    if (this.cls !== "string" && this.cls !== "blob") this.num = new Float64Array(capacity);
    if (this.cls === "string") this.str = new Array<string>(capacity).fill("");
    if (this.cls === "blob") this.bytes = new Array<Uint8Array>(capacity);
    this.nulls = new Uint8Array(capacity);
    return true;
  }

  /** Marks no row null. */
  clearNulls(n: number): void {
    if (this.anyNull) this.nulls.fill(0, 0, n);
    this.anyNull = false;
  }

  /** Sets `nulls` to the union of the operands' nulls (rows null in any operand). */
  unionNulls(n: number, a: Vec, b?: Vec): void {
    const bn = b?.anyNull === true;
    if (!a.anyNull && !bn) {
      this.clearNulls(n);
      return;
    }
    const out = this.nulls;
    const x = a.nulls;
    if (bn && a.anyNull) {
      const y = (b as Vec).nulls;
      for (let k = 0; k < n; k++) out[k] = x[k]! | y[k]!;
    } else if (bn) {
      out.set((b as Vec).nulls.subarray(0, n));
    } else {
      out.set(x.subarray(0, n));
    }
    this.anyNull = true;
  }

  /** The value of row k as a JS value (null, number, string, boolean or bytes). */
  valueAt(k: number): number | string | boolean | Uint8Array | null {
    if (this.anyNull && this.nulls[k] === 1) return null;
    switch (this.cls) {
      case "string":
        return this.str[k] as string;
      case "blob":
        return this.bytes[k] as Uint8Array;
      case "boolean":
        return this.num[k] === 1;
      case "null":
        return null;
      default:
        return this.num[k] as number;
    }
  }
}
