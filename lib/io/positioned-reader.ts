/**
 * Positioned reads of scratch files (pread), through a small LRU of open
 * descriptors, for the sinks: scratch that is read is complete (written and
 * closed by the spiller before the first collection reaches a sink), so
 * bytes read ahead never go stale.
 */
import fs from 'node:fs';
import { ioError } from '../errors.js';
import { ReadWindow } from './read-window.js';

/**
 * Open read descriptors of scratch files, bounded (LRU). Reads are
 * synchronous: scratch was just written, so they are page-cache copies, and
 * a thread-pool round trip per read costs more than the copy.
 *
 * Small bodies lie one after another in the spill pool, and the sink reads
 * them in that order: small reads in file order are served from a window
 * read ahead (lib/io/read-window.ts). Reads in any other order stay one
 * pread each.
 */
export class PositionedReader {
  private readonly fds = new Map<string, number>();
  constructor(private readonly max = 8) {}

  /** The file read last and its descriptor (see read). */
  private lastPath: string | undefined;
  private lastFd = -1;
  /** Bytes of lastPath read ahead. */
  private readonly window = new ReadWindow();

  read(path: string, buf: Buffer, length: number, position: number): void {
    // Most reads are of the file read last: no LRU update then. Each Map
    // delete+set makes V8 replace the map's table, garbage that survived
    // into the old generation (~10-15 MB per 200 000 reads in tar mode).
    const fd = path === this.lastPath ? this.lastFd : this.use(path);
    this.window.read(fd, path, buf, 0, length, position);
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
    this.window.forget();
    return fd;
  }

  close(): void {
    this.lastPath = undefined;
    this.window.forget();
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
