/**
 * Incremental decoder of elastickv's native snapshot stream (SPEC §3.2; the
 * layout is in fsm-format.ts): the preamble is read by fsm-preamble.ts, the
 * CRC-32C footer checked with fsm-footer.ts, the entries decoded here.
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
 * after they are pushed — unless a `valueBuffer` is given: then every value
 * is copied out too, and no record refers to a chunk once write() returns.
 *
 * With `onPiece`, a value longer than `pieceBytes` is never assembled: its
 * record is emitted as soon as the value starts (`value` null,
 * `valueLength` set), then its bytes go to onPiece in pieces of
 * `pieceBytes` (the last shorter), each in its own buffer.
 */
import { DecodeError } from '../errors.js';
import type { SnapshotHeader, SnapshotRecord, ValuePiece } from '../types.js';
import { copyBytes } from './copy-bytes.js';
import { readEncodedTs } from './encoded-key.js';
import { badFlags, badKeyLength, badValueLength, truncatedEntry, truncatedTail } from './fsm-entry-errors.js';
import { checkFooter, TrailingCrc } from './fsm-footer.js';
import { FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, FSM_VALUE_HEADER_LEN } from './fsm-format.js';
import { FsmPreambleReader, type FsmPreambleInfo } from './fsm-preamble.js';
import { allocSmall } from './slab.js';

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
  /**
   * Allocates the buffer that each value of at least `zeroCopyMin` bytes is
   * copied or assembled into. With it, no record refers to the input chunks
   * (the caller may reuse a chunk once write() returns); without it, such
   * values inside one chunk are views of it, the others allocated.
   */
  valueBuffer?: (length: number) => Buffer;
  /**
   * With valueBuffer: offered each value (and each piece of one, with
   * onPiece) that lies inside the chunk before it is copied; a buffer it
   * returns (a view the caller may keep: the chunk's memory held for it,
   * lib/io/shared-blocks.ts viewOf) is the value, undefined means copy.
   */
  valueView?: (chunk: Buffer, start: number, end: number) => Buffer | undefined;
  /** Receives the pieces of each value longer than `pieceBytes`, whose record carries `valueLength` instead (see above). */
  onPiece?: (piece: ValuePiece) => void;
  /** The largest value assembled whole when `onPiece` is given, and the size of the pieces of longer ones (default 1 MiB). */
  pieceBytes?: number;
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

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16)) + b[i + 3]! * 0x1000000;
}

/** A copy of src[start, end): keys and small values, cut from a slab (lib/core/slab.ts). */
function copyOut(src: Buffer, start: number, end: number): Buffer {
  const b = allocSmall(end - start);
  copyBytes(src, start, end, b, 0);
  return b;
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
  private readonly valueBuffer: ((length: number) => Buffer) | undefined;
  private readonly valueView: ((chunk: Buffer, start: number, end: number) => Buffer | undefined) | undefined;
  private readonly onPiece: ((piece: ValuePiece) => void) | undefined;
  private readonly pieceBytes: number;

  private readonly preambleReader = new FsmPreambleReader();

  private readonly crc = new TrailingCrc();

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
  /** A value in pieces: its record is out, `bodyHave` of its bytes passed on or in `piece`. */
  private inPieces = false;
  private bodyHave = 0;
  private piece: Buffer | undefined;
  private pieceHave = 0;

  constructor(opts: FsmDecoderOptions = {}) {
    this.zeroCopyMin = opts.zeroCopyMin ?? 65536;
    this.verifyCrc = opts.verifyCrc ?? true;
    this.onHeader = opts.onHeader;
    this.valueBuffer = opts.valueBuffer;
    this.valueView = opts.valueView;
    this.onPiece = opts.onPiece;
    this.pieceBytes = opts.pieceBytes ?? 1 << 20;
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
    if (this.verifyCrc) this.crc.update(chunk);
    try {
      let i = 0;
      if (this.phase === Phase.Preamble) {
        i = this.preambleReader.take(chunk, 0);
        if (this.preambleReader.info === undefined) return;
        this.startEntries(this.preambleReader.info);
      }
      this.entries(chunk, i, base, emit);
    } catch (err) {
      if (err instanceof DecodeError) {
        this.phase = Phase.Failed;
        this.error = err;
        this.big = undefined;
        this.piece = undefined;
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

  /**
   * After a failure: takes the rest of the input into the CRC only, so the
   * footer can still speak for the whole file (see footerMatches).
   */
  drain(chunk: Buffer): void {
    this.bytesConsumed += chunk.length;
    if (this.verifyCrc) this.crc.update(chunk);
  }

  /** Whether the last 4 bytes seen are a CRC-32C footer of every byte before them. */
  footerMatches(): boolean {
    return this.verifyCrc && this.crc.footerMatches();
  }

  private startEntries(info: FsmPreambleInfo): void {
    this.preamble = info;
    this.header = { format: 'fsm', lastCommitTs: info.lastCommitTs };
    this.entryStart = info.dataOffset;
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
      if (khi !== 0 || klo > FSM_MAX_KEY_LEN || klo < 8) throw badKeyLength(klo, khi, base + i);
      const kEnd = i + 8 + klo;
      if (kEnd + 8 + FSM_VALUE_HEADER_LEN > n) break;
      const vlo = u32le(chunk, kEnd);
      const vhi = u32le(chunk, kEnd + 4);
      if (vhi !== 0 || vlo > FSM_MAX_VALUE_LEN || vlo < FSM_VALUE_HEADER_LEN) throw badValueLength(vlo, vhi, base + kEnd, base + i);
      const vStart = kEnd + 8;
      const vEnd = vStart + vlo;
      if (vEnd > n || this.pieced(vlo - FSM_VALUE_HEADER_LEN)) break;
      const flags = chunk[vStart]!;
      const key = copyOut(chunk, i + 8, kEnd - 8);
      if ((flags & 0xfe) !== 0) throw badFlags(flags, base + vStart, base + i, key);
      const bStart = vStart + FSM_VALUE_HEADER_LEN;
      const value = vEnd - bStart >= zeroCopyMin ? this.bigValue(chunk, bStart, vEnd) : copyOut(chunk, bStart, vEnd);
      this.records++;
      emit({ key, value, commitTs: readEncodedTs(chunk, kEnd - 8), tombstone: (flags & 1) === 1, where: { offset: base + i } });
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
          if (hi !== 0 || lo > FSM_MAX_KEY_LEN || lo < 8) throw badKeyLength(lo, hi, this.entryStart);
          this.keyLen = lo;
          this.smallHave = 0;
          this.st = St.Key;
          break;
        }
        case St.Key: {
          const kl = this.keyLen;
          if (this.big === undefined && n - i >= kl) {
            this.key = copyOut(chunk, i, i + kl - 8);
            this.commitTs = readEncodedTs(chunk, i + kl - 8);
            i += kl;
          } else {
            i = this.fillBig(chunk, i, kl);
            if (this.bigHave < kl) return i;
            const b = this.big!;
            this.big = undefined;
            this.key = b.subarray(0, kl - 8);
            this.commitTs = readEncodedTs(b, kl - 8);
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
            throw badValueLength(lo, hi, this.entryStart + 8 + this.keyLen, this.entryStart);
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
          if ((flags & 0xfe) !== 0) throw badFlags(flags, this.entryStart + 16 + this.keyLen, this.entryStart, this.key);
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
          if (this.pieced(bl)) {
            i = this.pieces(chunk, i, bl, emit);
            if (this.inPieces) return i;
          } else if (this.big === undefined && n - i >= bl) {
            const value = bl >= this.zeroCopyMin ? this.bigValue(chunk, i, i + bl) : copyOut(chunk, i, i + bl);
            i += bl;
            this.emitEntry(value, emit);
          } else {
            if (this.big === undefined && bl >= this.zeroCopyMin && this.valueBuffer) {
              this.big = this.valueBuffer(bl);
              this.bigHave = 0;
            }
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
    this.nextEntry();
    const key = this.key;
    this.key = Buffer.alloc(0);
    this.records++;
    emit({ key, value, commitTs: this.commitTs, tombstone: this.tombstone, where: { offset } });
  }

  private nextEntry(): void {
    this.entryStart += 16 + this.keyLen + this.valLen;
    this.st = St.KeyLen;
    this.smallHave = 0;
  }

  /** Whether a value body of `bl` bytes travels in pieces. */
  private pieced(bl: number): boolean {
    return this.onPiece !== undefined && bl > this.pieceBytes;
  }

  /**
   * A value body in pieces, from chunk[i..]: emits its record first (when
   * it starts), then each piece once full. Returns where it stopped; the
   * entry is done when `inPieces` is false again.
   */
  private pieces(chunk: Buffer, i: number, bl: number, emit: RecordSink): number {
    if (!this.inPieces) {
      this.inPieces = true;
      this.bodyHave = 0;
      const key = this.key;
      this.key = Buffer.alloc(0);
      this.records++;
      emit({ key, value: null, valueLength: bl, commitTs: this.commitTs, tombstone: this.tombstone, where: { offset: this.entryStart } });
    }
    const n = chunk.length;
    while (i < n && this.bodyHave < bl) {
      if (this.piece === undefined) {
        const length = Math.min(this.pieceBytes, bl - this.bodyHave);
        // A whole piece inside the chunk is offered as a view first, as a whole value is (bigValue).
        const view = n - i >= length ? this.valueView?.(chunk, i, i + length) : undefined;
        if (view) {
          i += length;
          this.bodyHave += length;
          this.onPiece!({ kind: 'piece', bytes: view, last: this.bodyHave === bl });
          continue;
        }
        this.piece = this.valueBuffer ? this.valueBuffer(length) : Buffer.allocUnsafe(length);
        this.pieceHave = 0;
      }
      const take = Math.min(this.piece.length - this.pieceHave, n - i);
      copyBytes(chunk, i, i + take, this.piece, this.pieceHave);
      this.pieceHave += take;
      this.bodyHave += take;
      i += take;
      if (this.pieceHave === this.piece.length) {
        const bytes = this.piece;
        this.piece = undefined;
        this.onPiece!({ kind: 'piece', bytes, last: this.bodyHave === bl });
      }
    }
    if (this.bodyHave === bl) {
      this.inPieces = false;
      this.nextEntry();
    }
    return i;
  }

  private fillSmall(chunk: Buffer, i: number, want: number): number {
    const take = Math.min(want - this.smallHave, chunk.length - i);
    chunk.copy(this.small, this.smallHave, i, i + take);
    this.smallHave += take;
    return i + take;
  }

  /** A value of at least zeroCopyMin bytes inside the chunk: a view of it, or a copy in valueBuffer's buffer. */
  private bigValue(chunk: Buffer, start: number, end: number): Buffer {
    if (!this.valueBuffer) return chunk.subarray(start, end);
    const view = this.valueView?.(chunk, start, end);
    if (view) return view;
    const v = this.valueBuffer(end - start);
    copyBytes(chunk, start, end, v, 0);
    return v;
  }

  private fillBig(chunk: Buffer, i: number, want: number): number {
    if (this.big === undefined) {
      this.big = Buffer.allocUnsafe(want);
      this.bigHave = 0;
    }
    const take = Math.min(want - this.bigHave, chunk.length - i);
    copyBytes(chunk, i, i + take, this.big, this.bigHave);
    this.bigHave += take;
    return i + take;
  }

  // ---------------------------------------------------------------- EOF

  private finish(): void {
    const eof = this.bytesConsumed;
    if (this.phase === Phase.Preamble) throw this.preambleReader.truncated(eof);
    if (this.st === St.KeyLen) {
      const rest = this.smallHave;
      if (rest === 0) return;
      if (rest === 4) {
        this.hasFooter = true;
        if (!this.verifyCrc) return;
        checkFooter(this.small.readUInt32BE(0), this.crc.digest(), this.entryStart);
        return;
      }
      throw truncatedTail(rest, this.entryStart);
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
        what = `its value body of ${this.valLen - FSM_VALUE_HEADER_LEN} bytes (${this.inPieces ? this.bodyHave : this.big === undefined ? 0 : this.bigHave} bytes present)`;
    }
    throw truncatedEntry(eof, what, this.entryStart);
  }
}

/** Decodes a whole snapshot held in memory (tests, small inputs). */
export function decodeFsm(input: Buffer, opts: FsmDecoderOptions = {}): { header: SnapshotHeader; records: SnapshotRecord[]; decoder: FsmDecoder } {
  const d = new FsmDecoder(opts);
  const records = d.push(input);
  d.end();
  return { header: d.header!, records, decoder: d };
}
