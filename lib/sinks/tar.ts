/**
 * Tar target (SPEC §2): the dump as a POSIX tar stream (ustar, with pax
 * headers for long or non-ASCII names) written by tar-stream. tar needs each
 * entry's size up front and cannot take an entry back, so a body is verified
 * before it is written: from its run's hashes when it is one whole run, else
 * by a hash-only read of its chunks. A bucket's entries are queued and written
 * in CHECKSUMS order (bytewise by path) at the end of the bucket; buckets
 * arrive in that order already. MANIFEST.json and CHECKSUMS come last.
 */
import { once } from 'node:events';
import tar from 'tar-stream';
import { DecodeError } from '../errors.js';
import type { ObjectPlan } from '../core/plan.js';
import type { SpillLocation } from '../types.js';
import { SegmentReader, streamBody, verifyRun } from './body.js';
import { DumpSink, type DumpSinkOptions } from './dump-sink.js';
import type { Target } from './target.js';

const DIR_MODE = 0o755;
const COPY_BUFFER = 1 << 20;

/** A queued body: only where its bytes are in scratch (read again when written), not the bytes. */
type BodyRef = { size: number; locations: SpillLocation[] };

type Entry = { rel: Buffer; mode: number } & ({ data: Buffer } | { body: BodyRef } | { size: number; pieces: Iterable<Buffer> });

export class TarTarget implements Target {
  private queue: Entry[] = [];
  private readonly madeDirs = new Set<string>();

  constructor(
    private readonly pack: tar.Pack,
    private readonly reader: SegmentReader,
    private readonly mtime: Date,
  ) {}

  async body(rel: Buffer, obj: ObjectPlan, verify: boolean, ctx: { bucket: Buffer; object: Buffer }): Promise<Buffer | DecodeError> {
    if (!Buffer.from(rel.toString('utf8'), 'utf8').equals(rel)) {
      return new DecodeError('ERR_S3_MALFORMED_KEY', 'object key is not UTF-8: a tar archive cannot name it (write a directory with -o)', ctx, 'object');
    }
    let sha256: Buffer | DecodeError;
    if (obj.run?.hashes) {
      const err = verify ? await verifyRun(obj, this.reader, ctx) : null;
      sha256 = err ?? obj.run.hashes.sha256;
    } else {
      // Verified by a hash-only read now; the bytes are read again (from the
      // page cache) when the entry is written, so a bucket's bodies are never
      // held in memory while its entries wait for their turn.
      sha256 = await streamBody(obj, this.reader, verify, ctx);
    }
    if (!(sha256 instanceof DecodeError)) this.queue.push({ rel, mode: 0o600, body: { size: obj.size, locations: obj.parts.flatMap((p) => p.pieces) } });
    return sha256;
  }

  async file(rel: Buffer, data: Buffer, mode: number): Promise<void> {
    this.queue.push({ rel, mode, data });
  }

  async fileInPieces(rel: Buffer, size: number, pieces: Iterable<Buffer>, mode: number): Promise<void> {
    this.queue.push({ rel, mode, size, pieces });
  }

  async endBucket(): Promise<void> {
    this.queue.sort((x, y) => Buffer.compare(x.rel, y.rel));
    await this.flush();
  }

  async finish(): Promise<void> {
    await this.flush();
    this.pack.finalize();
  }

  async close(): Promise<void> {
    this.reader.close();
  }

  private async flush(): Promise<void> {
    const entries = this.queue;
    this.queue = [];
    for (const e of entries) {
      const name = e.rel.toString('utf8');
      await this.parents(name);
      if ('data' in e) {
        await this.entry({ name, size: e.data.length, mode: e.mode }, async (w) => w(e.data));
      } else if ('pieces' in e) {
        await this.entry({ name, size: e.size, mode: e.mode }, async (w) => {
          for (const piece of e.pieces) await w(piece);
        });
      } else {
        const body = e.body;
        await this.entry({ name, size: body.size, mode: e.mode }, async (w) => {
          const buf = Buffer.allocUnsafe(Math.min(COPY_BUFFER, Math.max(body.size, 1)));
          for (const loc of body.locations) {
            for (let off = 0; off < loc.length; off += buf.length) {
              const n = Math.min(buf.length, loc.length - off);
              this.reader.read(loc.segment.path, buf, n, loc.offset + off);
              // The entry keeps a reference to what it is given until written: copy.
              await w(Buffer.from(buf.subarray(0, n)));
            }
          }
        });
      }
    }
  }

  /** Directory entries for every ancestor not written yet. */
  private async parents(name: string): Promise<void> {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.madeDirs.has(dir)) continue;
      this.madeDirs.add(dir);
      await this.entry({ name: dir, type: 'directory', mode: DIR_MODE }, null);
    }
  }

  /** Adds one entry, honouring the pack's backpressure. */
  private async entry(header: Partial<tar.Header> & { name: string }, fill: ((write: (b: Buffer) => Promise<void>) => Promise<void>) | null): Promise<void> {
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

export interface TarSinkOptions extends DumpSinkOptions {
  /** The tar-stream pack the entries go to; pipe it to stdout (or gzip). */
  pack: tar.Pack;
  mtime?: Date;
}

/** The finalizing sink writing a tar stream. */
export function createTarSink(opts: TarSinkOptions): DumpSink {
  const reader = new SegmentReader();
  return new DumpSink(new TarTarget(opts.pack, reader, opts.mtime ?? new Date()), opts, reader);
}
