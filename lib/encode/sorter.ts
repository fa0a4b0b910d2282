/**
 * An external sort of (key, payload) records by key bytes (Buffer.compare,
 * never JavaScript string order): records are held in memory up to a byte
 * budget, then sorted and written to a run file in a scratch directory; the
 * result is a k-way merge of the runs. Equal keys keep no particular order.
 * Memory: about the budget plus one read buffer per run.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ioError } from '../errors.js';
import { CREATE_NEW } from '../io/fs-callbacks.js';

export interface SortRecord {
  key: Buffer;
  payload: Buffer;
}

export interface SorterOptions {
  /** Where run files go (must exist; the files are removed by close()). */
  dir: string;
  /** Bytes of records held before a run is spilled; default 32 MiB. */
  budgetBytes?: number;
  /** Name prefix of run files. */
  name?: string;
}

/** Rough per-record cost beyond the bytes themselves (two Buffers, an object, an array slot). */
const RECORD_OVERHEAD = 160;
const READ_BYTES = 256 * 1024;

export class ExternalSorter {
  private readonly dir: string;
  private readonly budget: number;
  private readonly name: string;
  private held: SortRecord[] = [];
  private heldBytes = 0;
  private readonly runs: string[] = [];
  private sorting = false;

  constructor(opts: SorterOptions) {
    this.dir = opts.dir;
    this.budget = opts.budgetBytes ?? 32 * 1024 * 1024;
    this.name = opts.name ?? 'sort';
  }

  /** Number of run files written so far. */
  get runCount(): number {
    return this.runs.length;
  }

  /** Adds a record; the Buffers are kept as given (copy them if they are reused). */
  async add(key: Buffer, payload: Buffer): Promise<void> {
    if (this.sorting) throw new Error('ExternalSorter: add() after sorted()');
    this.held.push({ key, payload });
    this.heldBytes += key.length + payload.length + RECORD_OVERHEAD;
    if (this.heldBytes >= this.budget) await this.spill();
  }

  /** The records in key order; call once, after the last add(). */
  async *sorted(): AsyncGenerator<SortRecord> {
    this.sorting = true;
    if (this.runs.length === 0) {
      const recs = this.takeSorted();
      yield* recs;
      return;
    }
    if (this.held.length > 0) await this.spill();
    const readers = await Promise.all(this.runs.map((r) => RunReader.open(r)));
    try {
      const heads: Array<SortRecord | undefined> = await Promise.all(readers.map((r) => r.next()));
      for (;;) {
        let min = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== undefined && (min < 0 || Buffer.compare(h.key, heads[min]!.key) < 0)) min = i;
        }
        if (min < 0) return;
        yield heads[min]!;
        heads[min] = await readers[min]!.next();
      }
    } finally {
      await Promise.all(readers.map((r) => r.close()));
    }
  }

  /** Removes the run files. */
  async close(): Promise<void> {
    this.held = [];
    await Promise.all(this.runs.map((r) => fsp.rm(r, { force: true })));
  }

  private takeSorted(): SortRecord[] {
    const recs = this.held;
    this.held = [];
    this.heldBytes = 0;
    recs.sort((a, b) => Buffer.compare(a.key, b.key));
    return recs;
  }

  /** Writes the held records, sorted, as one run: [u32 keyLen ‖ u32 payloadLen ‖ key ‖ payload]… */
  private async spill(): Promise<void> {
    const recs = this.takeSorted();
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
      for (const r of recs) {
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
