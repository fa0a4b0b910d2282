/**
 * A file read as a stream of chunks in shared memory that is reused.
 * fs.ReadStream allocates a new buffer for every read; 1 GiB of input in
 * 1 MiB reads is then 1 GiB of fresh memory, a page fault per 4 KiB (on
 * this project's VMs a host fault each, the largest share of the decoder's
 * page faults).
 *
 * With `shared`, each chunk is a held shared buffer
 * (lib/io/shared-blocks.ts). A consumer that is done with it hands it back
 * (recycleChunk) and the next read goes into it once every view of it kept
 * meanwhile (a blob chunk passed on without a copy: viewOf) is released
 * too. Only the snapshot reader (lib/stages/read-snapshot.ts) and
 * FsmToJsonl hand chunks back, so only their inputs are read this way: a
 * shared chunk never handed back is freed by the garbage collector, but
 * late (see lib/io/input-file.ts). Otherwise each read gets a new buffer.
 */
import { Readable } from 'node:stream';
import { release, takeShared } from './shared-blocks.js';

/** Chunks handed out and not recycled yet. */
const lent = new WeakSet<SharedArrayBuffer>();

/** A buffer to read `size` bytes into: a shared one, lent until recycleChunk(), or a new one. */
export function chunkBuffer(size: number, shared: boolean): Buffer {
  if (!shared) return Buffer.allocUnsafeSlow(size);
  const buf = takeShared(size);
  lent.add(buf.buffer as SharedArrayBuffer);
  return buf;
}

/** Hands a chunk from a FileChunks stream back: its hold is released (any other buffer is left alone). */
export function recycleChunk(chunk: Buffer): void {
  const sab = chunk.buffer;
  if (!(sab instanceof SharedArrayBuffer) || !lent.has(sab)) return;
  lent.delete(sab);
  release(sab);
}

/** What FileChunks reads: a FileHandle, or anything read the same way (descriptor 0, lib/io/stdin.ts). */
export interface ChunkSource {
  /** Reads at the current position (position null). */
  read(buffer: Buffer, offset: number, length: number, position: null): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** Reads `fh` from its current position in reads of `readSize` bytes; closes it at the end or on destroy. */
export class FileChunks extends Readable {
  constructor(
    private readonly fh: ChunkSource,
    private readonly readSize: number,
    private readonly shared = false,
  ) {
    // One chunk read ahead, as fs.ReadStream with highWaterMark = readSize.
    super({ highWaterMark: readSize });
  }

  override _read(): void {
    const buf = chunkBuffer(this.readSize, this.shared);
    this.fh.read(buf, 0, this.readSize, null).then(
      ({ bytesRead }) => {
        if (bytesRead === 0) {
          recycleChunk(buf);
          this.push(null);
        } else {
          this.push(buf.subarray(0, bytesRead));
        }
      },
      (err: Error) => {
        recycleChunk(buf);
        this.destroy(err);
      },
    );
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.fh.close().then(
      () => cb(err),
      (e: Error) => cb(err ?? e),
    );
  }
}
