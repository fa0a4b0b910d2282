/**
 * Byte-for-byte assertions that stay cheap on large buffers. ava's
 * t.deepEqual describes a Buffer byte by byte to compare it (~2 µs a byte:
 * 7.5 s of CPU for one 3 MiB buffer), so equal bytes are checked with
 * Buffer.equals and only a mismatch is described: the lengths and the
 * first byte that differs, with its neighbourhood in hex.
 */
import type { ExecutionContext } from 'ava';

/** `actual` holds exactly the bytes of `expected` (a string is UTF-8). */
export function sameBytes(t: ExecutionContext, actual: Uint8Array | undefined, expected: Uint8Array | string, message = 'bytes'): void {
  const want = typeof expected === 'string' ? Buffer.from(expected, 'utf8') : Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (actual === undefined) {
    t.fail(`${message}: missing (expected ${want.length} bytes)`);
    return;
  }
  const got = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  if (got.equals(want)) {
    t.pass(message);
    return;
  }
  let at = 0;
  while (at < got.length && at < want.length && got[at] === want[at]) at++;
  const around = (b: Buffer) => b.subarray(Math.max(0, at - 8), at + 8).toString('hex');
  t.fail(`${message}: ${got.length} bytes, expected ${want.length}; first difference at byte ${at}: got …${around(got)}…, expected …${around(want)}…`);
}
