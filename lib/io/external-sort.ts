/**
 * An external sort of (key, payload) records by key bytes (Buffer.compare,
 * never JavaScript string order): records are held in memory (packed in an
 * arena) up to a byte budget, then sorted and written to a run file in a scratch directory; the
 * result is a k-way merge of the runs. Equal keys keep no particular order.
 * Memory: about the budget plus one read buffer per run.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ByteArena } from '../core/arena.js';
import { ioError } from '../errors.js';
import { CREATE_NEW } from './fs-callbacks.js';

export interface SortRecord {
  key: Buffer;
  payload: Buffer;
}

export interface SorterOptions {
  /** Where run files go (must exist; the files are removed by close()). */
  dir: string;
  /** Bytes of records held before a run is spilled; default 16 MiB. */
  budgetBytes?: number;
  /** Name prefix of run files. */
  name?: string;
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
const READ_BYTES = 256 * 1024;

/**
 * The records held in memory, packed into a ByteArena (a small Buffer kept
 * per record would pin a slab of Node's shared pool, and cost an object of
 * its own), addressed by position.
 */
class HeldRecords {
  readonly arena = new ByteArena();
  readonly keyAt: number[] = [];
  readonly keyLen: number[] = [];
  readonly payAt: number[] = [];
  readonly payLen: number[] = [];

  get length(): number {
    return this.keyAt.length;
  }

  push(key: Buffer, payload: Buffer): void {
    this.keyAt.push(this.arena.put(key));
    this.keyLen.push(key.length);
    this.payAt.push(this.arena.put(payload));
    this.payLen.push(payload.length);
  }

  /** Record numbers in key order. */
  order(): Uint32Array {
    const { arena, keyAt, keyLen } = this;
    return new Uint32Array(this.length).map((_, i) => i).sort((a, b) => arena.compare(keyAt[a]!, keyLen[a]!, keyAt[b]!, keyLen[b]!));
  }

  record(i: number): SortRecord {
    return { key: this.arena.view(this.keyAt[i]!, this.keyLen[i]!), payload: this.arena.view(this.payAt[i]!, this.payLen[i]!) };
  }
}

export class ExternalSorter {
  private readonly dir: string;
  private readonly budget: number;
  /** Name prefix of the run files. */
  readonly name: string;
  private held = new HeldRecords();
  private heldBytes = 0;
  private readonly runs: string[] = [];
  private sorting = false;

  constructor(opts: SorterOptions) {
    this.dir = opts.dir;
    this.budget = opts.budgetBytes ?? 16 * 1024 * 1024;
    this.name = opts.name ?? 'sort';
  }

  /** Number of run files written so far. */
  get runCount(): number {
    return this.runs.length;
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
    return (function* () {
      for (const i of held.order()) yield held.record(i);
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
      for (const i of held.order()) yield held.record(i);
      return;
    }
    if (this.held.length > 0) await this.spill();
    const readers = await Promise.all(this.runs.map((r) => RunReader.open(r)));
    try {
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
        const next = await readers[top.run]!.next();
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

  /** Removes the run files. */
  async close(): Promise<void> {
    this.takeHeld();
    await Promise.all(this.runs.map((r) => fsp.rm(r, { force: true })));
  }

  private takeHeld(): HeldRecords {
    const held = this.held;
    this.held = new HeldRecords();
    this.heldBytes = 0;
    return held;
  }

  /** Writes the held records, sorted, as one run: [u32 keyLen ‖ u32 payloadLen ‖ key ‖ payload]… */
  private async spill(): Promise<void> {
    const held = this.takeHeld();
    const file = path.join(this.dir, `${this.name}-run-${this.runs.length}`);
    this.runs.push(file);
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(file, CREATE_NEW, 0o600);
    } catch (e) {
      throw ioError(e, file, 'cannot create sort run');
    }
    try {
      const batch: Buffer[] = [];
      let batchBytes = 0;
      for (const i of held.order()) {
        const r = held.record(i);
        const head = Buffer.allocUnsafe(8);
        head.writeUInt32LE(r.key.length, 0);
        head.writeUInt32LE(r.payload.length, 4);
        batch.push(head, r.key, r.payload);
        batchBytes += 8 + r.key.length + r.payload.length;
        if (batchBytes >= 1 << 20) {
          await writeAll(fh, batch.splice(0));
          batchBytes = 0;
        }
      }
      if (batch.length) await writeAll(fh, batch);
    } catch (e) {
      throw ioError(e, file, 'cannot write sort run');
    } finally {
      await fh.close();
    }
  }
}

async function writeAll(fh: fsp.FileHandle, pieces: Buffer[]): Promise<void> {
  const buf = Buffer.concat(pieces);
  for (let at = 0; at < buf.length; ) at += (await fh.write(buf, at, buf.length - at)).bytesWritten;
}

/** Reads one run file's records back in order. */
class RunReader {
  private buf = Buffer.alloc(0);
  private pos = 0;
  private eof = false;

  private constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {}

  static async open(file: string): Promise<RunReader> {
    try {
      return new RunReader(await new Promise<number>((res, rej) => fs.open(file, 'r', (e, fd) => (e ? rej(e) : res(fd)))), file);
    } catch (e) {
      throw ioError(e, file, 'cannot open sort run');
    }
  }

  async next(): Promise<SortRecord | undefined> {
    if (!(await this.fill(8))) return undefined;
    const kl = this.buf.readUInt32LE(this.pos);
    const pl = this.buf.readUInt32LE(this.pos + 4);
    if (!(await this.fill(8 + kl + pl))) throw ioError(new Error('sort run is truncated'), this.file);
    const at = this.pos + 8;
    // Copies: the read buffer is reused.
    const key = Buffer.from(this.buf.subarray(at, at + kl));
    const payload = Buffer.from(this.buf.subarray(at + kl, at + kl + pl));
    this.pos = at + kl + pl;
    return { key, payload };
  }

  /** Makes n bytes available from pos; false at a clean end of file. */
  private async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n && !this.eof) {
      const rest = this.buf.subarray(this.pos);
      const chunk = Buffer.allocUnsafe(Math.max(READ_BYTES, n));
      const got = await new Promise<number>((res, rej) => fs.read(this.fd, chunk, 0, chunk.length, null, (e, b) => (e ? rej(ioError(e, this.file)) : res(b))));
      if (got === 0) this.eof = true;
      this.buf = Buffer.concat([rest, chunk.subarray(0, got)]);
      this.pos = 0;
    }
    return this.buf.length - this.pos >= n;
  }

  close(): Promise<void> {
    return new Promise((res) => fs.close(this.fd, () => res()));
  }
}
