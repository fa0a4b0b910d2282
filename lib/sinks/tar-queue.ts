/**
 * The entries the tar target holds until their bucket ends: tar entries go
 * out in CHECKSUMS order, and a bucket's files are announced in another. A
 * bucket may have millions of objects, two entries each, so an entry is a
 * record of bytes in an external sort by path (lib/io/external-sort.ts:
 * held in memory up to a budget, sorted runs in the scratch directory
 * beyond it), and its content is only where its bytes are, read again when
 * the entry is written — a body as spans of the spill files, a small file
 * (sidecar, _bucket.json, …) in a scratch file of its own.
 *
 *     record: path → u8 kind ‖ u32 mode ‖ f64 size ‖ f64 seq ‖ (kind's fields)
 */
import { randomBytes } from 'node:crypto';
import { BLOCK } from '../core/arena.js';
import { ExternalSorter, metadataBudget } from '../io/external-sort.js';
import type { ScratchFile } from '../io/scratch-file.js';
import type { Span, SpillFile } from '../types.js';

/** Entry kinds: where an entry's content is. */
const SPANS = 0; // spans of scratch files (bodies): f64 mtime (NaN: none) ‖ u32 count ‖ (u32 file ‖ f64 offset ‖ f64 length)…
const SMALL = 1; // size bytes in the small files' scratch file: f64 offset
const LARGE = 2; // a Buffer of its own (in `large`): u32 index
const PIECES = 3; // pieces made as they are consumed (in `pieced`): u32 index

const HEAD = 1 + 4 + 8 + 8;

/** Bytes of queued entries held in memory before a sorted run is spilled (with a scratch directory). */
export const TAR_QUEUE_BUDGET = 8 * 1024 * 1024;

/**
 * Files up to this size go to the scratch file. Larger ones (KEYMAP.jsonl,
 * _skipped.jsonl of a huge bucket) are few and kept as given: writing them
 * out would cost a copy and a read for no memory saved while the caller
 * holds them.
 */
const SMALL_FILE = BLOCK / 4;

/** A queued entry as it is handed out for writing (path: a view, valid until the next entry). */
export type QueuedEntry = { path: Buffer; mode: number; size: number } & ({ data: Buffer } | { pieces: Iterable<Buffer> } | { spans: Iterable<Span>; mtime: number | undefined });

/** Options of a TarQueue. */
export interface TarQueueOptions {
  /** Where sorted runs go beyond the budget (removed by take()); without it everything stays in memory. */
  scratchDir?: string;
  /** Bytes held before spilling (default TAR_QUEUE_BUDGET, or BUDGET_ENV's). */
  budgetBytes?: number;
}

export class TarQueue {
  private readonly sorter: ExternalSorter;
  private readonly large: Buffer[] = [];
  private readonly pieced: Array<Iterable<Buffer>> = [];
  private n = 0;
  /** Files named by spans: few (the spill pool, one run per large body). */
  private readonly files: SpillFile[] = [];
  private readonly fileNumbers = new Map<number, number>();

  /** Small files' bytes are appended to smallFiles (the queue's owner rewinds it once they are written). */
  constructor(
    private readonly smallFiles: ScratchFile,
    opts: TarQueueOptions = {},
  ) {
    const budget = opts.scratchDir === undefined ? Infinity : (opts.budgetBytes ?? metadataBudget(TAR_QUEUE_BUDGET));
    this.sorter = new ExternalSorter({ dir: opts.scratchDir ?? '', name: `tar-queue-${randomBytes(4).toString('hex')}`, budgetBytes: budget });
  }

  /** Entries queued. */
  get length(): number {
    return this.n;
  }

  /** Sorted runs spilled so far. */
  get runs(): number {
    return this.sorter.runCount;
  }

  /**
   * A file with these bytes (held in scratch when small: the caller's buffer
   * may go). Like every add, returns a promise to wait for before the next
   * only when a run was spilled.
   */
  addFile(path: Buffer, mode: number, data: Buffer): Promise<void> | undefined {
    const rec = this.head(LARGE, mode, data.length, 8);
    if (data.length <= SMALL_FILE) {
      rec[0] = SMALL;
      rec.writeDoubleLE(this.smallFiles.append(data), HEAD);
    } else {
      rec.writeUInt32LE(this.large.push(data) - 1, HEAD);
    }
    return this.sorter.add(path, rec);
  }

  /** A file given as pieces, consumed only when it is written. */
  addPieces(path: Buffer, mode: number, size: number, pieces: Iterable<Buffer>): Promise<void> | undefined {
    const rec = this.head(PIECES, mode, size, 4);
    rec.writeUInt32LE(this.pieced.push(pieces) - 1, HEAD);
    return this.sorter.add(path, rec);
  }

  /** A body of size bytes: the concatenation of spans of spill files; mtime in seconds. */
  addBody(path: Buffer, mode: number, size: number, spans: readonly Span[], mtime?: number): Promise<void> | undefined {
    const rec = this.head(SPANS, mode, size, 8 + 4 + 20 * spans.length);
    let o = rec.writeDoubleLE(mtime ?? NaN, HEAD);
    o = rec.writeUInt32LE(spans.length, o);
    for (const span of spans) {
      o = rec.writeUInt32LE(this.fileNumber(span.file), o);
      o = rec.writeDoubleLE(span.offset, o);
      o = rec.writeDoubleLE(span.length, o);
    }
    return this.sorter.add(path, rec);
  }

  /**
   * Hands out the queued entries, sorted bytewise by path or (few entries:
   * the dump's last files) in the order they were added; once only (a queue
   * holds one batch of entries: make a new one for the next). Spilled runs
   * are removed at the end.
   */
  async *take(sorted: boolean): AsyncGenerator<QueuedEntry> {
    this.smallFiles.flush();
    if (sorted) {
      for await (const r of this.sorter.sorted()) yield this.entry(r.key, r.payload);
      await this.sorter.close();
      return;
    }
    const all: Array<{ path: Buffer; rec: Buffer }> = [];
    for await (const r of this.sorter.sorted()) all.push({ path: Buffer.from(r.key), rec: Buffer.from(r.payload) });
    await this.sorter.close();
    all.sort((x, y) => x.rec.readDoubleLE(13) - y.rec.readDoubleLE(13));
    for (const e of all) yield this.entry(e.path, e.rec);
  }

  private entry(path: Buffer, rec: Buffer): QueuedEntry {
    const kind = rec[0];
    const mode = rec.readUInt32LE(1);
    const size = rec.readDoubleLE(5);
    // Whole literals, not `{ ...head, data }`: with Node 20's V8 each such
    // spread-then-add object leaves garbage in the old generation until a
    // full collection.
    if (kind === SMALL) return { path, mode, size, data: this.smallFiles.read(rec.readDoubleLE(HEAD), size) };
    if (kind === LARGE) return { path, mode, size, data: this.large[rec.readUInt32LE(HEAD)]! };
    if (kind === PIECES) return { path, mode, size, pieces: this.pieced[rec.readUInt32LE(HEAD)]! };
    const spans: Span[] = [];
    const mtime = rec.readDoubleLE(HEAD);
    const count = rec.readUInt32LE(HEAD + 8);
    for (let s = 0, o = HEAD + 12; s < count; s++, o += 20) spans.push({ file: this.files[rec.readUInt32LE(o)]!, offset: rec.readDoubleLE(o + 4), length: rec.readDoubleLE(o + 12) });
    return { path, mode, size, spans, mtime: Number.isNaN(mtime) ? undefined : mtime };
  }

  /** A record's head (kind, mode, size, arrival), with `extra` bytes after it. */
  private head(kind: number, mode: number, size: number, extra: number): Buffer {
    const rec = Buffer.allocUnsafe(HEAD + extra);
    rec[0] = kind;
    rec.writeUInt32LE(mode, 1);
    rec.writeDoubleLE(size, 5);
    rec.writeDoubleLE(this.n++, 13);
    return rec;
  }

  private fileNumber(file: SpillFile): number {
    let i = this.fileNumbers.get(file.id);
    if (i === undefined) {
      i = this.files.push(file) - 1;
      this.fileNumbers.set(file.id, i);
    }
    return i;
  }
}
