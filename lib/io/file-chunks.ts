/**
 * A file read as a stream of chunks whose memory is reused. fs.ReadStream
 * allocates a new buffer for every read; 1 GiB of input in 1 MiB reads is
 * then 1 GiB of fresh memory, a page fault per 4 KiB (on this project's VMs
 * a host fault each, the largest share of the decoder's page faults).
 *
 * A consumer that is done with a chunk — has copied out everything it
 * keeps — hands it back with recycleChunk(); the next read goes into it. A
 * chunk never handed back is garbage-collected like any buffer, so a
 * consumer that does not know about recycling is safe, only slower. Only
 * the snapshot reader (lib/stages/read-snapshot.ts) recycles: its decoders
 * copy every key and value out of the chunk.
 */
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** Free chunk buffers kept for reuse. */
const MAX_FREE = 8;

const free: ArrayBuffer[] = [];
/** Buffers handed out and not recycled yet. */
const lent = new WeakSet<ArrayBuffer>();

/** Hands a chunk from a FileChunks stream back for reuse (any other buffer is left alone). */
export function recycleChunk(chunk: Buffer): void {
  const ab = chunk.buffer;
  if (!(ab instanceof ArrayBuffer) || !lent.has(ab)) return;
  lent.delete(ab);
  if (free.length < MAX_FREE) free.push(ab);
}

/** Reads `fh` from its start in reads of `readSize` bytes; closes it at the end or on destroy. */
export class FileChunks extends Readable {
  constructor(
    private readonly fh: FileHandle,
    private readonly readSize: number,
  ) {
    // One chunk read ahead, as fs.ReadStream with highWaterMark = readSize.
    super({ highWaterMark: readSize });
  }

  override _read(): void {
    let ab = free.pop();
    while (ab && ab.byteLength < this.readSize) ab = free.pop();
    const buf = ab ? Buffer.from(ab, 0, this.readSize) : Buffer.allocUnsafeSlow(this.readSize);
    lent.add(buf.buffer as ArrayBuffer);
    this.fh.read(buf, 0, this.readSize, null).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          recycleChunk(buf);
          this.push(null);
        } else {
          this.push(buf.subarray(0, bytesRead));
        }
      },
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      (e: Error) => cb(err ?? e),
    );
  }
}
