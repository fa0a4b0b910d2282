/**
 * Splits a byte stream into '\n'-terminated lines, fed chunk by chunk. A
 * partial line is kept as a list of pieces and joined once, when its
 * newline arrives, so a 1.4 MB base64 line costs one copy no matter how many
 * chunks it spans (split2 re-splits its whole carry-over per chunk). A line
 * inside one chunk is a zero-copy view of it.
 *
 * With `reuse`, the unfinished line is copied as it arrives into one
 * buffer the framer keeps (its memory reused while lines are at most
 * REUSE_MAX bytes), so no line needs fresh memory (a 1.4 MB buffer per line
 * is a page fault per 4 KiB) and no chunk is referred to once write()
 * returns: the caller may reuse it. A line handed to onLine is then valid
 * only until onLine returns.
 */
import { copyBytes } from './copy-bytes.js';

const REUSE_MAX = 4 << 20;

export class LineFramer {
  private pieces: Buffer[] = [];
  private readonly reuse: boolean;
  private joined: Buffer | undefined;
  /** Bytes of the unfinished line held in pieces. */
  private held = 0;
  /** The unfinished line's first byte that is not JSON whitespace (-1: none yet). */
  private first = -1;

  constructor(opts: { reuse?: boolean } = {}) {
    this.reuse = opts.reuse ?? false;
  }

  /** Length of the line not finished yet (its bytes are held until its newline). */
  get pendingBytes(): number {
    return this.held;
  }

  /** The unfinished line's first byte other than JSON whitespace, or -1 when it has none yet. */
  get pendingFirstByte(): number {
    return this.first;
  }

  /** Calls onLine with every line (without its '\n') this chunk completes. */
  write(chunk: Buffer, onLine: (line: Buffer) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      let line = chunk.subarray(start, nl);
      if (this.held > 0) {
        const length = this.held + line.length;
        if (this.reuse) this.keep(line);
        else this.pieces.push(line);
        line = this.join(length);
      }
      onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (this.reuse) this.keep(chunk.subarray(start));
      else this.pieces.push(chunk.subarray(start));
      this.held += chunk.length - start;
      for (let i = start; this.first < 0 && i < chunk.length; i++) {
        const c = chunk[i]!;
        if (c !== 0x20 && c !== 0x09 && c !== 0x0d) this.first = c;
      }
    }
  }

  private forget(): void {
    this.pieces = [];
    this.held = 0;
    this.first = -1;
  }

  /** Calls onLine with a last line that has no '\n', if any. */
  end(onLine: (line: Buffer) => void): void {
    if (this.held === 0) return;
    onLine(this.join(this.held));
  }

  /** The unfinished line so far, taken out (the framer then holds nothing; with `reuse`, valid until the next write). */
  takePending(): Buffer {
    return this.join(this.held);
  }

  /** Reuse: appends bytes of the unfinished line to the kept buffer. */
  private keep(bytes: Buffer): void {
    const need = this.held + bytes.length;
    if (!this.joined || this.joined.length < need) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, 2 * (this.joined?.length ?? 0), 64 * 1024));
      if (this.joined) copyBytes(this.joined, 0, this.held, grown, 0);
      this.joined = grown;
    }
    copyBytes(bytes, 0, bytes.length, this.joined, this.held);
  }

  /** The unfinished line (`length` bytes), whole; forgets it. */
  private join(length: number): Buffer {
    let line: Buffer;
    if (this.reuse) {
      line = this.joined!.subarray(0, length);
      // A huge line's buffer is not kept for the lines after it.
      if (this.joined!.length > REUSE_MAX) this.joined = undefined;
    } else {
      line = Buffer.concat(this.pieces, length);
    }
    this.forget();
    return line;
  }
}

