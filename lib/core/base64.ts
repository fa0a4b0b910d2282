import { DecodeError } from '../errors.js';

/**
 * Strict standard base64 (RFC 4648 §4): padding optional but, when present,
 * complete. Node's decoder silently skips characters outside the alphabet
 * and accepts the URL-safe one; we detect both without a per-character loop:
 * every skipped character shortens the decoded length below what the string
 * length implies, and '-' / '_' are found with indexOf.
 *
 * Non-ASCII characters need their own check: Node decodes a string that
 * holds any character above U+00FF by truncating every character to its low
 * byte, so "QUJń" (U+0144, low byte 0x44 'D') decodes exactly like "QUJD",
 * and U+012D / U+015F act as '-' / '_'. Any non-ASCII character makes the
 * UTF-8 length exceed the string length, which Buffer.byteLength computes
 * without decoding (far cheaper than a regular expression over the string).
 *
 * The text is a JSON-lines field (SPEC §3.1): bad base64 is an
 * ERR_JSONL_LINE DecodeError naming the field and the line.
 */
export function decodeBase64Strict(s: string, field: string, line: number): Buffer {
  const len = dataChars(s.length, s.charCodeAt(s.length - 1), s.charCodeAt(s.length - 2), field, line);
  const expected = Math.floor((len * 3) / 4);
  const out = Buffer.from(s, 'base64');
  if (out.length !== expected || s.indexOf('-') !== -1 || s.indexOf('_') !== -1 || Buffer.byteLength(s, 'utf8') !== s.length) {
    throw base64Error(field, line, `invalid base64 character at position ${firstInvalid(s, len)}`);
  }
  return out;
}

/**
 * The same strict decoding for base64 text held as bytes (a JSON string
 * inside a JSONL line), without going through a UTF-8 string. Bytes ≥ 0x80
 * become latin1 characters outside the alphabet, which the length check
 * catches, so the non-ASCII check above is not needed here. `into`
 * allocates the output buffer (default: a new one).
 */
export function decodeBase64Bytes(buf: Buffer, start: number, end: number, field: string, line: number, into?: (length: number) => Buffer): Buffer {
  const len = dataChars(end - start, buf[end - 1], buf[end - 2], field, line);
  const expected = Math.floor((len * 3) / 4);
  const out = into ? into(expected) : Buffer.allocUnsafe(expected);
  // Decoded PIECE characters at a time: a short string per piece lives and
  // dies in V8's young generation, where one string of the whole value (1.4 MB
  // for a blob chunk) would be a fresh allocation of its own every line.
  let length = 0;
  for (let at = start; at < end; at += PIECE) {
    const stop = Math.min(at + PIECE, end);
    const want = stop < end ? ((stop - at) / 4) * 3 : expected - length;
    if (!decodeInto(buf, at, stop, out, length, want)) {
      throw base64Error(field, line, `invalid base64 character at position ${firstInvalid(buf.toString('latin1', start, end), len)}`);
    }
    length += want;
  }
  return out;
}

/**
 * Bytes that the base64 text buf[start, end) decodes to, its padding
 * checked as decodeBase64Bytes checks it (the same errors); what
 * decodeBase64Bytes asks `into` for.
 */
export function base64DecodedLength(buf: Uint8Array, start: number, end: number, field: string, line: number): number {
  return Math.floor((dataChars(end - start, buf[end - 1], buf[end - 2], field, line) * 3) / 4);
}

/**
 * Of base64 text `len` characters long whose last two are (as character
 * codes) `last` and `beforeLast`: the characters that carry bits, padding
 * dropped. Padding is optional but, when present, complete.
 */
function dataChars(len: number, last: number | undefined, beforeLast: number | undefined, field: string, line: number): number {
  if (len > 0 && last === 0x3d /* = */) {
    if (len % 4 !== 0) throw base64Error(field, line, BAD_PADDING);
    return len - (beforeLast === 0x3d ? 2 : 1);
  }
  if (len % 4 === 1) throw base64Error(field, line, TRUNCATED);
  return len;
}

/** Base64 characters decoded at a time (a multiple of 4: pieces end on whole groups). */
export const PIECE = 64 * 1024;

/**
 * Decodes text[start, stop) with Node's decoder into out at `at`: whether
 * it gave exactly `want` bytes and held neither '-' nor '_'. Node skips a
 * character outside the alphabet (the output then comes up short) and
 * takes the URL-safe ones; both make this false.
 */
export function decodeInto(text: Buffer, start: number, stop: number, out: Buffer, at: number, want: number): boolean {
  if (out.write(text.toString('latin1', start, stop), at, want, 'base64') !== want) return false;
  const view = text.subarray(start, stop);
  return view.indexOf(0x2d) === -1 && view.indexOf(0x5f) === -1;
}

export const TRUNCATED = 'truncated base64 (length ≡ 1 mod 4)';
export const BAD_PADDING = 'incomplete base64 padding';

/** Bad base64 in a JSON-lines field: ERR_JSONL_LINE naming the field and the line. */
export function base64Error(field: string, line: number, reason: string): DecodeError {
  return new DecodeError('ERR_JSONL_LINE', `"${field}": ${reason}`, { line });
}

const ALPHABET = /[^A-Za-z0-9+/]/;

function firstInvalid(s: string, len: number): number {
  const m = ALPHABET.exec(s.slice(0, len));
  return m ? m.index : len;
}
