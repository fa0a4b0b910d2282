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
 * With `writtenBy` (the stream this one is piped into, and nothing else),
 * buffers go back to the shared blocks' free lists (lib/io/shared-blocks.ts)
 * once `writtenBy` has written them, instead of to the garbage collector,
 * which V8 runs for them only after ~64 MiB of new external memory (Node 24:
 * CHECKSUMS of a million objects raised a tar run's peak by ~95 MiB). Both
 * kinds: this stream's own gathered chunks, and pieces that come in a held
 * block — whoever puts a block into the stream hands its hold over (the tar
 * target, lib/sinks/tar.ts). A chunk is written once the bytes pushed, less
 * those still in this stream's queue and those `writtenBy` has been given
 * but not written (its writableLength, lowered only when a write has
 * completed), reach past its end. Only for a stream that is done with a
 * chunk when its write completes (a file, a socket or pipe, zlib): a
 * PassThrough keeps what it is given for its reader.
 */
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { blockOf, releaseBlock, takeShared } from './shared-blocks.js';

/** Default size of the chunks pushed: below malloc's mmap threshold, so their memory is reused rather than mapped afresh. */
export const COALESCE_BYTES = 64 * 1024;

/** Byte-stream stage gathering chunks shorter than a quarter of `bytes` into chunks of `bytes` (see above). */
export class WriteCoalescer extends Transform {
  private buf: Buffer;
  private used = 0;
  /** Chunks at least this long are passed on without a copy. */
  private readonly passBytes: number;
  /** Bytes pushed so far. */
  private pushed = 0;
  /** Chunks in held blocks pushed and not released yet, each with the count of bytes pushed up to its end, in order. */
  private readonly inFlight: { end: number; chunk: Buffer }[] = [];

  constructor(
    private readonly bytes = COALESCE_BYTES,
    private readonly writtenBy?: Writable,
  ) {
    super();
    this.buf = this.newBuffer();
    this.passBytes = Math.max(1, bytes >> 2);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.releaseWritten();
    if (chunk.length >= this.passBytes) {
      this.pushBuffered();
      this.pushOut(chunk);
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
    // Another buffer: the one pushed is the consumer's until it has written it.
    this.pushOut(this.buf.subarray(0, this.used));
    this.buf = this.newBuffer();
    this.used = 0;
  }

  private pushOut(chunk: Buffer): void {
    this.pushed += chunk.length;
    if (this.writtenBy && blockOf(chunk)) this.inFlight.push({ end: this.pushed, chunk });
    this.push(chunk);
  }

  /** A buffer to gather into: a held shared one when written chunks are released (see above). */
  private newBuffer(): Buffer {
    return this.writtenBy ? takeShared(this.bytes) : Buffer.allocUnsafe(this.bytes);
  }

  /** Releases the blocks of the chunks writtenBy has written (see above). */
  private releaseWritten(): void {
    if (!this.writtenBy || this.inFlight.length === 0) return;
    const written = this.pushed - this.readableLength - this.writtenBy.writableLength;
    while (this.inFlight.length > 0 && this.inFlight[0]!.end <= written) releaseBlock(this.inFlight.shift()!.chunk);
  }
}

/** A WriteCoalescer pushing chunks of `bytes` (default COALESCE_BYTES), releasing written blocks when `writtenBy` is given (see above). */
export function createWriteCoalescer(bytes?: number, writtenBy?: Writable): WriteCoalescer {
  return new WriteCoalescer(bytes, writtenBy);
}
