/**
 * Tar target (SPEC §2): the dump as a POSIX tar stream (ustar, with pax
 * headers for long or non-ASCII names, and raw-byte pax names for keys that
 * are not UTF-8: lib/core/pax.ts) written by tar-stream. tar needs each
 * entry's size up front and cannot take an entry back, and entries go out
 * in CHECKSUMS order (bytewise by path), so a bucket's entries are queued
 * (TarQueue: records sorted on disk beyond a memory budget) — a body as its spans, which
 * this target reads again when the bucket ends (the sink has verified it
 * by then, by a hash-only read) — and written at the end of the bucket;
 * buckets arrive in that order already. MANIFEST.json and CHECKSUMS come
 * last.
 */
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import os from 'node:os';
import tar from 'tar-stream';
import { asciiFallbackName, binaryPathPaxEntry } from '../core/pax.js';
import { allocSmall } from '../core/slab.js';
import { PositionedReader } from '../io/positioned-reader.js';
import { ScratchFile } from '../io/scratch-file.js';
import { takeValueBuffer } from '../io/shared-blocks.js';
import type { SealedRun, Span } from '../types.js';
import { DumpSink, type DumpSinkOptions } from './dump-sink.js';
import { TarQueue, type TarQueueOptions } from './tar-queue.js';
import type { BodyWriter, Target } from './target.js';

const DIR_MODE = 0o755;
const COPY_BUFFER = 1 << 20;
/** Files given in more pieces than this many bytes (CHECKSUMS of a big dump) are consumed only when written. */
const SMALL_FILE_BYTES = 1 << 20;

export class TarTarget implements Target {
  /** Queued small files' bytes, until they are written. */
  private readonly smallFiles: ScratchFile;
  private queue: TarQueue;
  private readonly queueOptions: TarQueueOptions;
  /** The directories holding the last entry written, outermost first, each with a trailing '/'. */
  private readonly openDirs: string[] = [];

  /** Reads queued bodies' spans when their entries are written. */
  private readonly reader = new PositionedReader();

  constructor(
    private readonly pack: tar.Pack,
    private readonly mtime: Date,
    /** Where the small files' scratch file is made (removed by close()). */
    scratchDir: string = os.tmpdir(),
    /** Bodies read back and large files' pieces in shared blocks whose holds the pack's consumer releases (else a new buffer each). */
    private readonly blocks = false,
  ) {
    this.smallFiles = new ScratchFile(scratchDir);
    this.queueOptions = { scratchDir };
    this.queue = new TarQueue(this.smallFiles, this.queueOptions);
  }

  async putRun(rel: Buffer, run: SealedRun, mtime?: number): Promise<boolean> {
    await this.queue.addBody(rel, 0o600, run.size, [{ file: run.file, offset: 0, length: run.size }], mtime);
    return true;
  }

  async putSpans(rel: Buffer, size: number, spans: readonly Span[], mtime?: number): Promise<BodyWriter> {
    return {
      wantsBytes: false,
      write: async () => {},
      commit: async () => {
        await this.queue.addBody(rel, 0o600, size, spans, mtime);
      },
      abort: async () => {},
    };
  }

  async putFile(rel: Buffer, size: number, pieces: Iterable<Buffer>, mode: number): Promise<void> {
    if (size > SMALL_FILE_BYTES) return this.queue.addPieces(rel, mode, size, pieces);
    // Copied as they come: a piece may be overwritten once the next is taken.
    const data = Buffer.allocUnsafe(size);
    let at = 0;
    for (const piece of pieces) at += piece.copy(data, at);
    await this.queue.addFile(rel, mode, data);
  }

  async endBucket(): Promise<void> {
    await this.flush(true);
  }

  async finish(): Promise<void> {
    // MANIFEST.json then CHECKSUMS, as they came.
    await this.flush(false);
    this.pack.finalize();
  }

  async close(): Promise<void> {
    this.reader.close();
    this.smallFiles.close();
  }

  private async flush(sorted: boolean): Promise<void> {
    const queue = this.queue;
    this.queue = new TarQueue(this.smallFiles, this.queueOptions);
    for await (const e of queue.take(sorted)) {
      // latin1: one character per byte, so names that are not UTF-8 survive until entry().
      const name = e.path.toString('latin1');
      await this.parents(name);
      if ('data' in e) {
        await this.entry({ name, size: e.size, mode: e.mode }, async (w) => w(e.data));
      } else if ('pieces' in e) {
        await this.entry({ name, size: e.size, mode: e.mode }, async (w) => {
          // Copies: the entry keeps what it is given until it is written, and a piece may be overwritten once the next is taken.
          for (const piece of e.pieces) {
            const copy = this.buffer(piece.length);
            piece.copy(copy);
            await w(copy);
          }
        });
      } else {
        // A body's entry carries its object's Last-Modified (other entries the run's time).
        await this.entry({ name, size: e.size, mode: e.mode, ...(e.mtime !== undefined ? { mtime: new Date(e.mtime * 1000) } : {}) }, async (w) => {
          for (const span of e.spans) {
            for (let off = 0; off < span.length; off += COPY_BUFFER) {
              // Not the last one again: the entry keeps what it is given until it is written.
              const buf = this.buffer(Math.min(COPY_BUFFER, span.length - off));
              this.reader.read(span.file.path, buf, buf.length, span.offset + off);
              await w(buf);
            }
          }
        });
      }
    }
    // The small files written are read back: their scratch bytes may go.
    if (this.queue.length === 0) this.smallFiles.rewind();
  }

  /** A buffer for `length` bytes that nothing else uses until it is written: a held block (its hold handed to the pack), or new. */
  private buffer(length: number): Buffer {
    return this.blocks ? takeValueBuffer(length) : allocSmall(length);
  }

  /**
   * Directory entries for every ancestor not written yet. Entries come
   * sorted by path, a bucket at a time under a directory of its own, so a
   * directory's entries are contiguous: once left, it is never met again,
   * and only the last entry's directories need remembering (not every
   * directory of the dump).
   */
  private async parents(name: string): Promise<void> {
    const open = this.openDirs;
    let depth = 0;
    while (depth < open.length && name.startsWith(open[depth]!)) depth++;
    open.length = depth;
    for (let i = name.indexOf('/', depth === 0 ? 0 : open[depth - 1]!.length); i >= 0; i = name.indexOf('/', i + 1)) {
      open.push(name.slice(0, i + 1));
      await this.entry({ name: name.slice(0, i), type: 'directory', mode: DIR_MODE }, null);
    }
  }

  /**
   * Adds one entry (its name given in latin1, a character per byte),
   * honouring the pack's backpressure. A name that is not UTF-8 is carried
   * by a pax header of its own (lib/core/pax.ts).
   */
  private async entry(header: Partial<tar.Header> & { name: string }, fill: ((write: (b: Buffer) => Promise<void>) => Promise<void>) | null): Promise<void> {
    const raw = Buffer.from(header.name, 'latin1');
    if (isUtf8(raw)) {
      header.name = raw.toString('utf8');
    } else {
      // Between entries (the previous one is wholly pushed once entry() resolves), so the blocks stay in order.
      this.pack.push(binaryPathPaxEntry(raw, header.mtime ?? this.mtime));
      header.name = asciiFallbackName(raw);
    }
    const done = new Promise<void>((resolve, reject) => {
      const sink = this.pack.entry({ mtime: this.mtime, ...header }, (err) => (err ? reject(err) : resolve()));
      // When the pack is destroyed (its consumer failed: EPIPE, ENOSPC, or an
      // abort) it destroys this entry too, which then emits 'error': without a
      // listener that is an uncaught exception that skips all cleanup.
      sink.on('error', reject);
      const write = async (b: Buffer) => {
        if (!sink.write(b)) await once(sink, 'drain');
      };
      (fill ? fill(write) : Promise.resolve()).then(
        () => sink.end(undefined),
        (err: unknown) => {
          sink.destroy(err as Error);
          reject(err);
        },
      );
    });
    await done;
  }
}

/** Options of createTarSink(). */
export interface TarSinkOptions extends DumpSinkOptions {
  /** The tar-stream pack the entries go to; pipe it to stdout (or gzip). */
  pack: tar.Pack;
  mtime?: Date;
  /** Where small files (sidecars, …) wait for their bucket's turn, in a scratch file (default: the OS temp dir). */
  scratchDir?: string;
  /**
   * Put the bodies read back and CHECKSUMS' pieces in shared blocks
   * (lib/io/shared-blocks.ts), each hold handed to the pack: for a consumer
   * that releases them once written (a WriteCoalescer given `writtenBy`).
   * Without it each piece gets a new buffer.
   */
  blocks?: boolean;
}

/** The finalizing sink writing a tar stream. */
export function createTarSink(opts: TarSinkOptions): DumpSink {
  return new DumpSink(new TarTarget(opts.pack, opts.mtime ?? new Date(), opts.scratchDir, opts.blocks), opts);
}
