/** Format characters and separators: invisible, or mistaken for a space. */
const HIDDEN = /^[\p{Cf}\p{Z}]/u;

/**
 * Printable form of raw key bytes for messages: valid, printable UTF-8 is
 * kept; any other byte is written as \xHH and a backslash as \\, so two
 * different keys never print the same.
 *
 * Not printable: ASCII controls and DEL, C1 controls (U+0080–U+009F),
 * U+FFFD itself (it would hide invalid bytes), and characters that are
 * invisible or change how the rest of a terminal line is shown: format
 * characters (\p{Cf}: soft hyphen, zero-width space/joiners, bidi overrides
 * such as U+202E, BOM) and non-ASCII separators (\p{Z}: U+00A0, U+2028,
 * U+2029, U+3000…), which would look like nothing or like a plain space.
 */
export function printable(bytes: Buffer): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b >= 0x20 && b < 0x7f) {
      out += b === 0x5c ? '\\\\' : String.fromCharCode(b);
      i++;
      continue;
    }
    const len = b >= 0xf0 && b < 0xf5 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b < 0xe0 ? 2 : 0;
    if (len > 0 && i + len <= bytes.length) {
      const s = bytes.subarray(i, i + len).toString('utf8');
      const cp = s.codePointAt(0)!;
      if (!s.includes('\ufffd') && s.length <= 2 && cp >= 0xa0 && !HIDDEN.test(s)) {
        out += s;
        i += len;
        continue;
      }
    }
    out += `\\x${b.toString(16).padStart(2, '0')}`;
    i++;
  }
  return out;
}
