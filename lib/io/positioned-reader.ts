/**
 * Positioned reads of scratch files (pread), through a small LRU of open
 * descriptors, for the sinks: scratch that is read is complete (written and
 * closed by the spiller before the first collection reaches a sink), so
 * bytes read ahead never go stale.
 */
import fs from 'node:fs';
import { ioError } from '../errors.js';

/** Reads shorter than this that continue the previous one are served from a window read ahead. */
const SMALL_READ = 64 * 1024;
/** Bytes read ahead at a time. */
const WINDOW_BYTES = 256 * 1024;

/**
 * Open read descriptors of scratch files, bounded (LRU). Reads are
 * synchronous: scratch was just written, so they are page-cache copies, and
 * a thread-pool round trip per read costs more than the copy.
 *
 * Small bodies lie one after another in the spill pool, and the sink reads
 * them in that order: a pread per 1 KiB body cost ~9 µs of the main
 * thread, the largest item of a decode of 100 000 small objects. So a small
 * read that starts where the last one ended reads WINDOW_BYTES ahead, and
 * the reads after it are copies from that window. Reads in any other order
 * stay one pread each.
 */
export class PositionedReader {
  private readonly fds = new Map<string, number>();
  constructor(private readonly max = 8) {}

  /** The file read last and its descriptor (see read). */
  private lastPath: string | undefined;
  private lastFd = -1;
  /** Where the last read of lastPath ended. */
  private lastEnd = -1;
  /** Bytes of lastPath read ahead: window[0, windowLength) is the file from windowStart. */
  private window: Buffer | undefined;
  private windowStart = 0;
  private windowLength = 0;

  read(path: string, buf: Buffer, length: number, position: number): void {
    // Most reads are of the file read last: no LRU update then. Each Map
    // delete+set makes V8 replace the map's table, garbage that survived
    // into the old generation (~10-15 MB per 200 000 reads in tar mode).
    const sequential = path === this.lastPath && position === this.lastEnd;
    const fd = path === this.lastPath ? this.lastFd : this.use(path);
    this.lastEnd = position + length;
    if (length < SMALL_READ && (sequential || this.inWindow(position, length))) {
      if (!this.inWindow(position, length)) this.readAhead(path, fd, position);
      if (this.inWindow(position, length)) {
        const at = position - this.windowStart;
        this.window!.copy(buf, 0, at, at + length);
        return;
      }
    }
    this.readAt(path, fd, buf, length, position);
  }

  private inWindow(position: number, length: number): boolean {
    return this.windowLength > 0 && position >= this.windowStart && position + length <= this.windowStart + this.windowLength;
  }

  /** Reads up to WINDOW_BYTES of the file from position into the window (fewer at its end). */
  private readAhead(path: string, fd: number, position: number): void {
    this.window ??= Buffer.allocUnsafeSlow(WINDOW_BYTES);
    this.windowLength = 0;
    let got: number;
    try {
      got = fs.readSync(fd, this.window, 0, WINDOW_BYTES, position);
    } catch (e) {
      throw ioError(e, path, 'cannot read scratch file');
    }
    this.windowStart = position;
    this.windowLength = got;
  }

  private readAt(path: string, fd: number, buf: Buffer, length: number, position: number): void {
    let done = 0;
    while (done < length) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, done, length - done, position + done);
      } catch (e) {
        throw ioError(e, path, 'cannot read scratch file');
      }
      if (n === 0) throw ioError(new Error('unexpected end of scratch file'), path);
      done += n;
    }
  }

  /** path's descriptor, opened if need be, made the most recently used. */
  private use(path: string): number {
    let fd = this.fds.get(path);
    if (fd !== undefined) {
      this.fds.delete(path);
    } else {
      try {
        fd = fs.openSync(path, 'r');
      } catch (e) {
        throw ioError(e, path, 'cannot open scratch file');
      }
      if (this.fds.size >= this.max) {
        const [oldPath, old] = this.fds.entries().next().value!;
        this.fds.delete(oldPath);
        fs.closeSync(old);
      }
    }
    this.fds.set(path, fd);
    this.lastPath = path;
    this.lastFd = fd;
    this.windowLength = 0;
    return fd;
  }

  close(): void {
    this.lastPath = undefined;
    this.windowLength = 0;
    for (const fd of this.fds.values()) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already gone */
      }
    }
    this.fds.clear();
  }
}
