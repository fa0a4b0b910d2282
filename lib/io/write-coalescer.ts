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
 */
import { Transform, type TransformCallback } from 'node:stream';

/** Default size of the chunks pushed: below malloc's mmap threshold, so their memory is reused rather than mapped afresh. */
export const COALESCE_BYTES = 64 * 1024;

/** Byte-stream stage gathering chunks shorter than a quarter of `bytes` into chunks of `bytes` (see above). */
export class WriteCoalescer extends Transform {
  private buf: Buffer;
  private used = 0;
  /** Chunks at least this long are passed on without a copy. */
  private readonly passBytes: number;

  constructor(private readonly bytes = COALESCE_BYTES) {
    super();
    this.buf = Buffer.allocUnsafe(bytes);
    this.passBytes = Math.max(1, bytes >> 2);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length >= this.passBytes) {
      this.pushBuffered();
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
    this.push(this.buf.subarray(0, this.used));
    this.buf = Buffer.allocUnsafe(this.bytes);
    this.used = 0;
  }
}

/** A WriteCoalescer pushing chunks of `bytes` (default COALESCE_BYTES). */
export function createWriteCoalescer(bytes?: number): WriteCoalescer {
  return new WriteCoalescer(bytes);
}
