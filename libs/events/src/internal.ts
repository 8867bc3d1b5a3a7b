/**
 * @packageDocumentation
 * Internals of `@espmesh/events` shared with other espmesh packages (column storage, null
 * bitmaps, value coercion, UTF-8 and fixed-width wire helpers). Not a stable API.
 */

export { BAD } from "./coerce.js";
export {
  bitIsSet,
  bitmapBytes,
  clearBit,
  columnValue,
  type StorageKind,
  setBit,
  storageOf,
  trimBitmap,
} from "./columns.js";
export { badValue, describeValue, invalidArgument } from "./errors.js";
export { float64s, int32s, uint8s, uint32s } from "./slab.js";
export { decodeUtf8, encodeUtf8, utf8Length, utf16Length } from "./utf8.js";
export { LITTLE_ENDIAN, packFixed, packInt64, unpackFixed, unpackInt64, wireWords } from "./wire.js";
