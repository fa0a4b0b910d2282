/**
 * JSON lines (or SnapshotRecords) → native snapshot (SPEC §3.2), for
 * `ekv-snapshot-jsonl --to fsm`.
 *
 * A native snapshot lists its entries sorted by encoded key (userKey ‖
 * BE64(NOT commitTs), bytewise), while JSONL records come in any order, so
 * the whole input is read before the first entry is written:
 *
 * 1. Input: each record's encoded key goes into a ByteArena, its other
 *    numbers into BlockColumns (≈ 30 bytes + the key per record); its value
 *    body is appended to a ScratchFile in a private scratch directory.
 *    Value bytes are never all in memory.
 * 2. End of input: the record order is sorted by encoded key (skipped when
 *    the input is already in order, as JSONL made by `ekv-snapshot-jsonl`
 *    is). Equal encoded keys (same key and commit_ts twice): the later
 *    record wins (newest-wins.ts), the earlier ones are dropped.
 * 3. Output: through FsmEncoder: preamble (optional HLC header, EKVPBBL1,
 *    lastCommitTS = the largest commit_ts seen unless given), then the
 *    entries in order, each value read back through a ReadAhead window,
 *    then the optional CRC-32C footer. Entries are produced in ~1 MiB
 *    batches on demand (backpressure).
 *
 * The scratch file's name (and its directory) is removed right after it is
 * created, so nothing is left behind even if the process is killed; the
 * space is freed when the stream closes. On a platform that cannot unlink
 * an open file they are removed when the stream ends or is destroyed.
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
import { ByteArena } from '../core/arena.js';
import { BlockColumn } from '../core/block-column.js';
import { checkU64, writeEncodedTs } from '../core/encoded-key.js';
import { FSM_ENTRY_OVERHEAD, FsmEncoder, writeKeyLength, writeValueHeader } from '../core/fsm-encoder.js';
import { FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, FSM_VALUE_HEADER_LEN } from '../core/fsm-format.js';
import { DecodeError, ioError } from '../errors.js';
import { ReadAhead } from '../io/read-ahead.js';
import { ScratchFile } from '../io/scratch-file.js';
import { JsonlRecords } from './jsonl-records.js';
import type { SnapshotRecord, Where } from '../types.js';

const MAX_KEY = FSM_MAX_KEY_LEN - 8;
const MAX_BODY = FSM_MAX_VALUE_LEN - FSM_VALUE_HEADER_LEN;

/** Spill file writes are gathered up to this size. */
const SPILL_BATCH = 4 << 20;
/** Output chunk size. */
const OUT_BATCH = 1 << 20;

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

  /** JSONL mode: lines to records. */
  private readonly lines: JsonlRecords | undefined;

  // One row per record: its encoded key in the arena, the rest in columns.
  private readonly keys = new ByteArena();
  private readonly keyAt = new BlockColumn(Float64Array);
  private readonly keyLength = new BlockColumn(Uint32Array);
  private readonly valueAt = new BlockColumn(Float64Array);
  private readonly valueLength = new BlockColumn(Uint32Array);
  private readonly tombstone = new BlockColumn(Uint8Array);
  private n = 0;
  private maxTs = 0n;
  /** The encoded key being built. */
  private enc = Buffer.allocUnsafe(256);

  // Values wait here; the directory is removed at once unless the platform keeps the file's name.
  private scratch: string | undefined;
  private spill: ScratchFile | undefined;

  // Output.
  private encoder: FsmEncoder | undefined;
  private reader: ReadAhead | undefined;
  private order: Uint32Array | undefined;
  private next = 0;
  private ready = false;
  private wantRead = false;
  private preambleDone = false;
  private done = false;

  constructor(opts: FsmWriterOptions = {}) {
    const jsonl = (opts.input ?? 'jsonl') === 'jsonl';
    super({ writableObjectMode: !jsonl, readableObjectMode: false });
    this.opts = opts;
    this.lines = jsonl ? new JsonlRecords((rec) => this.addRecord(rec)) : undefined;
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
    this.spill = new ScratchFile(this.scratch, { name: 'values.spill-', batchBytes: SPILL_BATCH, anonymous: true, background: true });
    try {
      this.spill.open();
    } catch (e) {
      this.release();
      throw e;
    }
    try {
      fs.rmdirSync(this.scratch);
      this.scratch = undefined;
    } catch {
      /* the file's name is still there (Windows): removed at release() */
    }
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    // A background write must be done before its descriptor is closed.
    const settled = this.spill?.settle().catch(() => {});
    void Promise.resolve(settled).then(() => {
      this.release();
      cb(err);
    });
  }

  /** Closes the spill file and removes the scratch directory if still there. */
  private release(): void {
    this.spill?.close();
    this.spill = undefined;
    if (this.scratch) {
      fs.rmSync(this.scratch, { recursive: true, force: true });
      this.scratch = undefined;
    }
  }

  // ---------------------------------------------------------------- input

  override _write(chunk: Buffer | SnapshotRecord, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      if (this.lines) {
        this.stats.bytesIn += (chunk as Buffer).length;
        this.lines.write(chunk as Buffer);
      } else {
        this.addRecord(chunk as SnapshotRecord);
      }
    } catch (err) {
      return cb(err as Error);
    }
    cb();
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

  private async finishInput(): Promise<void> {
    this.lines?.end();
    await this.spill!.settle();
    this.spill!.flush();
    this.sortAndDedupe();
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
    checkU64(ts, 'commitTs');
    if (ts > this.maxTs) this.maxTs = ts;
    this.stats.records++;
    if (rec.tombstone) this.stats.tombstones++;

    const klen = key.length + 8;
    if (this.enc.length < klen) this.enc = Buffer.allocUnsafe(2 * klen);
    key.copy(this.enc, 0);
    writeEncodedTs(this.enc, key.length, ts);
    const i = this.n++;
    this.keyAt.set(i, this.keys.put(this.enc.subarray(0, klen)));
    this.keyLength.set(i, klen);
    this.valueLength.set(i, vlen);
    this.tombstone.set(i, rec.tombstone ? 1 : 0);
    if (vlen > 0) {
      this.valueAt.set(i, this.spill!.append(value!));
      this.stats.spilledBytes += vlen;
    }
    if (this.stats.inputSorted && i > 0 && this.compareKeys(i - 1, i) > 0) this.stats.inputSorted = false;
  }

  // ------------------------------------------------------------------ sort

  /** Bytewise comparison of the encoded keys of records a and b. */
  private compareKeys(a: number, b: number): number {
    return this.keys.compare(this.keyAt.get(a), this.keyLength.get(a), this.keyAt.get(b), this.keyLength.get(b));
  }

  private sortAndDedupe(): void {
    const n = this.n;
    let idx = new Uint32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    if (!this.stats.inputSorted) {
      // Ties by input position: equal keys stay in input order, the last one wins below.
      idx.sort((a, b) => this.compareKeys(a, b) || a - b);
    }
    // Keep the last of every run of equal encoded keys (equal commit_ts: the later record wins).
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      if (k + 1 < n && this.compareKeys(i, idx[k + 1]!) === 0) continue;
      idx[m++] = i;
    }
    this.stats.duplicates = n - m;
    if (m < n) idx = idx.subarray(0, m);
    this.order = idx;
    const lastCommitTs = this.opts.lastCommitTs ?? this.maxTs;
    this.stats.lastCommitTs = lastCommitTs;
    const o = this.opts;
    this.encoder = new FsmEncoder({
      lastCommitTs,
      footer: o.footer ?? false,
      ...(o.header ? { header: o.header, ceiling: o.ceiling ?? lastCommitTs, cutover: o.cutover ?? 0n } : {}),
    });
    this.reader = new ReadAhead(this.spill!);
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
    const encoder = this.encoder!;
    try {
      if (!this.preambleDone) {
        this.preambleDone = true;
        if (!this.out(encoder.preamble())) return;
      }
      const order = this.order!;
      while (this.next < order.length) {
        if (!this.out(encoder.entries(this.batch(order)))) return;
      }
      this.done = true;
      const footer = encoder.finish();
      if (footer.length > 0) this.out(footer);
      this.release();
      this.push(null);
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private out(b: Buffer): boolean {
    this.stats.bytesOut = this.encoder!.bytes;
    return this.push(b);
  }

  /** The next ~OUT_BATCH bytes of entries (at least one entry). */
  private batch(order: Uint32Array): Buffer {
    let k = this.next;
    const first = order[k]!;
    const out = Buffer.allocUnsafe(Math.max(OUT_BATCH, FSM_ENTRY_OVERHEAD + this.keyLength.get(first) + this.valueLength.get(first)));
    let p = 0;
    while (k < order.length) {
      const i = order[k]!;
      const klen = this.keyLength.get(i);
      const vlen = this.valueLength.get(i);
      if (p + FSM_ENTRY_OVERHEAD + klen + vlen > out.length) break;
      p = writeKeyLength(out, p, klen);
      this.keys.view(this.keyAt.get(i), klen).copy(out, p);
      p = writeValueHeader(out, p + klen, vlen, this.tombstone.get(i) === 1, 0n);
      if (vlen > 0) {
        this.reader!.read(out, p, vlen, this.valueAt.get(i));
        p += vlen;
      }
      k++;
    }
    this.stats.entries += k - this.next;
    this.next = k;
    return p === out.length ? out : out.subarray(0, p);
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

function whereOf(w: Where | undefined): { line?: number; offset?: number } {
  if (!w) return {};
  return { ...(w.line !== undefined ? { line: w.line } : {}), ...(w.offset !== undefined ? { offset: w.offset } : {}) };
}
