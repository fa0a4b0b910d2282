/**
 * JSON lines (or SnapshotRecords) → native snapshot (SPEC §3.2), for
 * `ekv-snapshot-jsonl --to fsm`.
 *
 * A native snapshot lists its entries sorted by encoded key (userKey ‖
 * BE64(NOT commitTs), bytewise), while JSONL records come in any order, so
 * the whole input is read before the first entry is written:
 *
 * 1. Input: each record's encoded key goes into an in-memory key arena
 *    (4 MiB blocks) with a few numbers in typed arrays (≈ 30 bytes + the
 *    key per record); its value body is appended to a spill file in a
 *    private scratch directory (written in ~4 MiB batches, one write in
 *    flight while parsing goes on). Value bytes are never all in memory.
 * 2. End of input: the record order is sorted by encoded key (skipped when
 *    the input is already in order, as JSONL made by `ekv-snapshot-jsonl`
 *    is). Equal encoded keys (same key and commit_ts twice): the later
 *    record wins, the earlier ones are dropped (SPEC §3.3).
 * 3. Output: preamble (optional HLC header, EKVPBBL1, lastCommitTS = the
 *    largest commit_ts seen unless given), then the entries in order, each
 *    value read back from the spill file, then the optional CRC-32C footer.
 *    Entries are produced in ~1 MiB batches on demand (backpressure).
 *
 * The spill file is unlinked (and its directory removed) right after it is
 * opened, so nothing is left behind even if the process is killed; the
 * space is freed when the stream closes. On a platform that cannot unlink
 * an open file the directory is removed when the stream ends or is
 * destroyed instead. Values are read back with synchronous positioned reads
 * (the file is local scratch, normally in the page cache) through a
 * read-ahead window that grows while reads are sequential, so sorted input
 * is read back in large sequential reads and shuffled input costs one small
 * read per value.
 *
 * Entries are written with flags 0 or 1 (tombstone) and expireAt 0. A
 * tombstone's value, when the input gives one, is kept as its body (so
 * native → JSONL → native is exact); without one the body is empty.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { decodeBase64Strict } from '../core/base64.js';
import { Crc32c } from '../core/crc32c.js';
import { FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, FSM_VALUE_HEADER_LEN, looksLikeFsm } from '../core/fsm-decoder.js';
import { fsmFooter, fsmPreamble } from '../core/fsm-encoder.js';
import { parseJsonlLine } from '../core/jsonl-decoder.js';
import { LineFramer } from '../core/line-framer.js';
import { DecodeError, ioError } from '../errors.js';
import type { SnapshotRecord, Where } from '../types.js';

const MASK64 = (1n << 64n) - 1n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_KEY = FSM_MAX_KEY_LEN - 8;
const MAX_BODY = FSM_MAX_VALUE_LEN - FSM_VALUE_HEADER_LEN;

/** Key arena block size (a key is at most 1 MiB + 8, so one always fits). */
const ARENA_BLOCK = 4 << 20;
/** Spill file writes are gathered up to this size. */
const SPILL_BATCH = 4 << 20;
/** Values at least this long are handed to the spill write as they are, not copied. */
const SPILL_COPY_MAX = 64 * 1024;
/** Output chunk size. */
const OUT_BATCH = 1 << 20;
/** Read-ahead window over the spill file: from RA_MIN, doubling while sequential, up to RA_MAX. */
const RA_MIN = 4096;
const RA_MAX = 4 << 20;
/** Values at least this long are read straight into the output chunk. */
const DIRECT_READ_MIN = 256 * 1024;

/** Options of the native snapshot writer. */
export interface FsmWriterOptions {
  /** What is written to the stream: JSONL bytes (default) or SnapshotRecord objects. */
  input?: 'jsonl' | 'records';
  /** Parent of the private spill directory (default os.tmpdir()). */
  scratchDir?: string;
  /** lastCommitTS of the preamble (default: the largest commit_ts in the input, 0 if none). */
  lastCommitTs?: bigint;
  /** HLC header before EKVPBBL1 (default none). */
  header?: 'v1' | 'v2';
  /** HLC ceiling (default: lastCommitTS). */
  ceiling?: bigint;
  /** EKVTHLC2 cutover (default 0). */
  cutover?: bigint;
  /** Append the CRC-32C footer (default false). */
  footer?: boolean;
}

/** What the native snapshot writer wrote. */
export interface FsmWriterStats {
  /** Records read (JSONL lines that are not blank). */
  records: number;
  /** Entries written. */
  entries: number;
  /** Records dropped because a later one had the same key and commit_ts. */
  duplicates: number;
  tombstones: number;
  /** Input bytes (JSONL mode). */
  bytesIn: number;
  /** Native bytes produced. */
  bytesOut: number;
  /** Value bytes spilled to scratch. */
  spilledBytes: number;
  /** Whether the input was already in encoded-key order (no sort needed). */
  inputSorted: boolean;
  /** lastCommitTS written to the preamble (once known). */
  lastCommitTs: bigint;
}

/**
 * The converter: a Duplex whose writable side takes JSONL bytes (or
 * SnapshotRecords with `input: 'records'`) and whose readable side gives
 * the native snapshot, starting once the writable side has ended.
 */
export class FsmWriter extends Duplex {
  readonly stats: FsmWriterStats = {
    records: 0,
    entries: 0,
    duplicates: 0,
    tombstones: 0,
    bytesIn: 0,
    bytesOut: 0,
    spilledBytes: 0,
    inputSorted: true,
    lastCommitTs: 0n,
  };

  private readonly opts: FsmWriterOptions;
  private readonly jsonl: boolean;

  // JSONL framing.
  private readonly framer = new LineFramer();
  private line = 0;

  // Key table: encoded keys in arena blocks, the rest in parallel typed arrays.
  private readonly blocks: Buffer[] = [];
  /** A DataView per block: keys are compared 4 bytes at a time. */
  private readonly views: DataView[] = [];
  private block: Buffer = Buffer.alloc(0);
  private blockPos = 0;
  private n = 0;
  private cap = 0;
  private kBlock = new Uint32Array(0);
  private kOff = new Uint32Array(0);
  private kLen = new Uint32Array(0);
  private vOff = new Float64Array(0);
  private vLen = new Uint32Array(0);
  private tomb = new Uint8Array(0);
  private maxTs = 0n;

  // Spill file.
  private scratch: string | undefined;
  private spillPath: string | undefined;
  private fd = -1;
  private spillSize = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stage: Buffer = Buffer.alloc(0);
  private stageStart = 0;
  private stagePos = 0;
  private inflight: Promise<void> | undefined;

  // Output.
  private order: Uint32Array | undefined;
  private next = 0;
  private ready = false;
  private wantRead = false;
  private preambleDone = false;
  private done = false;
  private readonly crc = new Crc32c();
  private win: Buffer = Buffer.alloc(0);
  private winStart = 0;
  private winEnd = 0;
  private ra = RA_MIN;
  private lastEnd = -1;

  constructor(opts: FsmWriterOptions = {}) {
    const jsonl = (opts.input ?? 'jsonl') === 'jsonl';
    super({ writableObjectMode: !jsonl, readableObjectMode: false });
    this.opts = opts;
    this.jsonl = jsonl;
  }

  // ------------------------------------------------------------ lifecycle

  override _construct(cb: (err?: Error | null) => void): void {
    this.openSpill().then(() => cb(), cb);
  }

  private async openSpill(): Promise<void> {
    const parent = path.resolve(this.opts.scratchDir ?? os.tmpdir());
    try {
      this.scratch = await fsp.mkdtemp(path.join(parent, 'ekv-snapshot-jsonl-'));
    } catch (e) {
      throw ioError(e, parent, 'cannot create scratch directory');
    }
    const file = path.join(this.scratch, 'values.spill');
    try {
      this.fd = await new Promise<number>((resolve, reject) => fs.open(file, 'w+', 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
    } catch (e) {
      await fsp.rm(this.scratch, { recursive: true, force: true }).catch(() => {});
      this.scratch = undefined;
      throw ioError(e, file, 'cannot create spill file');
    }
    this.spillPath = file;
    // Unlink at once: the fd keeps the data; nothing can be left behind.
    try {
      fs.unlinkSync(file);
      fs.rmdirSync(this.scratch);
      this.scratch = undefined;
    } catch {
      /* cannot unlink an open file here (Windows): removed at close instead */
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.release().then(
      () => cb(err),
      () => cb(err),
    );
  }

  /** Closes the spill file and removes the scratch directory if still there. */
  private async release(): Promise<void> {
    this.blocks.length = 0;
    this.views.length = 0;
    this.pending = [];
    if (this.inflight) await this.inflight.catch(() => {});
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
    }
    if (this.scratch) {
      const dir = this.scratch;
      this.scratch = undefined;
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  // ---------------------------------------------------------------- input

  override _write(chunk: Buffer | SnapshotRecord, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      if (this.jsonl) this.frame(chunk as Buffer);
      else this.addRecord(chunk as SnapshotRecord);
    } catch (err) {
      return cb(err as Error);
    }
    this.maybeSpill(cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.finishInput().then(
      () => {
        cb();
        this.ready = true;
        if (this.wantRead) this.produce();
      },
      (err: unknown) => cb(err as Error),
    );
  }

  private frame(chunk: Buffer): void {
    this.stats.bytesIn += chunk.length;
    this.framer.write(chunk, (bytes) => this.parseLine(bytes));
  }

  private parseLine(bytes: Buffer): void {
    const line = ++this.line;
    let rec: SnapshotRecord | null;
    try {
      rec = parseJsonlLine(bytes, line);
    } catch (err) {
      if (line === 1 && looksLikeFsm(bytes)) {
        throw new DecodeError(
          'ERR_JSONL_LINE',
          'the input is a native snapshot, not JSON lines (convert it to JSONL without --to fsm)',
          { line },
        );
      }
      throw err;
    }
    if (rec === null) return;
    if (rec.tombstone && rec.value === null) rec.value = tombstoneBody(bytes);
    this.addRecord(rec);
  }

  private addRecord(rec: SnapshotRecord): void {
    const key = rec.key;
    const value = rec.value;
    const vlen = value === null ? 0 : value.length;
    if (key.length > MAX_KEY) {
      throw new DecodeError('ERR_JSONL_LINE', `key of ${key.length} bytes is longer than the 1 MiB a native snapshot allows`, whereOf(rec.where));
    }
    if (vlen > MAX_BODY) {
      throw new DecodeError('ERR_JSONL_LINE', `value of ${vlen} bytes is longer than the ${MAX_BODY} bytes a native snapshot allows`, whereOf(rec.where));
    }
    const ts = rec.commitTs;
    if (ts < 0n || ts > MASK64) throw new RangeError(`commitTs ${ts} is outside the uint64 range`);
    if (ts > this.maxTs) this.maxTs = ts;
    this.stats.records++;
    if (rec.tombstone) this.stats.tombstones++;

    // Encoded key into the arena.
    const klen = key.length + 8;
    if (this.blockPos + klen > this.block.length) {
      this.block = Buffer.allocUnsafe(ARENA_BLOCK);
      this.blocks.push(this.block);
      this.views.push(new DataView(this.block.buffer, this.block.byteOffset, this.block.length));
      this.blockPos = 0;
    }
    const b = this.block;
    const at = this.blockPos;
    key.copy(b, at);
    if (ts <= MAX_SAFE) {
      // NOT ts as two u32 halves, without BigInt arithmetic.
      const num = Number(ts);
      const dv = this.views[this.views.length - 1]!;
      dv.setUint32(at + key.length, ~Math.floor(num / 0x100000000) >>> 0);
      dv.setUint32(at + key.length + 4, ~num >>> 0);
    } else {
      b.writeBigUInt64BE(MASK64 ^ ts, at + key.length);
    }
    this.blockPos = at + klen;

    const i = this.n;
    if (i === this.cap) this.grow();
    this.kBlock[i] = this.blocks.length - 1;
    this.kOff[i] = at;
    this.kLen[i] = klen;
    this.vOff[i] = this.spillSize;
    this.vLen[i] = vlen;
    this.tomb[i] = rec.tombstone ? 1 : 0;
    this.n = i + 1;
    if (this.stats.inputSorted && i > 0 && this.compareKeys(i - 1, i) > 0) this.stats.inputSorted = false;

    if (vlen > 0) this.spillValue(value!);
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g32 = (a: Uint32Array<ArrayBuffer>): Uint32Array<ArrayBuffer> => {
      const x = new Uint32Array(cap);
      x.set(a);
      return x;
    };
    this.kBlock = g32(this.kBlock);
    this.kOff = g32(this.kOff);
    this.kLen = g32(this.kLen);
    this.vLen = g32(this.vLen);
    const v = new Float64Array(cap);
    v.set(this.vOff);
    this.vOff = v;
    const t = new Uint8Array(cap);
    t.set(this.tomb);
    this.tomb = t;
    this.cap = cap;
  }

  // ---------------------------------------------------------------- spill

  private spillValue(value: Buffer): void {
    const len = value.length;
    this.spillSize += len;
    this.pendingBytes += len;
    if (len >= SPILL_COPY_MAX) {
      this.sealStage();
      this.pending.push(value);
      return;
    }
    if (this.stagePos + len > this.stage.length) {
      this.sealStage();
      this.stage = Buffer.allocUnsafe(SPILL_BATCH);
      this.stageStart = 0;
      this.stagePos = 0;
    }
    value.copy(this.stage, this.stagePos);
    this.stagePos += len;
  }

  /** Moves the filled part of the stage into the pending list. */
  private sealStage(): void {
    if (this.stagePos > this.stageStart) {
      this.pending.push(this.stage.subarray(this.stageStart, this.stagePos));
      this.stageStart = this.stagePos;
    }
  }

  /** Starts a spill write when enough is pending; at most one write is in flight. */
  private maybeSpill(cb: (err?: Error | null) => void): void {
    if (this.pendingBytes < SPILL_BATCH) return cb();
    const start = (): void => {
      this.inflight = this.spillPending();
      this.inflight.catch(() => {}); // surfaced by the next await
      cb();
    };
    if (this.inflight) this.inflight.then(start, (err: unknown) => cb(err as Error));
    else start();
  }

  private spillPending(): Promise<void> {
    this.sealStage();
    const bufs = this.pending;
    const bytes = this.pendingBytes;
    const pos = this.spillSize - bytes;
    this.pending = [];
    this.pendingBytes = 0;
    // The stage's sealed part now belongs to the write: start a new one.
    this.stage = Buffer.alloc(0);
    this.stageStart = 0;
    this.stagePos = 0;
    this.stats.spilledBytes += bytes;
    return writevAll(this.fd, bufs, pos).catch((e: unknown) => {
      throw ioError(e, this.spillPath ?? 'spill file', 'cannot write the spill file');
    });
  }

  private async finishInput(): Promise<void> {
    this.framer.end((bytes) => this.parseLine(bytes));
    if (this.inflight) await this.inflight;
    if (this.pendingBytes > 0) await this.spillPending();
    this.inflight = undefined;
    this.stage = Buffer.alloc(0);
    this.sortAndDedupe();
  }

  // ------------------------------------------------------------------ sort

  /**
   * Bytewise comparison of the encoded keys of records a and b: 4 bytes at
   * a time as big-endian u32s (S3 keys share long prefixes; this is ~2.5×
   * faster than a byte loop and ~4× faster than Buffer#compare per call).
   */
  private compareKeys(a: number, b: number): number {
    const va = this.views[this.kBlock[a]!]!;
    const vb = this.views[this.kBlock[b]!]!;
    let i = this.kOff[a]!;
    let j = this.kOff[b]!;
    const la = this.kLen[a]!;
    const lb = this.kLen[b]!;
    const m = la < lb ? la : lb;
    const end4 = i + (m & ~3);
    while (i < end4) {
      const x = va.getUint32(i);
      const y = vb.getUint32(j);
      if (x !== y) return x < y ? -1 : 1;
      i += 4;
      j += 4;
    }
    const end = this.kOff[a]! + m;
    while (i < end) {
      const x = va.getUint8(i);
      const y = vb.getUint8(j);
      if (x !== y) return x - y;
      i++;
      j++;
    }
    return la - lb;
  }

  private sortAndDedupe(): void {
    const n = this.n;
    let idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (!this.stats.inputSorted) {
      // Ties by input position: equal keys stay in input order, the last one wins below.
      idx.sort((a, b) => this.compareKeys(a, b) || a - b);
    }
    // Keep the last of every run of equal encoded keys.
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      if (k + 1 < n && this.compareKeys(i, idx[k + 1]!) === 0) continue;
      idx[m++] = i;
    }
    this.stats.duplicates = n - m;
    if (m < n) idx = idx.subarray(0, m);
    this.order = idx;
    this.stats.lastCommitTs = this.opts.lastCommitTs ?? this.maxTs;
  }

  // ---------------------------------------------------------------- output

  override _read(): void {
    if (!this.ready) {
      this.wantRead = true;
      return;
    }
    this.produce();
  }

  private produce(): void {
    if (this.done) return;
    try {
      if (!this.preambleDone) {
        this.preambleDone = true;
        const o = this.opts;
        const pre = fsmPreamble({
          lastCommitTs: this.stats.lastCommitTs,
          ...(o.header ? { header: o.header, ceiling: o.ceiling ?? this.stats.lastCommitTs, cutover: o.cutover ?? 0n } : {}),
        });
        if (!this.out(pre)) return;
      }
      const order = this.order!;
      while (this.next < order.length) {
        if (!this.out(this.batch(order))) return;
      }
      this.done = true;
      if (this.opts.footer) this.out(fsmFooter(this.crc.digest()));
      const fd = this.fd;
      this.fd = -1;
      if (fd >= 0) fs.closeSync(fd);
      if (this.scratch) {
        fs.rmSync(this.scratch, { recursive: true, force: true });
        this.scratch = undefined;
      }
      this.push(null);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private out(b: Buffer): boolean {
    if (this.opts.footer) this.crc.update(b);
    this.stats.bytesOut += b.length;
    return this.push(b);
  }

  /** The next ~OUT_BATCH bytes of entries (at least one entry). */
  private batch(order: Uint32Array): Buffer {
    let k = this.next;
    const first = order[k]!;
    const firstSize = 25 + this.kLen[first]! + this.vLen[first]!;
    const out = Buffer.allocUnsafe(Math.max(OUT_BATCH, firstSize));
    let p = 0;
    while (k < order.length) {
      const i = order[k]!;
      const klen = this.kLen[i]!;
      const vlen = this.vLen[i]!;
      if (p + 25 + klen + vlen > out.length) break;
      out.writeUInt32LE(klen, p);
      out.writeUInt32LE(0, p + 4);
      p += 8;
      const off = this.kOff[i]!;
      this.blocks[this.kBlock[i]!]!.copy(out, p, off, off + klen);
      p += klen;
      out.writeUInt32LE(vlen + FSM_VALUE_HEADER_LEN, p);
      out.writeUInt32LE(0, p + 4);
      p += 8;
      out[p] = this.tomb[i]!;
      out.writeUInt32LE(0, p + 1);
      out.writeUInt32LE(0, p + 5);
      p += FSM_VALUE_HEADER_LEN;
      if (vlen > 0) {
        this.readValue(out, p, this.vOff[i]!, vlen);
        p += vlen;
      }
      k++;
    }
    this.stats.entries += k - this.next;
    this.next = k;
    return p === out.length ? out : out.subarray(0, p);
  }

  /** Copies spill[off, off+len) to dst[p…], through the read-ahead window. */
  private readValue(dst: Buffer, p: number, off: number, len: number): void {
    const end = off + len;
    if (off >= this.winStart && end <= this.winEnd) {
      this.win.copy(dst, p, off - this.winStart, end - this.winStart);
      this.lastEnd = end;
      return;
    }
    this.ra = off === this.lastEnd ? Math.min(this.ra * 2, RA_MAX) : RA_MIN;
    this.lastEnd = end;
    if (len >= DIRECT_READ_MIN || len >= this.ra) {
      this.readAt(dst, p, len, off);
      return;
    }
    if (this.win.length < RA_MAX) this.win = Buffer.allocUnsafe(RA_MAX);
    const n = Math.min(this.ra, this.spillSize - off);
    this.readAt(this.win, 0, n, off);
    this.winStart = off;
    this.winEnd = off + n;
    this.win.copy(dst, p, 0, len);
  }

  private readAt(dst: Buffer, p: number, len: number, pos: number): void {
    let done = 0;
    while (done < len) {
      let got: number;
      try {
        got = fs.readSync(this.fd, dst, p + done, len - done, pos + done);
      } catch (e) {
        throw ioError(e, this.spillPath ?? 'spill file', 'cannot read the spill file');
      }
      if (got === 0) throw ioError(new Error(`spill file ends at ${pos + done}, expected ${pos + len} bytes`), this.spillPath ?? 'spill file', 'cannot read the spill file');
      done += got;
    }
  }
}

/** JSONL bytes in, native snapshot bytes out. */
export function createJsonlToFsm(opts: Omit<FsmWriterOptions, 'input'> = {}): FsmWriter {
  return new FsmWriter({ ...opts, input: 'jsonl' });
}

/** SnapshotRecord objects in (e.g. from createSnapshotReader()), native snapshot bytes out. */
export function createFsmWriter(opts: Omit<FsmWriterOptions, 'input'> = {}): FsmWriter {
  return new FsmWriter({ ...opts, input: 'records' });
}

/**
 * The body a tombstone line gives, if any. parseJsonlLine validates a
 * tombstone's value and then drops it (readers ignore it, §3.1); the
 * converter keeps it so a round trip is exact. Tombstones are rare, so the
 * line is simply parsed again.
 */
function tombstoneBody(bytes: Buffer): Buffer | null {
  const obj = JSON.parse(bytes.toString('utf8')) as { value?: unknown };
  if (typeof obj.value !== 'string') return null;
  const v = decodeBase64Strict(obj.value);
  return typeof v === 'string' || v.length === 0 ? null : v;
}

function whereOf(w: Where | undefined): { line?: number; offset?: number } {
  if (!w) return {};
  return { ...(w.line !== undefined ? { line: w.line } : {}), ...(w.offset !== undefined ? { offset: w.offset } : {}) };
}

/** fs.writev at a position, retrying short writes. */
function writevAll(fd: number, bufs: Buffer[], pos: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const step = (list: Buffer[], at: number): void => {
      fs.writev(fd, list, at, (err, written) => {
        if (err) return reject(err);
        let rest = written;
        let i = 0;
        while (i < list.length && rest >= list[i]!.length) rest -= list[i++]!.length;
        if (i === list.length) return resolve();
        const remaining = list.slice(i);
        remaining[0] = remaining[0]!.subarray(rest);
        step(remaining, at + written);
      });
    };
    if (bufs.length === 0) resolve();
    else step(bufs, pos);
  });
}
