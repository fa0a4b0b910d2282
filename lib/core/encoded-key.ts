/**
 * The key as a native snapshot stores it (SPEC §3.2): userKey ‖ BE64(NOT
 * commitTs). Inverting the timestamp makes bytewise order put a key's
 * newer versions first. Built and read here only.
 */
import { MAX_U64 } from './u64.js';

/** Bytes the timestamp suffix takes. */
export const ENCODED_TS_LEN = 8;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Writes BE64(NOT commitTs) at dst[at…at+8). Timestamps up to 2^53 (all
 * real ones) are written as two u32 halves without BigInt arithmetic; others
 * take their low 64 bits (range checks are the caller's).
 */
export function writeEncodedTs(dst: Buffer, at: number, commitTs: bigint): void {
  if (commitTs >= 0n && commitTs <= MAX_SAFE) {
    const n = Number(commitTs);
    dst.writeUInt32BE(~Math.floor(n / 0x100000000) >>> 0, at);
    dst.writeUInt32BE(~n >>> 0, at + 4);
  } else {
    dst.writeBigUInt64BE(~commitTs & MAX_U64, at);
  }
}

/** The commit timestamp whose encoding is at b[i…i+8): the inverse of writeEncodedTs. */
export function readEncodedTs(b: Uint8Array, i: number): bigint {
  const hi = ~((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  const lo = ~((b[i + 4]! << 24) | (b[i + 5]! << 16) | (b[i + 6]! << 8) | b[i + 7]!) >>> 0;
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/** userKey ‖ BE64(NOT commitTs), a new buffer. commitTs must be a uint64. */
export function encodedKey(key: Uint8Array, commitTs: bigint): Buffer {
  checkU64(commitTs, 'commitTs');
  const out = Buffer.allocUnsafe(key.length + ENCODED_TS_LEN);
  out.set(key, 0);
  writeEncodedTs(out, key.length, commitTs);
  return out;
}

/** Throws RangeError unless n is a uint64 (a caller's mistake, not bad input). */
export function checkU64(n: bigint, what: string): void {
  if (n < 0n || n > MAX_U64) throw new RangeError(`${what} ${n} is outside the uint64 range`);
}
