/**
 * An append-only scratch file for bytes that are held a while and read back
 * once: the tar target's small files (sidecars, mostly) until their bucket
 * is written. Some 200 bytes a file, for millions of files, cost nothing in
 * memory here; they are read back from the page cache. Appends are gathered
 * into batches and reach the file at flush().
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CREATE_NEW } from './fs-callbacks.js';
import { ioError } from '../errors.js';

/** Appends are written in batches of about this size. */
const BATCH_BYTES = 1 << 20;

/** CREATE_NEW, but opened for reading too. */
const CREATE_NEW_RW = (CREATE_NEW & ~fs.constants.O_WRONLY) | fs.constants.O_RDWR;

export class ScratchFile {
  private readonly path: string;
  private fd = -1;
  /** Bytes in the file. */
  private written = 0;
  private readonly batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private batched = 0;

  /** The file is made in dir at the first flush() with something to write. */
  constructor(dir: string) {
    this.path = path.join(dir, `tar-files-${randomBytes(8).toString('hex')}`);
  }

  /** Appends data (at most BATCH_BYTES); returns its offset in the file. */
  append(data: Uint8Array): number {
    if (this.batched + data.length > BATCH_BYTES) this.flush();
    const at = this.written + this.batched;
    this.batch.set(data, this.batched);
    this.batched += data.length;
    return at;
  }

  /** Writes out what is batched: everything appended can be read now. */
  flush(): void {
    if (this.batched === 0) return;
    try {
      if (this.fd < 0) this.fd = fs.openSync(this.path, CREATE_NEW_RW, 0o600);
      for (let done = 0; done < this.batched; ) done += fs.writeSync(this.fd, this.batch, done, this.batched - done, this.written + done);
    } catch (e) {
      throw ioError(e, this.path, 'cannot write scratch file');
    }
    this.written += this.batched;
    this.batched = 0;
  }

  /** A copy of the length bytes appended at offset (flushed). */
  read(offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    try {
      while (done < length) {
        const n = fs.readSync(this.fd, out, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      throw ioError(e, this.path, 'cannot read scratch file');
    }
    if (done < length) throw ioError(new Error('unexpected end of scratch file'), this.path);
    return out;
  }

  /** Nothing appended is needed any more: the file starts again empty (its disk space given back). */
  rewind(): void {
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
    try {
      fs.unlinkSync(this.path);
    } catch {
      /* gone already: its directory was removed */
    }
  }
}
