/**
 * Splits a byte stream into '\n'-terminated lines, fed chunk by chunk. A
 * partial line is kept as a list of pieces and joined once, when its
 * newline arrives, so a 1.4 MB base64 line costs one copy no matter how many
 * chunks it spans (split2 re-splits its whole carry-over per chunk). A line
 * inside one chunk is a zero-copy view of it.
 */
export class LineFramer {
  private pieces: Buffer[] = [];
  /** Bytes of the unfinished line held in pieces. */
  private held = 0;
  /** The unfinished line's first byte that is not JSON whitespace (-1: none yet). */
  private first = -1;

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
      if (this.pieces.length > 0) {
        this.pieces.push(line);
        line = Buffer.concat(this.pieces);
        this.forget();
      }
      onLine(line);
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.pieces.push(chunk.subarray(start));
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
    if (this.pieces.length === 0) return;
    const line = Buffer.concat(this.pieces);
    this.forget();
    onLine(line);
  }
}

