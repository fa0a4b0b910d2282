/**
 * Incremental decoder of elastickv's native snapshot stream (SPEC §3.2).
 *
 *   [HLC header: "EKVTHLC1" ceiling(u64 BE)
 *              | "EKVTHLC2" len(u16 BE) ceiling(u64 BE) cutover(u64 BE) (len−16 bytes)]
 *   "EKVPBBL1" lastCommitTS(u64 LE)
 *   repeated: keyLen(u64 LE) encodedKey valLen(u64 LE) encodedValue
 *   [CRC-32C footer (u32 BE) over every byte before it]
 *
 * Pure and synchronous: feed chunks with push()/write(), call end() at EOF.
 * Nothing here concatenates the input. A key or value that lies inside the
 * chunk being decoded is taken from it directly; one that spans chunks is
 * allocated once at its known length and the pieces are copied in.
 *
 * Retention: a subarray pins the whole chunk it points into. Keys are
 * therefore always copied out (later stages keep keys, or parts of them,
 * long after the chunk is gone); value bodies of at least `zeroCopyMin`
 * bytes (default 64 KiB: blob chunks, ~1 MiB) are zero-copy subarrays of
 * the input chunk, shorter ones are copied. Chunks must not be modified
 * after they are pushed.
 */
import { DecodeError, type ErrorCode } from '../errors.js';
import type { SnapshotHeader, SnapshotRecord } from '../types.js';
import { crc32c, crc32cJs } from './crc32c.js';

export const FSM_MAGIC = 'EKVPBBL1';
export const FSM_SST_MAGIC = 'EKVSSTI1';
export const FSM_HLC_PREFIX = 'EKVTHLC';
export const FSM_HLC_V1 = 'EKVTHLC1';
export const FSM_HLC_V2 = 'EKVTHLC2';

/** Largest accepted keyLen: 1 MiB user key + 8-byte timestamp suffix. */
export const FSM_MAX_KEY_LEN = (1 << 20) + 8;
/** Largest accepted valLen: 256 MiB + 43. */
export const FSM_MAX_VALUE_LEN = (256 << 20) + 43;
/** flags byte (1) + expireAt (8) before the value body. */
export const FSM_VALUE_HEADER_LEN = 9;

/**
 * True when `prefix` (the first bytes of an input) starts like a native
 * snapshot (SPEC §2): "EKVPBBL1", "EKVTHLC" or "EKVSSTI1". Needs 8 bytes
 * (7 suffice for "EKVTHLC").
 */
export function looksLikeFsm(prefix: Uint8Array): boolean {
  const s = Buffer.from(prefix.buffer, prefix.byteOffset, Math.min(prefix.length, 8)).toString('latin1');
  return s === FSM_MAGIC || s === FSM_SST_MAGIC || s.startsWith(FSM_HLC_PREFIX);
}

/** Options of FsmDecoder. */
export interface FsmDecoderOptions {
  /**
   * Value bodies at least this long that lie inside one input chunk are
   * returned as subarrays of it (zero copy); shorter ones are copied so a
   * small value kept for long does not pin a large read buffer.
   * Default 65536. 0 = always zero copy when possible.
   */
  zeroCopyMin?: number;
  /** Compute the CRC-32C that a footer is checked against (default true). */
  verifyCrc?: boolean;
  /** Called once, synchronously, as soon as the preamble is decoded (before the first record). */
  onHeader?: (header: SnapshotHeader) => void;
}

/** Everything the preamble says, beyond SnapshotHeader. */
export interface FsmPreambleInfo {
  /** The HLC header, when the file has one. */
  hlc?: { version: 1 | 2; ceiling: bigint; cutover?: bigint; /** bytes, magic included */ length: number };
  lastCommitTs: bigint;
  /** Byte offset of the first entry. */
  dataOffset: number;
}

/** Receives each decoded record. */
export type RecordSink = (record: SnapshotRecord) => void;

const enum Phase {
  Preamble,
  Entries,
  Ended,
  Failed,
}

const enum St {
  KeyLen,
  Key,
  ValLen,
  ValHdr,
  Body,
}

const KNOWN_MAGICS = [FSM_MAGIC, FSM_SST_MAGIC, FSM_HLC_V1, FSM_HLC_V2];

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x1000000;
}

function u64le(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** ~(u64 BE at b[i]) as a bigint: the commit timestamp of an encoded key. */
function notTs(b: Uint8Array, i: number): bigint {
  const hi = ~((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  const lo = ~((b[i + 4]! << 24) | (b[i + 5]! << 16) | (b[i + 6]! << 8) | b[i + 7]!) >>> 0;
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function copyOut(src: Buffer, start: number, end: number): Buffer {
  const b = Buffer.allocUnsafe(end - start);
  src.copy(b, 0, start, end);
  return b;
}

function fail(code: ErrorCode, detail: string, offset: number, key?: Buffer): DecodeError {
  return new DecodeError(code, detail, key === undefined ? { offset } : { offset, key });
}

/** Native snapshot decoding (SPEC §3.2) with no stream machinery: feed byte chunks, get SnapshotRecords. */
export class FsmDecoder {
  /** Set once the preamble is decoded. */
  header: SnapshotHeader | undefined;
  /** Details of the preamble, set with `header`. */
  preamble: FsmPreambleInfo | undefined;
  /** Bytes accepted so far (all of them are consumed: buffered or decoded). */
  bytesConsumed = 0;
  /** Records decoded so far. */
  records = 0;
  /** After end(): whether the input had a CRC footer (it matched, or end() threw). */
  hasFooter = false;

  private phase = Phase.Preamble;
  private error: DecodeError | undefined;
  private readonly zeroCopyMin: number;
  private readonly verifyCrc: boolean;
  private readonly onHeader: ((header: SnapshotHeader) => void) | undefined;

  // Preamble accumulator (bounded: at most 10 + 65535 + 16 bytes).
  private pre: Buffer = Buffer.allocUnsafe(32);
  private preLen = 0;

  // CRC over every byte except the last 4 seen so far (held in `tail`).
  private crc = 0;
  private readonly tail = Buffer.alloc(4);
  private tailLen = 0;

  // Entry state machine.
  private st = St.KeyLen;
  /** Absolute offset of the entry being decoded. */
  private entryStart = 0;
  private readonly small = Buffer.alloc(9);
  private smallHave = 0;
  private big: Buffer | undefined;
  private bigHave = 0;
  private keyLen = 0;
  private valLen = 0;
  private key: Buffer = Buffer.alloc(0);
  private commitTs = 0n;
  private tombstone = false;

  constructor(opts: FsmDecoderOptions = {}) {
    this.zeroCopyMin = opts.zeroCopyMin ?? 65536;
    this.verifyCrc = opts.verifyCrc ?? true;
    this.onHeader = opts.onHeader;
  }

  /** Decodes a chunk, returning the records completed by it. */
  push(chunk: Buffer): SnapshotRecord[] {
    const out: SnapshotRecord[] = [];
    this.write(chunk, (r) => out.push(r));
    return out;
  }

  /** Decodes a chunk, passing each completed record to `emit` (synchronously). */
  write(chunk: Buffer, emit: RecordSink): void {
    if (this.phase === Phase.Failed) throw this.error!;
    if (this.phase === Phase.Ended) throw new Error('FsmDecoder: write after end()');
    const n = chunk.length;
    if (n === 0) return;
    const base = this.bytesConsumed;
    this.bytesConsumed = base + n;
    if (this.verifyCrc) this.feedCrc(chunk);
    try {
      let i = 0;
      if (this.phase === Phase.Preamble) {
        i = this.preambleBytes(chunk);
        if (this.phase === Phase.Preamble) return;
      }
      this.entries(chunk, i, base, emit);
    } catch (err) {
      if (err instanceof DecodeError) {
        this.phase = Phase.Failed;
        this.error = err;
        this.big = undefined;
      }
      throw err;
    }
  }

  /** Signals EOF. Throws when the input does not end cleanly or the footer does not match. */
  end(): void {
    if (this.phase === Phase.Failed) throw this.error!;
    if (this.phase === Phase.Ended) return;
    try {
      this.finish();
      this.phase = Phase.Ended;
    } catch (err) {
      if (err instanceof DecodeError) {
        this.phase = Phase.Failed;
        this.error = err;
      }
      throw err;
    }
  }

  // ---------------------------------------------------------------- CRC

  private feedCrc(chunk: Buffer): void {
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

  // ----------------------------------------------------------- preamble

  /** Takes preamble bytes from the chunk; returns how many were used. */
  private preambleBytes(chunk: Buffer): number {
    let i = 0;
    for (;;) {
      const need = this.preambleNeed();
      if (need === 0) {
        this.startEntries();
        return i;
      }
      if (this.pre.length < need) {
        const grown = Buffer.allocUnsafe(Math.max(need, this.pre.length * 2));
        this.pre.copy(grown, 0, 0, this.preLen);
        this.pre = grown;
      }
      const take = Math.min(need - this.preLen, chunk.length - i);
      chunk.copy(this.pre, this.preLen, i, i + take);
      this.preLen += take;
      i += take;
      if (this.preLen < need) return i;
    }
  }

  /**
   * Interprets the preamble bytes held so far: 0 when complete, else the
   * total number of bytes needed to go on. Throws on a bad preamble.
   */
  private preambleNeed(): number {
    return this.preambleStep().need;
  }

  private preambleStep(): { need: number; field: string; at: number } {
    const p = this.pre;
    const len = this.preLen;
    if (len < 8) return { need: 8, field: 'snapshot magic', at: 0 };
    const m = p.toString('latin1', 0, 8);
    let inner = 0;
    if (m === FSM_HLC_V1) {
      if (len < 16) return { need: 16, field: 'EKVTHLC1 header', at: 8 };
      inner = 16;
    } else if (m === FSM_HLC_V2) {
      if (len < 10) return { need: 10, field: 'EKVTHLC2 header length', at: 8 };
      const hl = p.readUInt16BE(8);
      if (hl < 16) {
        throw fail(
          'ERR_SNAPSHOT_CORRUPT',
          `corrupt EKVTHLC2 header: its length field (this offset) is ${hl}, less than the 16 bytes of ceiling and cutover`,
          8,
        );
      }
      if (len < 10 + hl) return { need: 10 + hl, field: 'EKVTHLC2 header', at: 10 };
      inner = 10 + hl;
    } else if (m.startsWith(FSM_HLC_PREFIX)) {
      throw fail(
        'ERR_SNAPSHOT_UNKNOWN_HEADER',
        `unknown snapshot header ${JSON.stringify(m)} (known: EKVTHLC1, EKVTHLC2)`,
        0,
      );
    }
    if (len < inner + 8) return { need: inner + 8, field: 'snapshot magic', at: inner };
    const m2 = p.toString('latin1', inner, inner + 8);
    if (m2 === FSM_SST_MAGIC) {
      throw fail(
        'ERR_SNAPSHOT_UNSUPPORTED',
        'this is an SST-ingest snapshot (EKVSSTI1, written with ELASTICKV_PEBBLE_SST_INGEST_SNAPSHOT=true); ' +
          'SST-ingest snapshots are not supported, only EKVPBBL1 snapshot streams',
        inner,
      );
    }
    if (m2 !== FSM_MAGIC) {
      throw fail(
        'ERR_SNAPSHOT_BAD_MAGIC',
        inner === 0
          ? `not a native snapshot: bad magic ${printableMagic(p, 0, 8)} (expected EKVPBBL1, EKVTHLC1/2 or EKVSSTI1)`
          : `bad magic ${printableMagic(p, inner, inner + 8)} (this offset) after the ${m} header (expected EKVPBBL1)`,
        inner,
      );
    }
    if (len < inner + 16) return { need: inner + 16, field: 'lastCommitTS', at: inner + 8 };
    return { need: 0, field: '', at: inner + 16 };
  }

  private startEntries(): void {
    const p = this.pre;
    const m = p.toString('latin1', 0, 8);
    let inner = 0;
    let hlc: FsmPreambleInfo['hlc'];
    if (m === FSM_HLC_V1) {
      inner = 16;
      hlc = { version: 1, ceiling: p.readBigUInt64BE(8), length: 16 };
    } else if (m === FSM_HLC_V2) {
      inner = 10 + p.readUInt16BE(8);
      hlc = { version: 2, ceiling: p.readBigUInt64BE(10), cutover: p.readBigUInt64BE(18), length: inner };
    }
    const lastCommitTs = p.readBigUInt64LE(inner + 8);
    const dataOffset = inner + 16;
    this.preamble = hlc ? { hlc, lastCommitTs, dataOffset } : { lastCommitTs, dataOffset };
    this.header = { format: 'fsm', lastCommitTs };
    this.pre = Buffer.alloc(0);
    this.preLen = 0;
    this.entryStart = dataOffset;
    this.phase = Phase.Entries;
    if (this.onHeader) this.onHeader(this.header);
  }

  // ------------------------------------------------------------ entries

  /** Decodes entries from chunk[i..], whose byte 0 is at absolute offset `base`. */
  private entries(chunk: Buffer, i: number, base: number, emit: RecordSink): void {
    const n = chunk.length;
    for (;;) {
      if (this.st === St.KeyLen && this.smallHave === 0) {
        i = this.fast(chunk, i, base, emit);
        if (i >= n) return;
      }
      i = this.slow(chunk, i, emit);
      if (i >= n) return;
    }
  }

  /**
   * Whole entries lying inside the chunk, from an entry boundary at i.
   * Returns where it stopped: the end of the chunk or the start of an entry
   * that does not fit (the slow path takes it from there).
   */
  private fast(chunk: Buffer, i: number, base: number, emit: RecordSink): number {
    const n = chunk.length;
    const zeroCopyMin = this.zeroCopyMin;
    while (n - i >= 8) {
      const klo = u32le(chunk, i);
      const khi = u32le(chunk, i + 4);
      if (khi !== 0 || klo > FSM_MAX_KEY_LEN || klo < 8) this.badKeyLen(klo, khi, base + i);
      const kEnd = i + 8 + klo;
      if (kEnd + 8 + FSM_VALUE_HEADER_LEN > n) break;
      const vlo = u32le(chunk, kEnd);
      const vhi = u32le(chunk, kEnd + 4);
      if (vhi !== 0 || vlo > FSM_MAX_VALUE_LEN || vlo < FSM_VALUE_HEADER_LEN) this.badValLen(vlo, vhi, base + kEnd, base + i);
      const vStart = kEnd + 8;
      const vEnd = vStart + vlo;
      if (vEnd > n) break;
      const flags = chunk[vStart]!;
      const key = copyOut(chunk, i + 8, kEnd - 8);
      if ((flags & 0xfe) !== 0) this.badFlags(flags, base + vStart, base + i, key);
      const bStart = vStart + FSM_VALUE_HEADER_LEN;
      const value = vEnd - bStart >= zeroCopyMin ? chunk.subarray(bStart, vEnd) : copyOut(chunk, bStart, vEnd);
      this.records++;
      emit({ key, value, commitTs: notTs(chunk, kEnd - 8), tombstone: (flags & 1) === 1, where: { offset: base + i } });
      i = vEnd;
    }
    this.entryStart = base + i;
    return i;
  }

  /** One field at a time, across chunks. Returns where it stopped (end of chunk or an entry boundary). */
  private slow(chunk: Buffer, i: number, emit: RecordSink): number {
    const n = chunk.length;
    while (i < n) {
      switch (this.st) {
        case St.KeyLen: {
          i = this.fillSmall(chunk, i, 8);
          if (this.smallHave < 8) return i;
          const lo = u32le(this.small, 0);
          const hi = u32le(this.small, 4);
          if (hi !== 0 || lo > FSM_MAX_KEY_LEN || lo < 8) this.badKeyLen(lo, hi, this.entryStart);
          this.keyLen = lo;
          this.smallHave = 0;
          this.st = St.Key;
          break;
        }
        case St.Key: {
          const kl = this.keyLen;
          if (this.big === undefined && n - i >= kl) {
            this.key = copyOut(chunk, i, i + kl - 8);
            this.commitTs = notTs(chunk, i + kl - 8);
            i += kl;
          } else {
            i = this.fillBig(chunk, i, kl);
            if (this.bigHave < kl) return i;
            const b = this.big!;
            this.big = undefined;
            this.key = b.subarray(0, kl - 8);
            this.commitTs = notTs(b, kl - 8);
          }
          this.st = St.ValLen;
          break;
        }
        case St.ValLen: {
          i = this.fillSmall(chunk, i, 8);
          if (this.smallHave < 8) return i;
          const lo = u32le(this.small, 0);
          const hi = u32le(this.small, 4);
          if (hi !== 0 || lo > FSM_MAX_VALUE_LEN || lo < FSM_VALUE_HEADER_LEN) {
            this.badValLen(lo, hi, this.entryStart + 8 + this.keyLen, this.entryStart);
          }
          this.valLen = lo;
          this.smallHave = 0;
          this.st = St.ValHdr;
          break;
        }
        case St.ValHdr: {
          i = this.fillSmall(chunk, i, FSM_VALUE_HEADER_LEN);
          if (this.smallHave < FSM_VALUE_HEADER_LEN) return i;
          const flags = this.small[0]!;
          if ((flags & 0xfe) !== 0) this.badFlags(flags, this.entryStart + 16 + this.keyLen, this.entryStart, this.key);
          this.tombstone = (flags & 1) === 1;
          this.smallHave = 0;
          this.st = St.Body;
          if (this.valLen === FSM_VALUE_HEADER_LEN) {
            this.emitEntry(Buffer.alloc(0), emit);
            return i; // entry boundary: back to the fast path
          }
          break;
        }
        case St.Body: {
          const bl = this.valLen - FSM_VALUE_HEADER_LEN;
          if (this.big === undefined && n - i >= bl) {
            const value = bl >= this.zeroCopyMin ? chunk.subarray(i, i + bl) : copyOut(chunk, i, i + bl);
            i += bl;
            this.emitEntry(value, emit);
          } else {
            i = this.fillBig(chunk, i, bl);
            if (this.bigHave < bl) return i;
            const value = this.big!;
            this.big = undefined;
            this.emitEntry(value, emit);
          }
          return i; // entry boundary: back to the fast path
        }
      }
    }
    return i;
  }

  private emitEntry(value: Buffer, emit: RecordSink): void {
    const offset = this.entryStart;
    this.entryStart = offset + 16 + this.keyLen + this.valLen;
    this.st = St.KeyLen;
    this.smallHave = 0;
    const key = this.key;
    this.key = Buffer.alloc(0);
    this.records++;
    emit({ key, value, commitTs: this.commitTs, tombstone: this.tombstone, where: { offset } });
  }

  private fillSmall(chunk: Buffer, i: number, want: number): number {
    const take = Math.min(want - this.smallHave, chunk.length - i);
    chunk.copy(this.small, this.smallHave, i, i + take);
    this.smallHave += take;
    return i + take;
  }

  private fillBig(chunk: Buffer, i: number, want: number): number {
    if (this.big === undefined) {
      this.big = Buffer.allocUnsafe(want);
      this.bigHave = 0;
    }
    const take = Math.min(want - this.bigHave, chunk.length - i);
    chunk.copy(this.big, this.bigHave, i, i + take);
    this.bigHave += take;
    return i + take;
  }

  // ------------------------------------------------------------- errors

  private badKeyLen(lo: number, hi: number, entry: number): never {
    const len = u64le(lo, hi);
    const why =
      len < 8n
        ? `is ${len}, shorter than the 8-byte commit timestamp every encoded key ends with`
        : `claims ${len} bytes, more than the ${FSM_MAX_KEY_LEN} allowed (1 MiB + 8)`;
    throw fail('ERR_SNAPSHOT_CORRUPT', `corrupt entry: the key length field at the start of the entry (this offset) ${why}`, entry);
  }

  private badValLen(lo: number, hi: number, field: number, entry: number): never {
    const len = u64le(lo, hi);
    const why =
      len < BigInt(FSM_VALUE_HEADER_LEN)
        ? `is ${len}, shorter than the 9-byte flags and expireAt header every value starts with`
        : `claims ${len} bytes, more than the ${FSM_MAX_VALUE_LEN} allowed (256 MiB + 43)`;
    throw fail(
      'ERR_SNAPSHOT_CORRUPT',
      `corrupt entry: the value length field (this offset) of the entry at byte offset ${entry} ${why}`,
      field,
    );
  }

  private badFlags(flags: number, field: number, entry: number, key: Buffer): never {
    const hex = `0x${flags.toString(16).padStart(2, '0')}`;
    const where = `the flags byte (this offset) of the entry at byte offset ${entry}`;
    const enc = (flags >> 1) & 3;
    if (enc === 1) {
      throw fail(
        'ERR_SNAPSHOT_ENCRYPTED',
        `encrypted entry: ${where} is ${hex}, encryption state 1; encrypted snapshots cannot be decoded`,
        field,
        key,
      );
    }
    if (enc !== 0) {
      throw fail('ERR_SNAPSHOT_RESERVED_FLAGS', `${where} is ${hex}: reserved encryption state ${enc}`, field, key);
    }
    throw fail('ERR_SNAPSHOT_RESERVED_FLAGS', `${where} is ${hex}: reserved bits 3-7 are set`, field, key);
  }

  // ---------------------------------------------------------------- EOF

  private finish(): void {
    const eof = this.bytesConsumed;
    if (this.phase === Phase.Preamble) {
      const { field, at } = this.preambleStep();
      if (this.preLen < 8) {
        const got = this.pre.toString('latin1', 0, this.preLen);
        if (!KNOWN_MAGICS.some((m) => m.startsWith(got))) {
          throw fail(
            'ERR_SNAPSHOT_BAD_MAGIC',
            `not a native snapshot: input is ${this.preLen} bytes, ${printableMagic(this.pre, 0, this.preLen)}`,
            0,
          );
        }
        throw fail(
          'ERR_SNAPSHOT_TRUNCATED',
          this.preLen === 0
            ? 'truncated snapshot: the input is empty (expected the snapshot magic)'
            : `truncated snapshot: input ends at byte offset ${eof} inside the snapshot magic`,
          0,
        );
      }
      throw fail('ERR_SNAPSHOT_TRUNCATED', `truncated snapshot: the ${field} starting at this offset is cut off by the end of input at byte offset ${eof}`, at);
    }
    if (this.st === St.KeyLen) {
      const rest = this.smallHave;
      if (rest === 0) return;
      if (rest === 4) {
        this.hasFooter = true;
        if (!this.verifyCrc) return;
        const stored = this.small.readUInt32BE(0);
        const computed = this.crc >>> 0;
        if (stored !== computed) {
          throw fail(
            'ERR_SNAPSHOT_CRC_MISMATCH',
            `CRC-32C footer mismatch: the footer (this offset) holds 0x${hex32(stored)} but the ${this.entryStart} bytes before it ` +
              `have CRC-32C 0x${hex32(computed)}: the snapshot is corrupt`,
            this.entryStart,
          );
        }
        return;
      }
      throw fail(
        'ERR_SNAPSHOT_TRUNCATED',
        `truncated snapshot: the last ${rest} bytes (from this offset, an entry boundary) are neither a whole entry ` +
          '(its key length alone takes 8 bytes) nor a 4-byte CRC-32C footer',
        this.entryStart,
      );
    }
    const kl = this.keyLen;
    let what: string;
    switch (this.st) {
      case St.Key:
        what = `its ${kl}-byte key (${this.big === undefined ? 0 : this.bigHave} bytes present)`;
        break;
      case St.ValLen:
        what = `its value length field (${this.smallHave} of 8 bytes present)`;
        break;
      case St.ValHdr:
        what = `its value's 9-byte flags and expireAt header (${this.smallHave} bytes present)`;
        break;
      default:
        what = `its value body of ${this.valLen - FSM_VALUE_HEADER_LEN} bytes (${this.big === undefined ? 0 : this.bigHave} bytes present)`;
    }
    throw fail(
      'ERR_SNAPSHOT_TRUNCATED',
      `truncated snapshot: the entry starting at this offset is cut off by the end of input at byte offset ${eof}, in ${what}`,
      this.entryStart,
    );
  }
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function printableMagic(b: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    s += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"`;
}

/** Decodes a whole snapshot held in memory (tests, small inputs). */
export function decodeFsm(input: Buffer, opts: FsmDecoderOptions = {}): { header: SnapshotHeader; records: SnapshotRecord[]; decoder: FsmDecoder } {
  const d = new FsmDecoder(opts);
  const records = d.push(input);
  d.end();
  return { header: d.header!, records, decoder: d };
}
