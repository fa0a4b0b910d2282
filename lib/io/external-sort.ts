/**
 * An external sort of (key, payload) records by key bytes (Buffer.compare,
 * never JavaScript string order): records are held in memory (packed in an
 * arena) up to a byte budget, then sorted and written to a run file in a scratch directory; the
 * result is a k-way merge of the runs. Equal keys keep no particular order.
 * Memory: about the budget plus one read buffer per run merged, and at most
 * MAX_FAN_IN runs are merged at once: more are first merged into fewer
 * (a merge of merges), so a sort of any size reads through a bounded
 * number of buffers.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ByteArena } from '../core/arena.js';
import { RunReader, RunWriter, type SortRecord } from './sort-run.js';

export type { SortRecord } from './sort-run.js';

export interface SorterOptions {
  /** Where run files go (must exist; the files are removed by close()). */
  dir: string;
  /** Bytes of records held before a run is spilled; default 16 MiB. */
  budgetBytes?: number;
  /** Name prefix of run files. */
  name?: string;
  /** Runs merged at once (default MAX_FAN_IN; tests use small ones). */
  fanIn?: number;
}

/**
 * An internal knob for tests: the budget, in bytes, of every sort of
 * per-object metadata (object versions, checksums, tar entries) when no
 * option gives one, so that end-to-end runs (the CLI, the conformance
 * cases) spill on small inputs. Not a user setting.
 */
export const BUDGET_ENV = 'EKV_METADATA_BUDGET';

/** The budget BUDGET_ENV sets, else dflt. */
export function metadataBudget(dflt: number): number {
  return Number(process.env[BUDGET_ENV]) || dflt;
}

/** Per-record cost beyond its bytes: four numbers in the columns and the sort index. */
const RECORD_OVERHEAD = 40;
/** Bytes of a run written with one call. */
const WRITE_BYTES = 1 << 20;
/** Runs merged at once (each with a READ_BYTES buffer, lib/io/sort-run.ts); more are merged in passes first. */
export const MAX_FAN_IN = 16;
const NO_ORDER = new Uint32Array(0);

/**
 * The records held in memory, packed into a ByteArena (a small Buffer kept
 * per record would pin a slab of Node's shared pool, and cost an object of
 * its own), addressed by position. Per record four numbers (key position
 * and length, payload position and length) in one typed array, grown by
 * doubling and handed on to the next HeldRecords once a run is written:
 * arrays of numbers remade for every run would pile up as garbage in V8's
 * old generation.
 */
class HeldRecords {
  readonly arena = new ByteArena();
  length = 0;

  constructor(private cols: Float64Array = new Float64Array(4 * 64)) {}

  /** The columns, for the next HeldRecords once these records are no longer used. */
  get columns(): Float64Array {
    return this.cols;
  }

  push(key: Buffer, payload: Buffer): void {
    if (4 * this.length + 4 > this.cols.length) {
      const bigger = new Float64Array(2 * this.cols.length);
      bigger.set(this.cols);
      this.cols = bigger;
    }
    const o = 4 * this.length++;
    this.cols[o] = this.arena.put(key);
    this.cols[o + 1] = key.length;
    this.cols[o + 2] = this.arena.put(payload);
    this.cols[o + 3] = payload.length;
  }

  keyLength(i: number): number {
    return this.cols[4 * i + 1]!;
  }

  payloadLength(i: number): number {
    return this.cols[4 * i + 3]!;
  }

  /** Record numbers in key order, in `into` (at least length long; its first length entries). */
  order(into: Uint32Array): Uint32Array {
    const { arena, cols } = this;
    const idx = into.subarray(0, this.length);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    return idx.sort((a, b) => arena.compare(cols[4 * a]!, cols[4 * a + 1]!, cols[4 * b]!, cols[4 * b + 1]!));
  }

  record(i: number): SortRecord {
    const c = this.cols;
    return { key: this.arena.view(c[4 * i]!, c[4 * i + 1]!), payload: this.arena.view(c[4 * i + 2]!, c[4 * i + 3]!) };
  }

  /** Copies record i's key and payload into target at offset (no view is made: a spill writes millions). */
  copyOut(i: number, target: Buffer, offset: number): void {
    const c = this.cols;
    this.arena.copyOut(c[4 * i]!, c[4 * i + 1]!, target, offset);
    this.arena.copyOut(c[4 * i + 2]!, c[4 * i + 3]!, target, offset + c[4 * i + 1]!);
  }
}

export class ExternalSorter {
  private readonly dir: string;
  private readonly budget: number;
  /** Name prefix of the run files. */
  readonly name: string;
  private held = new HeldRecords();
  private heldBytes = 0;
  /** The columns of records already written, for the next HeldRecords. */
  private spareColumns: Float64Array | undefined;
  /**
   * The order of the held records, and the buffer runs are written
   * through: kept from one run to the next. New ones per run (a run lives
   * across young collections while it is written) were garbage that only a
   * full collection freed: ~40 MiB at the end of a million-object decode's
   * output (its CHECKSUMS list spills some 30 runs).
   */
  private orderBuffer = NO_ORDER;
  private writeBuffer: Buffer | undefined;
  /** Run files not merged yet. */
  private readonly runs: string[] = [];
  /** Run files made so far (spilled, then merged), for their names. */
  private made = 0;
  private spilled = 0;
  private readonly fanIn: number;
  private widest = 0;
  private sorting = false;

  constructor(opts: SorterOptions) {
    this.dir = opts.dir;
    this.budget = opts.budgetBytes ?? 16 * 1024 * 1024;
    this.name = opts.name ?? 'sort';
    this.fanIn = Math.max(2, opts.fanIn ?? MAX_FAN_IN);
  }

  /** Number of runs spilled so far. */
  get runCount(): number {
    return this.spilled;
  }

  /** The most runs read at once by a merge so far (at most the fan-in). */
  get widestMerge(): number {
    return this.widest;
  }

  /**
   * Adds a record (its bytes are copied). Returns a promise, to be waited
   * for before the next add(), only when the held records were spilled.
   */
  add(key: Buffer, payload: Buffer): Promise<void> | undefined {
    if (this.sorting) throw new Error('ExternalSorter: add() after sorted()');
    this.held.push(key, payload);
    this.heldBytes += key.length + payload.length + RECORD_OVERHEAD;
    return this.heldBytes >= this.budget ? this.spill() : undefined;
  }

  /**
   * When nothing was spilled, the records in key order, at once (views
   * valid while the sorter is used); else undefined (use sorted()).
   */
  inMemory(): Iterable<SortRecord> | undefined {
    if (this.runs.length > 0) return undefined;
    const held = this.held;
    const order = this.orderOf(held);
    return (function* () {
      for (const i of order) yield held.record(i);
    })();
  }

  /**
   * The records in key order; call once, after the last add(). The Buffers
   * are views that stay valid until the iteration ends.
   */
  async *sorted(): AsyncGenerator<SortRecord> {
    this.sorting = true;
    if (this.runs.length === 0) {
      const held = this.takeHeld();
      for (const i of this.orderOf(held)) yield held.record(i);
      return;
    }
    if (this.held.length > 0) await this.spill();
    this.orderBuffer = NO_ORDER; // nothing more is spilled
    // A merge of merges: fanIn runs at a time into one, until fanIn are left.
    while (this.runs.length > this.fanIn) {
      const group = this.runs.splice(0, this.fanIn);
      try {
        const out = await this.runWriter();
        try {
          for await (const r of this.merge(group)) {
            const wait = out.add(r.key.length, r.payload.length, (buf, at) => {
              r.key.copy(buf, at);
              r.payload.copy(buf, at + r.key.length);
            });
            if (wait) await wait;
          }
        } finally {
          await this.closeRun(out);
        }
      } finally {
        // Merged (or failed): no longer among the runs close() removes.
        await Promise.all(group.map((f) => fsp.rm(f, { force: true })));
      }
    }
    this.writeBuffer = undefined; // nor written
    yield* this.merge(this.runs);
  }

  /** The records of these run files, merged in key order. */
  private async *merge(files: readonly string[]): AsyncGenerator<SortRecord> {
    const readers: RunReader[] = [];
    try {
      for (const f of files) readers.push(await RunReader.open(f));
      this.widest = Math.max(this.widest, readers.length);
      // A binary min-heap of the runs' current records: log(runs) comparisons per record.
      const heap: Array<{ rec: SortRecord; run: number }> = [];
      const less = (a: number, b: number) => Buffer.compare(heap[a]!.rec.key, heap[b]!.rec.key) < 0;
      const swap = (a: number, b: number) => ([heap[a], heap[b]] = [heap[b]!, heap[a]!]);
      const up = (i: number) => {
        for (let p = (i - 1) >> 1; i > 0 && less(i, p); i = p, p = (i - 1) >> 1) swap(i, p);
      };
      const down = (i: number) => {
        for (;;) {
          const l = 2 * i + 1;
          const m = l + 1 < heap.length && less(l + 1, l) ? l + 1 : l;
          if (l >= heap.length || !less(m, i)) return;
          swap(i, m);
          i = m;
        }
      };
      for (const [run, r] of readers.entries()) {
        const rec = await r.next();
        if (rec) {
          heap.push({ rec, run });
          up(heap.length - 1);
        }
      }
      while (heap.length > 0) {
        const top = heap[0]!;
        yield top.rec;
        const reader = readers[top.run]!;
        const next = reader.buffered() ?? (await reader.next());
        if (next) top.rec = next;
        else {
          const last = heap.pop()!;
          if (heap.length === 0) break;
          heap[0] = last;
        }
        down(0);
      }
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  }

  /** Drops the held records and removes the run files (safe to call again). */
  async close(): Promise<void> {
    this.held = new HeldRecords();
    this.spareColumns = undefined;
    this.orderBuffer = NO_ORDER;
    this.writeBuffer = undefined;
    this.heldBytes = 0;
    await Promise.all(this.runs.map((r) => fsp.rm(r, { force: true })));
  }

  private takeHeld(): HeldRecords {
    const held = this.held;
    this.held = new HeldRecords(this.spareColumns);
    this.spareColumns = undefined;
    this.heldBytes = 0;
    return held;
  }

  /** Writes the held records, sorted, as one run. */
  private async spill(): Promise<void> {
    const held = this.takeHeld();
    this.spilled++;
    const out = await this.runWriter();
    try {
      for (const i of this.orderOf(held)) {
        const wait = out.add(held.keyLength(i), held.payloadLength(i), (buf, at) => held.copyOut(i, buf, at));
        if (wait) await wait;
      }
    } finally {
      await this.closeRun(out);
    }
    held.arena.clear();
    this.spareColumns = held.columns;
  }

  /** The held records' order, in the kept order buffer (grown as needed). */
  private orderOf(held: HeldRecords): Uint32Array {
    if (this.orderBuffer.length < held.length) this.orderBuffer = new Uint32Array(Math.max(held.length, 2 * this.orderBuffer.length));
    return held.order(this.orderBuffer);
  }

  /** A writer of a new run file, through the kept write buffer (taken while it writes). */
  private async runWriter(): Promise<RunWriter> {
    const buf = this.writeBuffer ?? Buffer.allocUnsafe(WRITE_BYTES);
    this.writeBuffer = undefined;
    return RunWriter.create(this.newRunFile(), buf);
  }

  /** Closes a run's writer; its buffer is kept for the next run. */
  private async closeRun(out: RunWriter): Promise<void> {
    try {
      await out.close();
    } finally {
      this.writeBuffer = out.buffer;
    }
  }

  private newRunFile(): string {
    const file = path.join(this.dir, `${this.name}-run-${this.made++}`);
    this.runs.push(file);
    return file;
  }
}
