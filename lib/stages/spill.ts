/**
 * Blob spiller: the only stage that writes chunk payloads. Each blob chunk is
 * written to scratch as it arrives and replaced downstream by a payload-free
 * descriptor (SpillLocation).
 *
 * Chunks that continue the current run (same bucket, generation, object and
 * upload; next chunk of the same part version, or chunk 0 of a later part)
 * are appended to that run's file, hashing as they go; a chunk 0 that
 * continues nothing starts a new run; anything else goes to a shared pool
 * file. In a sorted native snapshot every object's chunks form one run, so a
 * manifest that selects exactly that run publishes it by rename: one disk
 * write per body byte (SPEC §9). Offloaded chunkblob payloads are verified
 * against their digest and stored once per digest in the pool.
 */
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { DecodeError } from '../errors.js';
import { closeFd, openExclusive, writeAll, type Done } from '../core/fs-callbacks.js';
import type { BlobRecord, ChunkAddress, ChunkBlobRecord, ClassifiedRecord, RunInfo, SpillLocation, SpillSegment, SpilledRecord } from '../types.js';

export interface SpillerOptions {
  /** Directory for scratch files; must exist. */
  scratchDir: string;
  /** Compute MD5s of runs for ETag checks (default true; off with --no-verify). */
  md5?: boolean;
}

export interface SpillerStats {
  runs: number;
  runBytes: number;
  poolBytes: number;
}

interface OpenFile {
  segment: SpillSegment;
  fd: number;
}

interface OpenRun extends OpenFile {
  info: RunInfo;
  sha: Hash;
  md5Part: Hash | undefined;
  md5Whole: Hash | undefined;
}

export class BlobSpiller extends Transform {
  readonly stats: SpillerStats = { runs: 0, runBytes: 0, poolBytes: 0 };
  private readonly scratchDir: string;
  private readonly md5: boolean;
  private nextId = 0;
  private run: OpenRun | null = null;
  private pool: OpenFile | null = null;
  private readonly storedBlobs = new Map<string, SpillLocation>();

  constructor(opts: SpillerOptions) {
    super({ objectMode: true, highWaterMark: 16 });
    this.scratchDir = opts.scratchDir;
    this.md5 = opts.md5 ?? true;
  }

  override _transform(rec: ClassifiedRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    if (rec.kind === 'blob') return this.spillBlob(rec, cb);
    if (rec.kind === 'chunkblob') return this.spillChunkBlob(rec, cb);
    cb(null, rec satisfies SpilledRecord);
  }

  override _flush(cb: TransformCallback): void {
    this.sealRun((err) => {
      if (err) return cb(err);
      const pool = this.pool;
      if (!pool) return cb();
      this.pool = null;
      closeFd(pool.fd, pool.segment.path, (e) => cb(e));
    });
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    // Close what is open; the scratch directory itself is removed by its owner.
    for (const f of [this.run, this.pool]) if (f) closeFd(f.fd, f.segment.path, () => {});
    this.run = null;
    this.pool = null;
    cb(err);
  }

  private spillBlob(rec: BlobRecord, cb: TransformCallback): void {
    const { payload, ...rest } = rec;
    if (rec.tombstone || payload === null) return cb(null, { ...rest, location: null });
    const emit = (err: DecodeError | null | undefined, location?: SpillLocation) =>
      err ? cb(err) : cb(null, { ...rest, location: location ?? null });
    if (this.run && continuesRun(this.run.info, rec.addr)) return this.appendToRun(this.run, rec.addr, payload, emit);
    if (rec.addr.chunkNo === 0n) {
      return this.sealRun((err) => {
        if (err) return cb(err);
        this.openRun(rec.addr, (err2, run) => (err2 || !run ? cb(err2) : this.appendToRun(run, rec.addr, payload, emit)));
      });
    }
    this.appendToPool(payload, emit);
  }

  private spillChunkBlob(rec: ChunkBlobRecord, cb: TransformCallback): void {
    const { payload, ...rest } = rec;
    if (rec.tombstone || payload === null) return cb(null, { ...rest, location: null });
    // Checked even when no ref points here, as elastickv's decoder does.
    const actual = createHash('sha256').update(payload).digest('hex');
    if (actual !== rec.digest) {
      return cb(
        new DecodeError('ERR_S3_CHUNKBLOB_HASH_MISMATCH', `chunkblob payload hashes to ${actual}, key says ${rec.digest}`, {
          ...rec.where,
          key: rec.key,
        }),
      );
    }
    const stored = this.storedBlobs.get(rec.digest);
    if (stored && stored.length === payload.length) return cb(null, { ...rest, location: stored });
    this.appendToPool(payload, (err, location) => {
      if (err || !location) return cb(err);
      this.storedBlobs.set(rec.digest, location);
      cb(null, { ...rest, location });
    });
  }

  private openRun(addr: ChunkAddress, done: (err: DecodeError | null, run?: OpenRun) => void): void {
    const id = this.nextId++;
    const segment: SpillSegment = { id, path: path.join(this.scratchDir, `run-${id}`), kind: 'run', size: 0 };
    openExclusive(segment.path, (err, fd) => {
      if (err || fd === undefined) return done(err);
      const info: RunInfo = {
        bucket: Buffer.from(addr.bucket),
        generation: addr.generation,
        object: Buffer.from(addr.object),
        uploadId: Buffer.from(addr.uploadId),
        chunks: [],
      };
      segment.run = info;
      segment.hashes = { sha256: Buffer.alloc(0), parts: [] };
      this.run = { segment, fd, info, sha: createHash('sha256'), md5Part: undefined, md5Whole: undefined };
      this.stats.runs++;
      done(null, this.run);
    });
  }

  private appendToRun(run: OpenRun, addr: ChunkAddress, payload: Buffer, done: (err: DecodeError | null, loc?: SpillLocation) => void): void {
    const seg = run.segment;
    const parts = seg.hashes!.parts;
    const last = parts[parts.length - 1];
    if (!last || last.partNo !== addr.partNo || last.partVersion !== addr.partVersion) {
      if (this.md5) {
        if (last && run.md5Part) {
          // A second part begins: the whole-run MD5 continues from part one's state.
          run.md5Whole ??= run.md5Part.copy();
          last.md5 = run.md5Part.digest();
        }
        run.md5Part = createHash('md5');
      }
      parts.push({ partNo: addr.partNo, partVersion: addr.partVersion, length: 0 });
    }
    const offset = seg.size;
    seg.size += payload.length;
    parts[parts.length - 1]!.length += payload.length;
    run.info.chunks.push({ partNo: addr.partNo, chunkNo: addr.chunkNo, partVersion: addr.partVersion, offset, length: payload.length });
    run.sha.update(payload);
    run.md5Part?.update(payload);
    run.md5Whole?.update(payload);
    this.stats.runBytes += payload.length;
    writeAll(run.fd, payload, offset, seg.path, (err) => (err ? done(err) : done(null, { segment: seg, offset, length: payload.length })));
  }

  private sealRun(done: Done): void {
    const run = this.run;
    if (!run) return done();
    this.run = null;
    const hashes = run.segment.hashes!;
    hashes.sha256 = run.sha.digest();
    if (run.md5Part) {
      const last = hashes.parts[hashes.parts.length - 1]!;
      if (run.md5Whole) {
        last.md5 = run.md5Part.digest();
        hashes.md5 = run.md5Whole.digest();
      } else {
        last.md5 = hashes.md5 = run.md5Part.digest();
      }
    }
    closeFd(run.fd, run.segment.path, done);
  }

  private appendToPool(payload: Buffer, done: (err: DecodeError | null, loc?: SpillLocation) => void): void {
    const write = (pool: OpenFile) => {
      const offset = pool.segment.size;
      pool.segment.size += payload.length;
      this.stats.poolBytes += payload.length;
      writeAll(pool.fd, payload, offset, pool.segment.path, (err) =>
        err ? done(err) : done(null, { segment: pool.segment, offset, length: payload.length }),
      );
    };
    if (this.pool) return write(this.pool);
    const segment: SpillSegment = { id: this.nextId++, path: path.join(this.scratchDir, 'pool'), kind: 'pool', size: 0 };
    openExclusive(segment.path, (err, fd) => {
      if (err || fd === undefined) return done(err);
      this.pool = { segment, fd };
      write(this.pool);
    });
  }
}

export function createBlobSpiller(opts: SpillerOptions): BlobSpiller {
  return new BlobSpiller(opts);
}

/** Whether addr is the next chunk of the run in body order. */
export function continuesRun(info: RunInfo, addr: ChunkAddress): boolean {
  const last = info.chunks[info.chunks.length - 1];
  if (!last || addr.generation !== info.generation) return false;
  const next =
    (addr.partNo === last.partNo && addr.partVersion === last.partVersion && addr.chunkNo === last.chunkNo + 1n) ||
    (addr.partNo > last.partNo && addr.chunkNo === 0n);
  return next && addr.object.equals(info.object) && addr.uploadId.equals(info.uploadId) && addr.bucket.equals(info.bucket);
}
