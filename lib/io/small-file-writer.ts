/**
 * Creates small files (bodies of small objects, sidecars, metadata) for the
 * directory target. A dump of many small objects is bound by file creation,
 * and on one thread the kernel's part of it (open, write, close: 20-60 µs a
 * file on ext4) adds up with the main thread's planning and hashing. So after
 * the first SYNC_FILES files (a small dump never pays for a thread), files
 * are gathered into batches that a worker thread creates, in order, while the
 * main thread goes on. At most MAX_BATCHES are in flight: beyond that
 * write() returns a promise to wait on (backpressure). A batch's byte block
 * moves to the worker and back with its reply, to be filled again: at most
 * MAX_BATCHES + 1 blocks are ever made, however many files (a new block per
 * batch would leave the dead ones to the worker's garbage collector, which
 * runs rarely on a thread that allocates little else). A failure is reported
 * by the next write() or by flush(), as ERR_IO naming the file.
 */
import { writeNewFileSync } from './fs-callbacks.js';
import { Waiters, WorkerThread } from './worker-thread.js';
import { printable } from '../core/printable.js';
import { ioError, type DecodeError } from '../errors.js';

/** One batch: a byte block holding every path and file, and per file FIELDS numbers. */
export interface WriteBatch {
  id: number;
  bytes: Uint8Array;
  /** Per file (FIELDS numbers): path offset, path length, data offset, data length, mode | CHMOD, mtime in seconds (NaN: leave). */
  table: Float64Array;
}

/** Set on a mode when it must be set explicitly (the umask would change it). */
export const CHMOD = 0x10000;

/** Numbers per file in a batch's table. */
export const FIELDS = 6;

/** The worker's reply to a batch: its byte block, handed back for reuse, and the failure if any. */
export type WriteReply = { id: number; bytes: Uint8Array; failed?: { path: Uint8Array; code: string | undefined; message: string } };

/** Files written on the calling thread before the worker is started. */
const SYNC_FILES = 2000;
/** A batch is sent when it holds this many bytes or files. */
const BATCH_BYTES = 256 << 10;
const BATCH_FILES = 256;
const MAX_BATCHES = 4;

export class SmallFileWriter {
  private written = 0;
  private readonly syncFiles: number;
  private worker: WorkerThread<WriteBatch, WriteReply> | undefined;
  private bytes: Buffer = Buffer.allocUnsafeSlow(BATCH_BYTES);
  /** Byte blocks the worker gave back, for the next batches. */
  private readonly spare: Buffer[] = [];
  private blocks = 1;
  private used = 0;
  private table: number[] = [];
  private nextId = 0;
  private readonly inFlight = new Set<number>();
  private readonly waiting = new Waiters();
  private failure: DecodeError | undefined;

  /** syncFiles: files written on the calling thread first (default SYNC_FILES). */
  constructor(opts: { syncFiles?: number } = {}) {
    this.syncFiles = opts.syncFiles ?? SYNC_FILES;
  }

  /**
   * Creates file (which must not exist) with these bytes; mode as given,
   * set explicitly when chmod is true; mtime (seconds) sets its times.
   * Returns a promise only when the caller must wait (too many batches in flight).
   */
  write(file: Buffer, pieces: Iterable<Buffer>, mode: number, chmod: boolean, mtime?: number): Promise<void> | undefined {
    this.check();
    const list = Array.isArray(pieces) ? (pieces as Buffer[]) : null;
    let size = file.length;
    for (const p of list ?? []) size += p.length;
    // Small dumps, and files that do not fit a batch (or come as a lazy
    // iterable, like CHECKSUMS), are written here and now.
    if (this.written++ < this.syncFiles || !list || size > BATCH_BYTES) {
      try {
        writeNewFileSync(file, pieces, mode, chmod, mtime);
      } catch (e) {
        throw ioError(e, printable(file), 'cannot write');
      }
      return undefined;
    }
    if (size > BATCH_BYTES - this.used) this.send();
    const at = this.used;
    file.copy(this.bytes, at);
    let end = at + file.length;
    for (const p of list) end += p.copy(this.bytes, end);
    this.used = end;
    this.table.push(at, file.length, at + file.length, end - at - file.length, mode | (chmod ? CHMOD : 0), mtime ?? NaN);
    if (this.table.length >= BATCH_FILES * FIELDS) this.send();
    return this.inFlight.size >= MAX_BATCHES ? this.room() : undefined;
  }

  /** Batch byte blocks made so far (they are reused: at most MAX_BATCHES + 1). */
  get blocksMade(): number {
    return this.blocks;
  }

  /** Resolves once every file written so far exists (or rejects with the first failure). */
  async flush(): Promise<void> {
    this.check();
    this.send();
    while (this.inFlight.size > 0) {
      await this.waiting.wait();
      this.check();
    }
  }

  /** Stops the worker (after a failure or at the end); files not yet written are not. */
  async close(): Promise<void> {
    // Whoever still waits for room or a flush must not wait forever.
    this.failure ??= ioError(new Error('the file writer was closed'), 'file writer thread');
    this.waiting.wakeAll();
    const w = this.worker;
    this.worker = undefined;
    // Referenced until it has exited: else the process could end here,
    // before the caller's cleanup (exit code 13, staging left behind).
    await w?.close();
  }

  private async room(): Promise<void> {
    while (this.inFlight.size >= MAX_BATCHES) {
      await this.waiting.wait();
      this.check();
    }
  }

  private send(): void {
    if (this.table.length === 0) return;
    const batch: WriteBatch = { id: this.nextId++, bytes: this.bytes.subarray(0, this.used), table: Float64Array.from(this.table) };
    // The batch's bytes move to the worker (no copy); a new block is taken.
    const worker = (this.worker ??= this.spawn());
    worker.post(batch, [batch.bytes.buffer as ArrayBuffer, batch.table.buffer as ArrayBuffer]);
    // Referenced while it has work: a pending promise alone would not keep
    // the process alive until the files exist.
    worker.busy();
    this.inFlight.add(batch.id);
    this.bytes = this.spare.pop() ?? this.newBlock();
    this.used = 0;
    this.table = [];
  }

  private newBlock(): Buffer {
    this.blocks++;
    return Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  private spawn(): WorkerThread<WriteBatch, WriteReply> {
    const thread: WorkerThread<WriteBatch, WriteReply> = new WorkerThread(new URL('./file-writer-worker.js', import.meta.url), {
      // A small heap: the thread allocates little besides each batch's table.
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
      onMessage: (m) => {
        if (this.inFlight.delete(m.id)) thread.done();
        this.spare.push(Buffer.from(m.bytes.buffer, 0, BATCH_BYTES));
        if (m.failed) {
          const { path, code, message } = m.failed;
          this.failure ??= ioError(Object.assign(new Error(message), { code }), printable(Buffer.from(path)), 'cannot write');
        }
        this.waiting.wakeAll();
      },
      onFailure: (err) => {
        this.failure ??= ioError(err, 'file writer thread');
        this.waiting.wakeAll();
      },
    });
    return thread;
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
