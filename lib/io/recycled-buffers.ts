/**
 * Buffers for the pieces a tar stream is given (bodies read back, CHECKSUMS),
 * used again once the stream's consumer has written them.
 *
 * Why: the tar target must hand tar-stream a buffer it will not touch until
 * the bytes are out, so it took a new one for every piece. Those are freed
 * only by a garbage collection, which V8 starts once some 64 MiB of new
 * external memory has piled up (Node 24; Node 20 and 22 free them sooner).
 * The 210 MB of CHECKSUMS of a million objects, written in the last second
 * of a run, raised the peak by ~95 MiB on Node 24.
 *
 * Only the last writer knows when a piece is out; the write coalescer
 * (lib/io/write-coalescer.ts) watches it and hands pieces back here.
 */

/** Size of each recycled buffer (a 1 MiB piece and a line of CHECKSUMS); longer pieces get buffers of their own. */
export const RECYCLED_BYTES = (1 << 20) + (64 << 10);
/**
 * Shorter pieces get buffers of their own: the write coalescer copies
 * pieces under a quarter of its 64 KiB, so theirs would never come back,
 * and a small new buffer is cheap (under 4 KiB Node cuts it from a slab).
 */
export const RECYCLED_MIN_BYTES = 64 * 1024;
/** Free buffers kept at most; more are left to the garbage collector. */
const KEEP = 8;

/**
 * A pool of buffers for a tar stream's pieces: take() one and fill it, and
 * whatever knows the piece has been written hands it back (giveBack()).
 * A buffer never handed back is left to the garbage collector.
 */
export class RecycledBuffers {
  private readonly free: Buffer[] = [];
  /** Buffers taken and not handed back, by their memory (weakly: one never handed back is the collector's). */
  private readonly lent = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(
    private readonly bytes = RECYCLED_BYTES,
    private readonly minBytes = RECYCLED_MIN_BYTES,
  ) {}

  /** A buffer of `length` bytes, recycled when it is one the pool serves (the caller fills it). */
  take(length: number): Buffer {
    if (length > this.bytes || length < this.minBytes) return Buffer.allocUnsafe(length);
    const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(this.bytes);
    this.lent.set(buf.buffer, buf);
    return buf.subarray(0, length);
  }

  /** Whether `chunk` lies in a buffer taken from here and not handed back. */
  owns(chunk: Buffer): boolean {
    return this.lent.has(chunk.buffer);
  }

  /** Hands back the buffer `chunk` lies in: its bytes have been written and it may be taken again. */
  giveBack(chunk: Buffer): void {
    const buf = this.lent.get(chunk.buffer);
    if (!buf) return;
    this.lent.delete(chunk.buffer);
    if (this.free.length < KEEP) this.free.push(buf);
  }
}
