import type { FieldType } from "./types.js";
import { scaledInteger } from "./wire.js";

/** Returned by a {@link Coercer} for a value its type does not accept. */
export const BAD: unique symbol = Symbol("bad value");

/**
 * Turns a non-null input value into the stored value of a type (a boolean becomes 0/1), or
 * returns {@link BAD}.
 */
export type Coercer = (value: unknown) => number | string | Uint8Array | typeof BAD;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const MICROS = 1e6;

/** What each type accepts, as error messages say it after "expected". */
export const EXPECTED: Readonly<Record<FieldType, string>> = {
  int32: "int32 (an integer from -2147483648 to 2147483647)",
  int64: "int64 (a safe integer, |v| <= 2^53-1)",
  double: "double (a number)",
  money: "money (a finite number, at most 9007199254.740991 in magnitude)",
  string: "string",
  date: "date (seconds since the epoch as a safe integer, an ISO-8601 string or a Date)",
  stamp: "stamp (microseconds since the epoch as a safe integer, an ISO-8601 string or a Date)",
  boolean: "boolean (true or false)",
  blob: "blob (a Uint8Array)",
};

function safeInteger(value: unknown): number | typeof BAD {
  if (typeof value === "number") return Number.isSafeInteger(value) ? value : BAD;
  if (typeof value === "bigint") {
    const n = Number(value);
    return Number.isSafeInteger(n) && BigInt(n) === value ? n : BAD;
  }
  return BAD;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Microseconds since the epoch of an ISO-8601 date or date-time (`2024-05-01`,
 * `2024-05-01T12:30:00.123456Z`, `2024-05-01 12:30+02:00`); a time without a zone is UTC.
 * Fractions beyond microseconds are truncated. Returns undefined when the text is not a valid
 * ISO-8601 date.
 */
export function parseIsoMicros(text: string): number | undefined {
  const match = ISO_8601.exec(text.trim());
  if (match === null) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = "", zone = "Z"] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Not Date.UTC: it maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCDate() !== day) return undefined;
  const ms = date.getTime();
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  const micros = fraction.length === 0 ? 0 : Number(fraction.slice(0, 6).padEnd(6, "0"));
  return (ms - offsetMinutes * 60_000) * 1000 + micros;
}

function toMicros(value: unknown): number | typeof BAD {
  if (typeof value === "string") return parseIsoMicros(value) ?? BAD;
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? BAD : ms * 1000;
  }
  return safeInteger(value);
}

const coerceInt32: Coercer = (value) => {
  if (typeof value === "number")
    return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX ? value : BAD;
  if (typeof value === "bigint") return value >= INT32_MIN && value <= INT32_MAX ? Number(value) : BAD;
  return BAD;
};

const coerceDouble: Coercer = (value) => (typeof value === "number" ? value : BAD);

const coerceMoney: Coercer = (value) => {
  if (typeof value !== "number") return BAD;
  const micros = scaledInteger(value, MICROS);
  if (!Number.isSafeInteger(micros)) return BAD;
  return micros === 0 ? 0 : micros / MICROS; // never -0
};

const coerceString: Coercer = (value) => (typeof value === "string" ? value : BAD);

const coerceDate: Coercer = (value) => {
  if (typeof value === "string" || value instanceof Date) {
    const micros = toMicros(value);
    return micros === BAD ? BAD : Math.floor(micros / MICROS);
  }
  return safeInteger(value);
};

const coerceStamp: Coercer = (value) => {
  const micros = toMicros(value);
  return micros === BAD || Number.isSafeInteger(micros) ? micros : BAD;
};

const coerceBoolean: Coercer = (value) => (value === true ? 1 : value === false ? 0 : BAD);

const coerceBlob: Coercer = (value) => (value instanceof Uint8Array ? value : BAD);

/**
 * The coercer of each type. Accepted inputs (null and undefined are null and never reach a coercer):
 * - int32: an integral number in range (or a bigint in range);
 * - int64: a safe integer (or a bigint in the safe range); anything else, including numeric
 *   strings, is rejected;
 * - double: any number (NaN and infinities included);
 * - money: a finite number, rounded half up to micro-units (6 decimals); |value × 1e6| must be a
 *   safe integer;
 * - string: a string; blob: a Uint8Array (a Buffer is one), kept by reference;
 * - date: seconds as a safe integer, an ISO-8601 string or a Date (floored to the second);
 * - stamp: microseconds as a safe integer, an ISO-8601 string or a Date;
 * - boolean: true or false.
 */
export const COERCERS: Readonly<Record<FieldType, Coercer>> = {
  int32: coerceInt32,
  int64: safeInteger,
  double: coerceDouble,
  money: coerceMoney,
  string: coerceString,
  date: coerceDate,
  stamp: coerceStamp,
  boolean: coerceBoolean,
  blob: coerceBlob,
};
