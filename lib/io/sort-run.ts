/**
 * A sorted run of the external sort (lib/io/external-sort.ts) on disk:
 * records [u32 keyLen ‖ u32 payloadLen ‖ key ‖ payload]…, written through
 * one reused buffer and read back through another.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { ioError } from '../errors.js';
import { CREATE_NEW } from './fs-callbacks.js';

/** A record of a sort: ordered by key bytes; the payload travels with it. */
export interface SortRecord {
  key: Buffer;
  payload: Buffer;
}

/** Bytes read from a run at a time (one buffer per run merged). */
export const READ_BYTES = 256 * 1024;

/**
 * Writes a run file, [u32 keyLen ‖ u32 payloadLen ‖ key ‖ payload]…,
 * records packed into one buffer, written out whenever it is full: no object
 * per record (a run holds up to millions, and a batch of them held across
 * a write would outlive V8's young generation and pile up in the old one).
 */
export class RunWriter {
  private used = 0;

  private constructor(
    private readonly fh: fsp.FileHandle,
    private readonly file: string,
    private buf: Buffer,
  ) {}

  /** A new run file written through buf (the sorter's write buffer; replaced by a larger one for a larger record). */
  static async create(file: string, buf: Buffer): Promise<RunWriter> {
    try {
      return new RunWriter(await fsp.open(file, CREATE_NEW, 0o600), file, buf);
    } catch (e) {
      throw ioError(e, file, 'cannot create sort run');
    }
  }

  /** The buffer written through, for the next run once this one is closed. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Adds a record; fill copies its key and then its payload into buf at at. Waits only when the buffer is written out. */
  add(keyLen: number, payLen: number, fill: (buf: Buffer, at: number) => void): Promise<void> | undefined {
    const n = 8 + keyLen + payLen;
    if (this.used + n > this.buf.length) {
      if (this.used > 0) return this.write().then(() => this.add(keyLen, payLen, fill));
      this.buf = Buffer.allocUnsafe(n); // a record larger than the buffer
    }
    this.buf.writeUInt32LE(keyLen, this.used);
    this.buf.writeUInt32LE(payLen, this.used + 4);
    fill(this.buf, this.used + 8);
    this.used += n;
    return undefined;
  }

  /** Writes what is buffered and closes the file. */
  async close(): Promise<void> {
    try {
      await this.write();
    } finally {
      await this.fh.close();
    }
  }

  private async write(): Promise<void> {
    try {
      for (let at = 0; at < this.used; ) at += (await this.fh.write(this.buf, at, this.used - at)).bytesWritten;
    } catch (e) {
      throw ioError(e, this.file, 'cannot write sort run');
    }
    this.used = 0;
  }
}

/** Reads one run file's records back in order, through one READ_BYTES buffer (larger only for a larger record). */
export class RunReader {
  private buf = Buffer.allocUnsafe(READ_BYTES);
  private pos = 0;
  /** End of the bytes read into buf. */
  private end = 0;
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

  /**
   * The next record when all of it is in the read buffer already, without
   * waiting; else undefined (then next() reads on, or says the run ended).
   * A merge takes nearly every record this way: a promise and two awaited
   * reads per record were a quarter of the garbage of a decode of many
   * small objects (docs/PERFORMANCE.md, "Small objects").
   */
  buffered(): SortRecord | undefined {
    if (this.end - this.pos < 8) return undefined;
    const kl = this.buf.readUInt32LE(this.pos);
    const pl = this.buf.readUInt32LE(this.pos + 4);
    return this.end - this.pos < 8 + kl + pl ? undefined : this.take(kl, pl);
  }

  /** The next record, reading on as needed; undefined at the run's end. Try buffered() first: it does not wait. */
  async next(): Promise<SortRecord | undefined> {
    if (!(await this.fill(8))) return undefined;
    const kl = this.buf.readUInt32LE(this.pos);
    const pl = this.buf.readUInt32LE(this.pos + 4);
    if (!(await this.fill(8 + kl + pl))) throw ioError(new Error('sort run is truncated'), this.file);
    return this.take(kl, pl);
  }

  /** The record at pos (its length fields read), copied out: fill() reuses the read buffer. One copy holds key and payload. */
  private take(kl: number, pl: number): SortRecord {
    const at = this.pos + 8;
    const both = Buffer.from(this.buf.subarray(at, at + kl + pl));
    this.pos = at + kl + pl;
    return { key: both.subarray(0, kl), payload: both.subarray(kl) };
  }

  /**
   * Makes n bytes available from pos; false at a clean end of file. The
   * buffer is reused (its unread bytes moved to the front): a new one per
   * read, across a merge of a million records, was garbage that freed
   * memory only at the next collection, and the allocator kept it.
   */
  private async fill(n: number): Promise<boolean> {
    while (this.end - this.pos < n && !this.eof) {
      if (this.pos + n > this.buf.length) {
        const buf = n > this.buf.length ? Buffer.allocUnsafe(n) : this.buf;
        this.buf.copy(buf, 0, this.pos, this.end);
        this.buf = buf;
        this.end -= this.pos;
        this.pos = 0;
      }
      const { buf, end } = this;
      const got = await new Promise<number>((res, rej) => fs.read(this.fd, buf, end, buf.length - end, null, (e, b) => (e ? rej(ioError(e, this.file)) : res(b))));
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.pos >= n;
  }

  close(): Promise<void> {
    return new Promise((res) => fs.close(this.fd, () => res()));
  }
}
