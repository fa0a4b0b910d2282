/**
 * Native snapshot reader: bytes in (writable side), SnapshotRecord objects
 * out (readable side). A thin Transform over FsmDecoder (SPEC §3.2).
 *
 * Emits 'header' (SnapshotHeader, format 'fsm') once the preamble is read,
 * before the first record. Corruption fails the stream with the decoder's
 * DecodeError. Backpressure: the Transform machinery holds back the next
 * input chunk until the records of the previous one are consumed below the
 * readable highWaterMark; the records of one chunk are pushed together.
 */
import { Transform, type TransformCallback, type TransformOptions } from 'node:stream';
import { FsmDecoder, type FsmDecoderOptions } from '../core/fsm-decoder.js';
import type { SnapshotHeader, SnapshotRecord } from '../types.js';

export interface FsmReaderOptions extends Omit<FsmDecoderOptions, 'onHeader'> {
  /** Records buffered on the readable side before backpressure (default 16). */
  readableHighWaterMark?: number;
  /** Bytes buffered on the writable side (default: Node's 16 KiB). */
  writableHighWaterMark?: number;
}

export class FsmReader extends Transform {
  readonly decoder: FsmDecoder;
  /** The header, once known (also announced by the 'header' event). */
  header: SnapshotHeader | undefined;

  constructor(opts: FsmReaderOptions = {}) {
    const t: TransformOptions = { readableObjectMode: true, writableObjectMode: false, readableHighWaterMark: opts.readableHighWaterMark ?? 16 };
    if (opts.writableHighWaterMark !== undefined) t.writableHighWaterMark = opts.writableHighWaterMark;
    super(t);
    this.decoder = new FsmDecoder({
      ...opts,
      onHeader: (h) => {
        this.header = h;
        this.emit('header', h);
      },
    });
  }

  /** Bytes decoded so far. */
  get bytesRead(): number {
    return this.decoder.bytesConsumed;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.decoder.write(chunk, (rec: SnapshotRecord) => {
        this.push(rec);
      });
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.decoder.end();
    } catch (err) {
      cb(err as Error);
      return;
    }
    cb();
  }
}

export function createFsmReader(opts: FsmReaderOptions = {}): FsmReader {
  return new FsmReader(opts);
}
