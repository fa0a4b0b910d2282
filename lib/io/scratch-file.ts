/**
 * An append-only scratch file for bytes that are held a while and read
 * back: the tar target's small files (sidecars, mostly) until their bucket
 * is written, and the values `ekv-snapshot-jsonl --to fsm` holds until its
 * input is sorted. Millions of small pieces cost nothing in memory here;
 * they are read back from the page cache. Appends are gathered into batches
 * and reach the file at flush() (or when a batch is full); a piece too long
 * to be worth copying is written straight after the batch before it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CREATE_NEW } from './fs-callbacks.js';
import { ioError } from '../errors.js';
import { ReadWindow } from './read-window.js';

/** CREATE_NEW, but opened for reading too. */
const CREATE_NEW_RW = (CREATE_NEW & ~fs.constants.O_WRONLY) | fs.constants.O_RDWR;

export interface ScratchFileOptions {
  /** Start of the file's name; a random suffix follows (default "tar-files-"). */
  name?: string;
  /** Appends are written in batches of about this size (default 1 MiB). */
  batchBytes?: number;
  /**
   * Remove the file's name as soon as it is created: the open descriptor
   * keeps the bytes, so nothing is left behind even if the process is
   * killed (default false; on a platform that cannot unlink an open file
   * the name stays until close()).
   */
  anonymous?: boolean;
  /**
   * Write full batches on the thread pool while appends go on (at most one
   * such write at a time; another full batch meanwhile is written at once).
   * Call settle() before reading (default false).
   */
  background?: boolean;
}

export class ScratchFile {
  private readonly path: string;
  private readonly anonymous: boolean;
  private readonly background: boolean;
  /** The background write under way, and its failure once it failed. */
  private inflight: Promise<void> | undefined;
  /** The batch buffer of the last background write, for reuse. */
  private spare: Buffer | undefined;
  private failure: Error | undefined;
  private fd = -1;
  /** Whether the name is gone already (anonymous). */
  private unlinked = false;
  /** Bytes handed to writes (the file's size once they are done). */
  private written = 0;
  private batch: Buffer;
  private batched = 0;
  /** Small pieces read back in the order they were appended come from a window read ahead. */
  private readonly window = new ReadWindow();

  /** The file is made in dir by open(), or at the first flush() with something to write. */
  constructor(dir: string, opts: ScratchFileOptions = {}) {
    this.path = path.join(dir, `${opts.name ?? 'tar-files-'}${randomBytes(8).toString('hex')}`);
    this.batch = Buffer.allocUnsafeSlow(opts.batchBytes ?? 1 << 20);
    this.anonymous = opts.anonymous ?? false;
    this.background = opts.background ?? false;
  }

  /** Bytes appended so far (flushed or not). */
  get size(): number {
    return this.written + this.batched;
  }

  /** Creates the file now (it is otherwise made when first needed). */
  open(): void {
    if (this.fd >= 0) return;
    try {
      this.fd = fs.openSync(this.path, CREATE_NEW_RW, 0o600);
    } catch (e) {
      throw ioError(e, this.path, 'cannot create scratch file');
    }
    if (!this.anonymous) return;
    try {
      fs.unlinkSync(this.path);
      this.unlinked = true;
    } catch {
      /* cannot unlink an open file here (Windows): removed at close() instead */
    }
  }

  /** Appends data; returns its offset in the file. */
  append(data: Uint8Array): number {
    if (this.failure) throw this.failure;
    const at = this.size;
    if (this.batched + data.length > this.batch.length) {
      if (this.background && this.inflight === undefined) this.writeInBackground();
      else this.flush();
    }
    if (data.length > this.batch.length / 16) {
      // Long: written as it is (after what is batched), not copied.
      this.flush();
      this.writeOut(data, data.length);
    } else {
      this.batch.set(data, this.batched);
      this.batched += data.length;
    }
    return at;
  }

  /** Writes out what is batched: everything appended can be read now. */
  flush(): void {
    if (this.batched === 0) return;
    this.writeOut(this.batch, this.batched);
    this.batched = 0;
  }

  /** Background mode: resolves once the write under way is done (then flush() makes everything readable). */
  async settle(): Promise<void> {
    await this.inflight;
    if (this.failure) throw this.failure;
  }

  /** A copy of the length bytes appended at offset (flushed). */
  read(offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    this.readInto(out, 0, length, offset);
    return out;
  }

  /** Copies the length bytes appended at offset (flushed) to dst[at…]. */
  readInto(dst: Buffer, at: number, length: number, offset: number): void {
    // No reading ahead while a background write is under way: a batch
    // written after it may have landed already, leaving a hole (zeros)
    // where it will write.
    this.window.read(this.fd, this.path, dst, at, length, offset, this.inflight === undefined);
  }

  /** Nothing appended is needed any more: the file starts again empty (its disk space given back). */
  rewind(): void {
    this.window.forget();
    this.batched = 0;
    if (this.written === 0) return;
    try {
      fs.ftruncateSync(this.fd, 0);
    } catch (e) {
      throw ioError(e, this.path, 'cannot truncate scratch file');
    }
    this.written = 0;
  }

  /** Closes and removes the file (again: nothing to do). */
  close(): void {
    this.window.forget();
    this.written = 0;
    this.batched = 0;
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      fs.closeSync(fd);
    } catch {
      /* nothing more to do with it */
    }
    if (this.unlinked) return;
    try {
      fs.unlinkSync(this.path);
    } catch {
      /* gone already: its directory was removed */
    }
  }

  /** Hands the batch to the thread pool (a new batch takes its place). */
  private writeInBackground(): void {
    if (this.batched === 0) return;
    this.open();
    const full = this.batch;
    const data = full.subarray(0, this.batched);
    const position = this.written;
    this.written += this.batched;
    this.batch = this.spare ?? Buffer.allocUnsafeSlow(full.length);
    this.spare = undefined;
    this.batched = 0;
    this.inflight = new Promise<void>((resolve) => {
      const step = (done: number): void => {
        fs.write(this.fd, data, done, data.length - done, position + done, (err, n) => {
          if (err) this.failure ??= ioError(err, this.path, 'cannot write scratch file');
          else if (done + n < data.length) return step(done + n);
          this.inflight = undefined;
          this.spare = full;
          resolve();
        });
      };
      step(0);
    });
  }

  private writeOut(data: Uint8Array, length: number): void {
    this.open();
    try {
      for (let done = 0; done < length; ) done += fs.writeSync(this.fd, data, done, length - done, this.written + done);
    } catch (e) {
      throw ioError(e, this.path, 'cannot write scratch file');
    }
    this.written += length;
  }
}
