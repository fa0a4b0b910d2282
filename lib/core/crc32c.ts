/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as used by the
 * 4-byte footer of native snapshot files (SPEC §3.2).
 *
 * Large inputs go to `@node-rs/crc32` (SSE4.2 / PCLMUL / ARM CRC, ~7 GB/s
 * here) when its prebuilt binary loads; small inputs, and every input when
 * the binary is missing or `EKV_CRC32C=js` is set, use the slicing-by-16
 * table code below (~2 GB/s). The native call costs ~80 ns, so below
 * NATIVE_MIN bytes the table code is faster anyway. Measured with
 * `node dist/bench/crc32c.js` (see bench/crc32c.ts).
 *
 * All functions take and return the finished CRC value (not the inverted
 * register), so `crc32c(b, crc32c(a)) === crc32c(a ‖ b)`.
 */
import { createRequire } from 'node:module';

const POLY = 0x82f63b78;
const SLICES = 16;

/** TABLE[t * 256 + b]: CRC of byte b followed by t zero bytes. */
const TABLE = (() => {
  const t = new Int32Array(SLICES * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = t[i]!;
    for (let s = 1; s < SLICES; s++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[s * 256 + i] = c;
    }
  }
  return t;
})();

/**
 * Table-driven CRC-32C of `buf[start, end)`, continuing from `crc`
 * (slicing-by-16; pure JavaScript).
 */
export function crc32cJs(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  const T = TABLE;
  let c = ~crc;
  let i = start;
  const last16 = end - 16;
  while (i <= last16) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    c =
      T[3840 + (a & 0xff)]! ^
      T[3584 + ((a >>> 8) & 0xff)]! ^
      T[3328 + ((a >>> 16) & 0xff)]! ^
      T[3072 + (a >>> 24)]! ^
      T[2816 + buf[i + 4]!]! ^
      T[2560 + buf[i + 5]!]! ^
      T[2304 + buf[i + 6]!]! ^
      T[2048 + buf[i + 7]!]! ^
      T[1792 + buf[i + 8]!]! ^
      T[1536 + buf[i + 9]!]! ^
      T[1280 + buf[i + 10]!]! ^
      T[1024 + buf[i + 11]!]! ^
      T[768 + buf[i + 12]!]! ^
      T[512 + buf[i + 13]!]! ^
      T[256 + buf[i + 14]!]! ^
      T[buf[i + 15]!]!;
    i += 16;
  }
  while (i < end) c = T[(c ^ buf[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type NativeCrc = (input: Uint8Array, initialState?: number) => number;

function loadNative(): NativeCrc | undefined {
  if (process.env['EKV_CRC32C'] === 'js') return undefined;
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: unknown };
    const fn = mod.crc32c;
    if (typeof fn !== 'function') return undefined;
    const native = fn as NativeCrc;
    // Self-check against the standard check value before trusting it.
    if (native(Buffer.from('123456789')) >>> 0 !== 0xe3069283) return undefined;
    return native;
  } catch {
    return undefined;
  }
}

/** Loaded on the first large input (null until then): a run that never checks a CRC starts without the addon. */
let native: NativeCrc | undefined | null = null;

/** Which implementation large inputs use. */
export function crc32cImplementation(): 'native' | 'js' {
  native ??= loadNative();
  return native ? 'native' : 'js';
}

/** Below this many bytes the table code beats the native call overhead. */
const NATIVE_MIN = 256;

/** CRC-32C of `buf[start, end)`, continuing from `crc` (0 to start). */
export function crc32c(buf: Uint8Array, crc = 0, start = 0, end = buf.length): number {
  if (end - start >= NATIVE_MIN && (native ??= loadNative()) !== undefined) {
    const part = start === 0 && end === buf.length ? buf : buf.subarray(start, end);
    return native(part, crc) >>> 0;
  }
  return crc32cJs(buf, crc, start, end);
}

/** Incremental CRC-32C. */
export class Crc32c {
  private crc = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    this.crc = crc32c(buf, this.crc, start, end);
    return this;
  }

  /** The CRC of everything fed so far (may be called repeatedly). */
  digest(): number {
    return this.crc;
  }

  /** The CRC as 4 big-endian bytes, the footer's byte order. */
  digestBE(): Buffer {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(this.crc, 0);
    return b;
  }
}
