/**
 * The optional CRC-32C footer of a native snapshot (SPEC §3.2): 4 bytes,
 * u32 BE, after the last entry, the CRC-32C of every byte before it. A
 * stream does not announce it, so the decoder keeps the CRC of every byte
 * but the last 4 seen so far: at the end those 4 are either the footer or
 * the cut-off start of an entry.
 */
import { DecodeError } from '../errors.js';
import { crc32c, crc32cJs } from './crc32c.js';

/** CRC-32C of a stream without its last 4 bytes, fed chunk by chunk. */
export class TrailingCrc {
  private crc = 0;
  /** The last (up to 4) bytes seen, not yet in the CRC. */
  private readonly tail = Buffer.alloc(4);
  private tailLen = 0;

  update(chunk: Buffer): void {
    const n = chunk.length;
    if (n >= 4) {
      if (this.tailLen > 0) this.crc = crc32cJs(this.tail, this.crc, 0, this.tailLen);
      this.crc = crc32c(chunk, this.crc, 0, n - 4);
      chunk.copy(this.tail, 0, n - 4, n);
      this.tailLen = 4;
      return;
    }
    // Fewer than 4 new bytes: shift the oldest tail bytes into the CRC.
    const total = this.tailLen + n;
    const excess = total - 4;
    if (excess > 0) {
      this.crc = crc32cJs(this.tail, this.crc, 0, excess);
      this.tail.copyWithin(0, excess, this.tailLen);
      this.tailLen -= excess;
    }
    chunk.copy(this.tail, this.tailLen, 0, n);
    this.tailLen += n;
  }

  /** Whether the last 4 bytes seen hold the CRC-32C of every byte before them. */
  footerMatches(): boolean {
    return this.tailLen === 4 && this.tail.readUInt32BE(0) === this.digest();
  }

  /** The CRC-32C of every byte so far but the last 4 (unsigned). */
  digest(): number {
    return this.crc >>> 0;
  }
}

/** Throws ERR_SNAPSHOT_CRC_MISMATCH unless the footer at byte offset `at` holds `computed`. */
export function checkFooter(stored: number, computed: number, at: number): void {
  if (stored === computed) return;
  throw new DecodeError(
    'ERR_SNAPSHOT_CRC_MISMATCH',
    `CRC-32C footer mismatch: the footer (this offset) holds 0x${hex32(stored)} but the ${at} bytes before it ` +
      `have CRC-32C 0x${hex32(computed)}: the snapshot is corrupt`,
    { offset: at },
  );
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
