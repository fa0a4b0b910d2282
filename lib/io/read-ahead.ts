/**
 * Reads pieces of a scratch file through a read-ahead window that grows
 * while reads are sequential: pieces read back in file order cost a few
 * large reads, pieces read in shuffled order one small read each. Reads are
 * synchronous (scratch was just written: page-cache copies).
 */
import type { ScratchFile } from './scratch-file.js';

/** The window starts at MIN bytes and doubles while reads are sequential, up to MAX. */
const MIN = 4096;
const MAX = 4 << 20;
/** Pieces at least this long are read straight into their destination. */
const DIRECT_MIN = 256 * 1024;

export class ReadAhead {
  private win: Buffer = Buffer.alloc(0);
  private winStart = 0;
  private winEnd = 0;
  private ahead = MIN;
  private lastEnd = -1;

  constructor(private readonly file: ScratchFile) {}

  /** Copies the file's bytes [offset, offset+length) (flushed) to dst[at…]. */
  read(dst: Buffer, at: number, length: number, offset: number): void {
    const end = offset + length;
    if (offset >= this.winStart && end <= this.winEnd) {
      this.win.copy(dst, at, offset - this.winStart, end - this.winStart);
      this.lastEnd = end;
      return;
    }
    this.ahead = offset === this.lastEnd ? Math.min(this.ahead * 2, MAX) : MIN;
    this.lastEnd = end;
    if (length >= DIRECT_MIN || length >= this.ahead) {
      this.file.readInto(dst, at, length, offset);
      return;
    }
    if (this.win.length < MAX) this.win = Buffer.allocUnsafe(MAX);
    const n = Math.min(this.ahead, this.file.size - offset);
    this.file.readInto(this.win, 0, n, offset);
    this.winStart = offset;
    this.winEnd = offset + n;
    this.win.copy(dst, at, 0, length);
  }
}
