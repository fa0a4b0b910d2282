/**
 * Small reads in file order, served from a window read ahead. The sinks
 * read back millions of small pieces (bodies from the spill pool, the tar
 * target's sidecars from its scratch file) in the order they were written;
 * a pread per 1 KiB piece costs ~9 µs of the main thread, a copy from the
 * window a fraction of that. So a read shorter than SMALL_READ that starts
 * where the previous one ended reads WINDOW_BYTES ahead, and the reads
 * after it that lie in the window are copies from it. Any other read is
 * left to the owner, which must forget() the window whenever the bytes it
 * holds may no longer be the file's (another file, a truncation).
 */

/** Reads shorter than this that continue the previous one are served from the window. */
export const SMALL_READ = 64 * 1024;
/** Bytes read ahead at a time. */
export const WINDOW_BYTES = 256 * 1024;

/** Reads up to buf.length bytes of the file at position into buf; returns how many (fewer at its end). */
export type FillWindow = (buf: Buffer, position: number) => number;

export class ReadWindow {
  private buf: Buffer | undefined;
  /** window[0, length) is the file from start. */
  private start = 0;
  private length = 0;
  /** Where the last read ended (-1: no read to continue). */
  private lastEnd = -1;

  /**
   * Copies the length bytes at position into dst[at…] from the window,
   * reading ahead with fill first when this read continues the last one.
   * Returns false when the owner must read them itself.
   */
  copy(dst: Uint8Array, at: number, length: number, position: number, fill: FillWindow): boolean {
    const sequential = position === this.lastEnd;
    this.lastEnd = position + length;
    if (length >= SMALL_READ) return false;
    if (!this.holds(position, length)) {
      if (!sequential) return false;
      this.buf ??= Buffer.allocUnsafeSlow(WINDOW_BYTES);
      this.length = 0;
      this.length = fill(this.buf, position);
      this.start = position;
      if (!this.holds(position, length)) return false;
    }
    const from = position - this.start;
    this.buf!.copy(dst, at, from, from + length);
    return true;
  }

  /** The window's bytes may be stale: read afresh from now on. */
  forget(): void {
    this.length = 0;
    this.lastEnd = -1;
  }

  private holds(position: number, length: number): boolean {
    return this.length > 0 && position >= this.start && position + length <= this.start + this.length;
  }
}
