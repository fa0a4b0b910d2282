/**
 * UTF-8 decoding one code point at a time, with Go's rules for what is
 * invalid (the Go-JSON writer and reader both need them byte for byte).
 */

/**
 * Go's `utf8.DecodeRune` at `b[i]` (a byte ≥ 0x80): the code point (its
 * width in bytes is runeWidth(code point)), or -1 for an invalid or
 * truncated sequence, which Go reads as U+FFFD of width 1 — one replacement
 * per invalid byte. Surrogates (ED A0..BF xx), overlong forms and values
 * above U+10FFFF are invalid.
 */
export function decodeRune(b: Uint8Array, i: number, n: number): number {
  const c0 = b[i]!;
  if (c0 < 0xc2 || c0 > 0xf4) return -1;
  if (c0 < 0xe0) {
    if (i + 1 >= n) return -1;
    const c1 = b[i + 1]!;
    if (c1 < 0x80 || c1 > 0xbf) return -1;
    return ((c0 & 0x1f) << 6) | (c1 & 0x3f);
  }
  let lo = 0x80;
  let hi = 0xbf;
  if (c0 === 0xe0) lo = 0xa0;
  else if (c0 === 0xed) hi = 0x9f;
  else if (c0 === 0xf0) lo = 0x90;
  else if (c0 === 0xf4) hi = 0x8f;
  if (i + 1 >= n) return -1;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return -1;
  if (i + 2 >= n) return -1;
  const c2 = b[i + 2]!;
  if (c2 < 0x80 || c2 > 0xbf) return -1;
  if (c0 < 0xf0) {
    return ((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
  }
  if (i + 3 >= n) return -1;
  const c3 = b[i + 3]!;
  if (c3 < 0x80 || c3 > 0xbf) return -1;
  return ((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
}


/** The bytes a code point returned by decodeRune took (overlong forms are invalid, so it follows from the value). */
export function runeWidth(r: number): number {
  return r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
}
