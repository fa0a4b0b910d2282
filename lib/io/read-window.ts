/**
 * Synchronous reads of scratch files (pread), with small reads in file
 * order served from a window read ahead. The sinks read back millions of
 * small pieces (bodies from the spill pool, the tar target's sidecars from
 * its scratch file) in the order they were written; a pread per 1 KiB piece
 * costs ~9 µs of the main thread, a copy from the window a fraction of
 * that. So a read shorter than SMALL_READ that starts where the previous one
 * ended reads WINDOW_BYTES ahead, and the reads after it that lie in the
 * window are copies from it. Any other read is a pread of its own. The
 * owner must forget() the window whenever the bytes it holds may no longer
 * be the file's (another file, a truncation).
 */
import fs from 'node:fs';
import { ioError } from '../errors.js';

/** Reads shorter than this that continue the previous one are served from the window. */
export const SMALL_READ = 64 * 1024;
/** Bytes read ahead at a time. */
export const WINDOW_BYTES = 256 * 1024;

/** Reads exactly length bytes of fd at position into dst[at…], looping over short reads; ERR_IO naming path. */
export function readScratch(fd: number, path: string, dst: Uint8Array, at: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = fs.readSync(fd, dst, at + done, length - done, position + done);
    } catch (e) {
      throw ioError(e, path, 'cannot read scratch file');
    }
    if (n === 0) throw ioError(new Error('unexpected end of scratch file'), path);
    done += n;
  }
}

export class ReadWindow {
  private buf: Buffer | undefined;
  /** window[0, length) is the file from start. */
  private start = 0;
  private length = 0;
  /** Where the last read ended (-1: no read to continue). */
  private lastEnd = -1;

  /**
   * Reads the length bytes at position of the file (fd, named path) into
   * dst[at…]: from the window when they lie in it, or when this read
   * continues the last one and mayFill allows reading ahead; else with a
   * pread of their own. Returns whether they came from the window.
   */
  read(fd: number, path: string, dst: Uint8Array, at: number, length: number, position: number, mayFill = true): boolean {
    const sequential = position === this.lastEnd;
    this.lastEnd = position + length;
    if (length < SMALL_READ) {
      if (!this.holds(position, length) && sequential && mayFill) this.fill(fd, path, position);
      if (this.holds(position, length)) {
        const from = position - this.start;
        this.buf!.copy(dst, at, from, from + length);
        return true;
      }
    }
    readScratch(fd, path, dst, at, length, position);
    return false;
  }

  /** The window's bytes may be stale: read afresh from now on. */
  forget(): void {
    this.length = 0;
    this.lastEnd = -1;
  }

  /** Reads up to WINDOW_BYTES of the file from position into the window (fewer at its end). */
  private fill(fd: number, path: string, position: number): void {
    this.buf ??= Buffer.allocUnsafeSlow(WINDOW_BYTES);
    this.length = 0; // stays empty if the read fails
    try {
      this.length = fs.readSync(fd, this.buf, 0, WINDOW_BYTES, position);
    } catch (e) {
      throw ioError(e, path, 'cannot read scratch file');
    }
    this.start = position;
  }

  private holds(position: number, length: number): boolean {
    return this.length > 0 && position >= this.start && position + length <= this.start + this.length;
  }
}
