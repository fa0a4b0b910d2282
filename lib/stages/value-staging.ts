/**
 * Where the value of a long JSON line waits for the end of its line. Its
 * record cannot go downstream before that — `commit_ts` and `tombstone`
 * usually follow `value` — so the value, decoded as it arrives, is written
 * to an anonymous scratch file (nothing is left behind, whatever happens)
 * and read back as ValuePieces once the record is known. Memory: a block.
 */
import { ScratchFile } from '../io/scratch-file.js';
import { BLOCK_BYTES, releaseBlock, takeValueBuffer } from '../io/shared-blocks.js';
import type { ValuePiece } from '../types.js';

/** The staged value of the long line being read. */
export class ValueStaging {
  private file: ScratchFile | undefined;

  /** `dir` names the scratch directory when the first value is staged. */
  constructor(private readonly dir: () => string) {}

  /** Keeps a block of the value (and releases the block). */
  stage(bytes: Buffer): void {
    this.file ??= new ScratchFile(this.dir(), { name: 'jsonl-value-', anonymous: true, batchBytes: 64 * 1024 });
    this.file.append(bytes);
    releaseBlock(bytes);
  }

  /** Forgets what is staged (a tombstone's value). */
  discard(): void {
    this.file?.rewind();
  }

  /** Hands the staged value (`length` bytes) to `push` as pieces of a block, waiting for it each time; then forgets it. */
  async pieces(length: number, push: (piece: ValuePiece) => Promise<void> | void): Promise<void> {
    const file = this.file!;
    file.flush();
    for (let at = 0; at < length; at += BLOCK_BYTES) {
      const n = Math.min(BLOCK_BYTES, length - at);
      const bytes = takeValueBuffer(n);
      file.readInto(bytes, 0, n, at);
      await push({ kind: 'piece', bytes, last: at + n === length });
    }
    file.rewind();
  }

  close(): void {
    this.file?.close();
  }
}
