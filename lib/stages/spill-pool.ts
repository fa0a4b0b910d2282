/**
 * The spiller's pool (lib/stages/spill.ts): the one spill file for every
 * chunk that continues no run, and for offloaded chunkblob payloads. Small
 * payloads are gathered in a batch buffer and written POOL_BATCH_BYTES at a
 * time: one write per small object would cost a thread-pool round trip
 * each. Nothing reads the pool before the spiller has flushed it.
 */
import type { DecodeError } from '../errors.js';
import { closeFd, openExclusive, writeAll, type Done } from '../io/fs-callbacks.js';
import type { Span, SpillFile } from '../types.js';

/** Pool writes are gathered up to this size. */
const POOL_BATCH_BYTES = 1 << 20;

/** The pool spill file, open for appending. */
export class SpillPool {
  /** Bytes appended so far: where the next payload goes. */
  size = 0;
  /** Small payloads not written yet, which belong at batchOffset. */
  private readonly batch = Buffer.allocUnsafe(POOL_BATCH_BYTES);
  private batchLength = 0;
  private batchOffset = 0;

  private constructor(
    readonly file: SpillFile,
    private readonly fd: number,
  ) {}

  /** Creates the pool file (it must not exist). */
  static open(file: SpillFile, done: (err: DecodeError | null, pool?: SpillPool) => void): void {
    openExclusive(file.path, (err, fd) => (err || fd === undefined ? done(err) : done(null, new SpillPool(file, fd))));
  }

  /** Appends a payload; calls back with its span once it is written or copied into the batch (the caller may then reuse it). */
  append(payload: Buffer, done: (err: DecodeError | null, span?: Span) => void): void {
    const span: Span = { file: this.file, offset: this.size, length: payload.length };
    this.size += payload.length;
    if (payload.length >= POOL_BATCH_BYTES) {
      return this.flush((e) => {
        if (e) return done(e);
        writeAll(this.fd, payload, span.offset, this.file.path, (e2) => (e2 ? done(e2) : done(null, span)));
      });
    }
    if (this.batchLength + payload.length > POOL_BATCH_BYTES) {
      return this.flush((e) => {
        if (e) return done(e);
        this.toBatch(payload);
        done(null, span);
      });
    }
    this.toBatch(payload);
    done(null, span);
  }

  /** Writes the batch. */
  flush(done: Done): void {
    if (this.batchLength === 0) return done();
    const bytes = this.batch.subarray(0, this.batchLength);
    this.batchLength = 0;
    writeAll(this.fd, bytes, this.batchOffset, this.file.path, done);
  }

  /** Writes the batch and closes the file. */
  close(done: Done): void {
    this.flush((err) => (err ? done(err) : closeFd(this.fd, this.file.path, done)));
  }

  /** Closes the file without writing the batch (the spill is being abandoned). */
  abandon(): void {
    closeFd(this.fd, this.file.path, () => {});
  }

  private toBatch(payload: Buffer): void {
    if (this.batchLength === 0) this.batchOffset = this.size - payload.length;
    payload.copy(this.batch, this.batchLength);
    this.batchLength += payload.length;
  }
}
