/**
 * UTF-8 helpers of the string codec: one TextEncoder/TextDecoder call per column, with per-string
 * byte or character counts computed in plain loops.
 */

const encoder = new TextEncoder();
/** Fatal (invalid UTF-8 throws) and BOM-preserving, so decoded text maps one to one to the bytes. */
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The UTF-8 bytes of a string; a lone surrogate becomes U+FFFD (3 bytes), as TextEncoder does. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * The text of UTF-8 bytes.
 * @throws TypeError when the bytes are not valid UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The number of bytes {@link encodeUtf8} produces for a string, without encoding it. */
export function utf8Length(text: string): number {
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        // A surrogate pair: two code units, four bytes.
        bytes += 2;
        i++;
      } else {
        bytes += 2;
      }
    } else {
      // Three-byte characters, and lone surrogates (encoded as U+FFFD).
      bytes += 2;
    }
  }
  return bytes;
}

/**
 * The number of UTF-16 code units that the UTF-8 bytes `bytes[start..end)` decode to, given that
 * they are valid UTF-8: one per byte that does not continue a character, plus one more per
 * four-byte character.
 */
export function utf16Length(bytes: Uint8Array, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
  }
  return units;
}

/** Whether byte `index` continues a multi-byte character (so a string cannot start there). */
export function isContinuationByte(bytes: Uint8Array, index: number): boolean {
  return index < bytes.length && ((bytes[index] as number) & 0xc0) === 0x80;
}
