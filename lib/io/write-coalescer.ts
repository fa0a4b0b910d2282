/**
 * Gathers the small chunks of a byte stream into larger ones before they
 * are written. tar-stream pushes every header (512 bytes), body and padding
 * as a chunk of its own, and Node writes each chunk given to stdout as a
 * write() of its own (stdout to a file or a pipe is synchronous on Linux):
 * a tar of 100 000 objects of 1 KiB cost the main thread 3.0 s in
 * `writeBuffer`, ~6 µs for each of its 500 000 chunks. Chunks shorter than
 * PASS_BYTES are copied into a buffer of `bytes` pushed when full (and at
 * the end); longer ones (body pieces) follow the buffered bytes as they
 * are, without a copy. Order is kept.
 *
 * With `recycle`, pieces taken from a RecycledBuffers are handed back once
 * `dest` (the stream this one is piped into, and nothing else) has written
 * them: the bytes pushed, less those still in this stream's queue and those
 * `dest` has been given but not written (its writableLength, lowered only
 * when a write has completed), are out. Only for a `dest` that is done
 * with a chunk when its write completes (a file, a socket or pipe, zlib):
 * a PassThrough keeps what it is given for its reader.
 */
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import type { RecycledBuffers } from './recycled-buffers.js';

/** Default size of the chunks pushed: below malloc's mmap threshold, so their memory is reused rather than mapped afresh. */
export const COALESCE_BYTES = 64 * 1024;

/** Where recycled pieces go back to, and the stream whose completed writes say when. */
export interface Recycle {
  buffers: RecycledBuffers;
  dest: Writable;
}

/** Byte-stream stage gathering chunks shorter than a quarter of `bytes` into chunks of `bytes` (see above). */
export class WriteCoalescer extends Transform {
  private buf: Buffer;
  private used = 0;
  /** Chunks at least this long are passed on without a copy. */
  private readonly passBytes: number;
  /** Bytes pushed so far. */
  private pushed = 0;
  /** Recycled pieces pushed and not handed back yet, each with the count of bytes pushed up to its end, in order. */
  private readonly inFlight: { end: number; chunk: Buffer }[] = [];

  constructor(
    private readonly bytes = COALESCE_BYTES,
    private readonly recycle?: Recycle,
  ) {
    super();
    this.buf = Buffer.allocUnsafe(bytes);
    this.passBytes = Math.max(1, bytes >> 2);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.handBack();
    if (chunk.length >= this.passBytes) {
      this.pushBuffered();
      this.pushed += chunk.length;
      if (this.recycle?.buffers.owns(chunk)) this.inFlight.push({ end: this.pushed, chunk });
      this.push(chunk);
      return cb();
    }
    if (this.used + chunk.length > this.bytes) this.pushBuffered();
    chunk.copy(this.buf, this.used);
    this.used += chunk.length;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    this.pushBuffered();
    cb();
  }

  private pushBuffered(): void {
    if (this.used === 0) return;
    // A new buffer: the one pushed is the consumer's until it has written it.
    this.pushed += this.used;
    this.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(this.bytes);
    this.used = 0;
  }

  /** Hands back the recycled pieces that dest has written (see above). */
  private handBack(): void {
    if (!this.recycle || this.inFlight.length === 0) return;
    const written = this.pushed - this.readableLength - this.recycle.dest.writableLength;
    while (this.inFlight.length > 0 && this.inFlight[0]!.end <= written) this.recycle.buffers.giveBack(this.inFlight.shift()!.chunk);
  }
}

/** A WriteCoalescer pushing chunks of `bytes` (default COALESCE_BYTES), handing recycled pieces back when `recycle` is given. */
export function createWriteCoalescer(bytes?: number, recycle?: Recycle): WriteCoalescer {
  return new WriteCoalescer(bytes, recycle);
}
