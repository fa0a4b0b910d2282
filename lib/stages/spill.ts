/**
 * Blob spiller: the only stage that writes chunk payloads. Each blob chunk is
 * written to a spill file as it arrives and goes downstream without its
 * payload, with the Span that holds it; when a run is sealed (its hashes
 * done) a SealedRunRecord follows. Records are never changed once emitted.
 *
 * Chunks that continue the current run (same bucket, generation, object and
 * upload; next chunk of the same part version, or chunk 0 of a later part)
 * are appended to that run's file, hashing as they go; a chunk 0 that
 * continues nothing starts a new run; anything else goes to a shared pool
 * file. So does a first chunk smaller than RUN_MIN_BYTES: such an object is
 * small (chunks are ~1 MiB), and creating, hashing and renaming a file of its
 * own costs far more than copying its few bytes from the pool. In a sorted
 * native snapshot every object's chunks form one run, so a manifest that
 * selects exactly that run publishes it by rename: one disk write per body
 * byte (SPEC §9). Pool spans may be read once the spiller has ended (its
 * last batch is written then). Offloaded chunkblob payloads are verified
 * against their digest and stored once per digest in the pool.
 *
 * A payload in a shared block (lib/io/shared-blocks.ts) is released here,
 * the last stage that touches it, once it is written and handed to hashing.
 * A payload in pieces (lib/stages/value-pieces.ts) goes where a whole one
 * would, one piece at a time; its record follows once the last is written.
 */
import { METADATA_RECORDS, PAYLOAD_RECORDS } from './queue.js';
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { DecodeError, ioError } from '../errors.js';
import { openExclusive, type Done } from '../io/fs-callbacks.js';
import { SerialWriter } from '../io/serial-writer.js';
import { DirectWriter } from '../io/direct-writer.js';
import { PageCacheCost } from '../io/page-cache-cost.js';
import { HashPool } from './hash-pool.js';
import { SpillPool } from './spill-pool.js';
import { releaseBlock } from '../io/shared-blocks.js';
import type {
  BlobRecord,
  ChunkAddress,
  ChunkBlobRecord,
  ClassifiedRecord,
  SealedRunRecord,
  Span,
  SpillFile,
  SpilledBlobRecord,
  SpilledChunkBlobRecord,
  SpilledRecord,
  ValuePiece,
} from '../types.js';
import { classifiedRecordProblem, usage } from './record-shape.js';
import { isValuePiece } from './value-pieces.js';

/** A first chunk smaller than this does not start a run (see above). */
export const RUN_MIN_BYTES = 64 * 1024;

/** Options of the blob spiller. */
export interface SpillerOptions {
  /** Directory for scratch files; must exist. */
  scratchDir: string;
  /** Compute MD5s of runs for ETag checks (default true; off with --no-verify). */
  md5?: boolean;
  /**
   * Runs are published by rename and not read again (a dump directory):
   * write them with O_DIRECT, past the page cache (lib/io/direct-writer.ts;
   * default false), where their MD5s are not to be computed from the file
   * — all of a run without verification, and with it the rest of a run
   * from where its stretch grows too long to wait for that
   * (lib/stages/hash-pool.ts, INLINE_MD5_FROM), and every run begun after
   * writing through the page cache was found to cost more, its MD5s
   * computed as written (`pageCacheCost`). Bytes read back anyway come
   * from the disk.
   */
  direct?: boolean;
  /**
   * With `direct` and MD5s: how writing through the page cache is judged
   * (default: a PageCacheCost with its defaults, lib/io/page-cache-cost.ts).
   */
  pageCacheCost?: PageCacheCost;
}

/** What the blob spiller wrote. */
export interface SpillerStats {
  runs: number;
  runBytes: number;
  poolBytes: number;
}

/** The identity of a run and the chunks it holds so far, in file order. */
export interface RunInfo {
  bucket: Buffer;
  generation: bigint;
  object: Buffer;
  uploadId: Buffer;
  chunks: Array<{ partNo: bigint; chunkNo: bigint; partVersion: bigint }>;
}

/** A run's file being written. */
interface OpenRun {
  file: SpillFile;
  /** Bytes appended so far. */
  size: number;
  info: RunInfo;
  /** The run's writes, one at a time (lib/io/serial-writer.ts, lib/io/direct-writer.ts). */
  writer: SerialWriter | DirectWriter;
  /** Bytes in the file: writes complete in file order. */
  written: number;
  /** Each waits until the bytes appended before it asked are in the file. */
  waiters: Array<{ upTo: number; done: Done }>;
  error: DecodeError | null;
  /** Its bytes from here on are not read back: written with O_DIRECT from the next write. */
  toDirect: boolean;
}

/** A payload arriving in pieces: where they go, and what to pass on after the last. */
interface Incoming {
  /** The run the pieces of a blob are appended to; null: the pool, or nowhere (`span` null: a chunkblob already stored). */
  run: OpenRun | null;
  /** Where the whole payload will be. */
  span: Span | null;
  /** A chunkblob's payload is hashed as it arrives, then checked like a whole one. */
  chunkBlob?: { rec: Omit<SpilledChunkBlobRecord, 'span'>; sha: Hash; newest: boolean };
  blob?: Omit<SpilledBlobRecord, 'span'>;
}

/** Run writes in flight at once (the stage goes on parsing meanwhile). */
const MAX_INFLIGHT_BYTES = 8 << 20;

/** Blob spiller stage: ClassifiedRecords in, SpilledRecords out (payloads replaced by spans, sealed runs announced). */
export class BlobSpiller extends Transform {
  readonly stats: SpillerStats = { runs: 0, runBytes: 0, poolBytes: 0 };
  private readonly scratchDir: string;
  private readonly md5: boolean;
  private readonly direct: boolean;
  private nextId = 0;
  private run: OpenRun | null = null;
  private pool: SpillPool | null = null;
  private readonly storedBlobs = new Map<string, Span>();
  /** commit_ts of each chunkblob digest's newest version so far (§3.3). */
  private readonly chunkBlobTs = new Map<string, bigint>();
  /**
   * Digests whose newest version so far does not hash to its key: reported
   * at flush if still the newest, so the run fails only for a winning
   * version, whatever the record order (§3.1, §3.3).
   */
  private readonly badBlobs = new Map<string, DecodeError>();
  private readonly hashes: HashPool;
  /** Watches the runs written through the page cache while they could go past it (`direct` with MD5s). */
  private readonly pageCache: PageCacheCost | undefined;
  /** Runs sealed whose hashes are still being computed (each pushes its SealedRunRecord when done). */
  private readonly sealing: Array<Promise<void>> = [];
  private inflight = 0;
  private writeError: DecodeError | null = null;
  private readonly writeWaiters: Array<() => void> = [];
  private incoming: Incoming | undefined;

  constructor(opts: SpillerOptions) {
    super({ objectMode: true, writableHighWaterMark: PAYLOAD_RECORDS, readableHighWaterMark: METADATA_RECORDS });
    this.scratchDir = opts.scratchDir;
    this.md5 = opts.md5 ?? true;
    this.direct = opts.direct ?? false;
    this.hashes = new HashPool({ md5: this.md5 });
    if (this.direct && this.md5) this.pageCache = opts.pageCacheCost ?? new PageCacheCost();
  }

  override _transform(rec: ClassifiedRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) return this.spillPiece(rec, cb);
    const bad = classifiedRecordProblem(rec, false);
    if (bad !== undefined) return cb(usage('blob spiller', bad));
    if (rec.kind === 'blob') return this.spillBlob(rec, cb);
    if (rec.kind === 'chunkblob') return this.spillChunkBlob(rec, cb);
    cb(null, rec satisfies SpilledRecord);
  }

  override _flush(cb: TransformCallback): void {
    if (this.incoming) return cb(usage('blob spiller', 'the input ended before the last piece of a payload'));
    const bad = this.badBlobs.values().next();
    if (!bad.done) return cb(bad.value);
    this.sealRun((err) => {
      if (err) return cb(err);
      this.hashes.flush(); // the last run is sealed: no more MD5s to wait for
      const pool = this.pool;
      this.pool = null;
      const closed = new Promise<void>((resolve, reject) => (pool ? pool.close((e) => (e ? reject(e) : resolve())) : resolve()));
      Promise.all([closed, ...this.sealing])
        .finally(() => this.hashes.close())
        .then(
          () => cb(),
          (e: Error) => cb(e),
        );
    });
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    // Close what is open; the scratch directory itself is removed by its owner.
    this.run?.writer.close(() => {});
    this.pool?.abandon();
    this.run = null;
    this.pool = null;
    this.hashes.close().then(
      () => cb(err),
      () => cb(err),
    );
  }

  private spillBlob(rec: BlobRecord, cb: TransformCallback): void {
    const { payload, payloadLength, ...rest } = rec;
    if (payloadLength !== undefined && !rec.tombstone) return this.blobPieces(rest, payloadLength, cb);
    if (rec.tombstone || payload === null) return cb(null, { ...rest, span: null });
    const emit = (err: DecodeError | null | undefined, span?: Span) => (err ? cb(err) : cb(null, { ...rest, span: span ?? null }));
    this.runFor(rec.addr, payload.length >= RUN_MIN_BYTES, (err, run) => {
      if (err) return cb(err);
      if (run) return this.appendToRun(run, rec.addr, payload, emit);
      this.appendToPool(payload, (err2, span) => {
        releaseBlock(payload); // copied or written
        emit(err2, span);
      });
    });
  }

  /**
   * The run a blob chunk goes to: the open run it continues, or a new one
   * when it is a `large` first chunk (see RUN_MIN_BYTES); null: the pool.
   */
  private runFor(addr: ChunkAddress, large: boolean, done: (err: DecodeError | null | undefined, run?: OpenRun | null) => void): void {
    if (this.run && continuesRun(this.run.info, addr)) return done(null, this.run);
    if (addr.chunkNo !== 0n || !large) return done(null, null);
    this.sealRun((err) => (err ? done(err) : this.openRun(addr, done)));
  }

  /** A blob payload in pieces (large by nature): where a whole one would go (runFor), its pieces following. */
  private blobPieces(blob: Omit<SpilledBlobRecord, 'span'>, length: number, cb: TransformCallback): void {
    const { addr } = blob;
    this.runFor(addr, true, (err, run) => {
      if (err) return cb(err);
      if (run) {
        run.info.chunks.push({ partNo: addr.partNo, chunkNo: addr.chunkNo, partVersion: addr.partVersion });
        this.incoming = { run, span: { file: run.file, offset: run.size, length }, blob };
        return cb();
      }
      this.openPool((err2, pool) => {
        if (err2 || !pool) return cb(err2);
        this.incoming = { run: null, span: { file: pool.file, offset: pool.size, length }, blob };
        cb();
      });
    });
  }

  private spillChunkBlob(rec: ChunkBlobRecord, cb: TransformCallback): void {
    const { payload, payloadLength, ...rest } = rec;
    const newest = this.chunkBlobVersion(rec);
    if (rec.tombstone || (payload === null && payloadLength === undefined)) return cb(null, { ...rest, span: null });
    if (payload === null) {
      // In pieces: hashed as they come, written to the pool unless the digest is stored already.
      const chunkBlob = { rec: rest, sha: createHash('sha256'), newest };
      const stored = this.storedBlobs.get(rec.digest);
      if (stored && stored.length === payloadLength) return (this.incoming = { run: null, span: null, chunkBlob }), cb();
      return this.openPool((err, pool) => {
        if (err || !pool) return cb(err);
        this.incoming = { run: null, span: { file: pool.file, offset: pool.size, length: payloadLength! }, chunkBlob };
        cb();
      });
    }
    // Checked even when no ref points here, as elastickv's decoder does.
    const actual = createHash('sha256').update(payload).digest('hex');
    if (!this.chunkBlobMatches(rest, actual, newest)) return cb(null, { ...rest, span: null });
    const stored = this.storedBlobs.get(rec.digest);
    if (stored && stored.length === payload.length) return cb(null, { ...rest, span: stored });
    this.appendToPool(payload, (err, span) => {
      if (err || !span) return cb(err);
      this.storedBlobs.set(rec.digest, span);
      cb(null, { ...rest, span });
    });
  }

  /** Notes a chunkblob version; whether it is the newest of its digest so far. */
  private chunkBlobVersion(rec: ChunkBlobRecord): boolean {
    const ts = rec.commitTs ?? 0n;
    const seen = this.chunkBlobTs.get(rec.digest);
    const newest = seen === undefined || ts >= seen;
    if (newest) {
      this.chunkBlobTs.set(rec.digest, ts);
      this.badBlobs.delete(rec.digest);
    }
    return newest;
  }

  /**
   * Whether a chunkblob payload hashes to its key's digest. One that does
   * not is passed on payload-free, so the collector's version order still
   * sees it, and fails the run at the end if it is still the newest.
   */
  private chunkBlobMatches(rec: Omit<SpilledChunkBlobRecord, 'span'>, actual: string, newest: boolean): boolean {
    if (actual === rec.digest) return true;
    if (newest) {
      const where = { ...rec.where, key: rec.key };
      this.badBlobs.set(rec.digest, new DecodeError('ERR_S3_CHUNKBLOB_HASH_MISMATCH', `chunkblob payload hashes to ${actual}, key says ${rec.digest}`, where));
    }
    return false;
  }

  /** A piece of the incoming payload: written (and hashed) where its record decided; after the last, the record goes on. */
  private spillPiece(p: ValuePiece, cb: TransformCallback): void {
    const inc = this.incoming;
    if (!inc) return cb(usage('blob spiller', 'a value piece without a blob or chunkblob record before it'));
    inc.chunkBlob?.sha.update(p.bytes);
    const written = (err: DecodeError | null | undefined): void => {
      if (err) return cb(err);
      if (!p.last) return cb();
      this.incoming = undefined;
      cb(null, this.arrived(inc));
    };
    if (inc.run) return this.writeToRun(inc.run, inc.blob!.addr, p.bytes, written);
    if (inc.span === null) return releaseBlock(p.bytes), written(null);
    this.appendToPool(p.bytes, (err) => {
      releaseBlock(p.bytes); // copied or written
      written(err);
    });
  }

  /** The record of a payload whose last piece is written. */
  private arrived(inc: Incoming): SpilledRecord {
    if (inc.blob) return { ...inc.blob, span: inc.span };
    const { rec, sha, newest } = inc.chunkBlob!;
    if (!this.chunkBlobMatches(rec, sha.digest('hex'), newest)) return { ...rec, span: null };
    if (inc.span === null) return { ...rec, span: this.storedBlobs.get(rec.digest)! };
    this.storedBlobs.set(rec.digest, inc.span);
    return { ...rec, span: inc.span };
  }

  private openRun(addr: ChunkAddress, done: (err: DecodeError | null, run?: OpenRun) => void): void {
    const id = this.nextId++;
    const file: SpillFile = { id, path: path.join(this.scratchDir, `run-${id}`), kind: 'run' };
    // Past the page cache where its MD5s are not read back: none computed, or all as written (see PageCacheCost).
    const direct = this.direct && (!this.md5 || this.pageCache!.costly);
    openWriter(file.path, direct, (err, writer) => {
      if (err || !writer) return done(err);
      const info: RunInfo = {
        bucket: Buffer.from(addr.bucket),
        generation: addr.generation,
        object: Buffer.from(addr.object),
        uploadId: Buffer.from(addr.uploadId),
        chunks: [],
      };
      const run: OpenRun = { file, size: 0, info, writer, written: 0, waiters: [], error: null, toDirect: false };
      this.run = run;
      // Its MD5s may be computed from the file (lib/stages/hash-pool.ts): bytes handed to
      // hashing are written once the run's writes in flight are (a failed write fails that wait).
      // Without the file, they are computed as written.
      this.hashes.begin(
        id,
        direct
          ? undefined
          : {
              path: file.path,
              written: () => new Promise((resolve, reject) => runWritten(run, (e) => (e ? reject(e) : resolve()))),
              hashedAsWritten: () => void (run.toDirect = this.direct && run.writer instanceof SerialWriter),
            },
      );
      this.stats.runs++;
      done(null, this.run);
    });
  }

  /**
   * Appends a chunk to the run: the write is issued and the bytes handed to
   * the hash workers, and the stage moves on while both proceed; it waits
   * only when MAX_INFLIGHT_BYTES of writes are pending.
   */
  private appendToRun(run: OpenRun, addr: ChunkAddress, payload: Buffer, done: (err: DecodeError | null, span?: Span) => void): void {
    run.info.chunks.push({ partNo: addr.partNo, chunkNo: addr.chunkNo, partVersion: addr.partVersion });
    this.writeToRun(run, addr, payload, done);
  }

  /** Appends bytes of a chunk (the whole payload, or a piece of it) to the run, as appendToRun does. */
  private writeToRun(run: OpenRun, addr: ChunkAddress, payload: Buffer, done: (err: DecodeError | null, span?: Span) => void): void {
    if (run.toDirect) return this.goDirect(run, (err) => (err ? done(err) : this.writeToRun(run, addr, payload, done)));
    const { file } = run;
    const offset = run.size;
    run.size += payload.length;
    this.stats.runBytes += payload.length;
    this.inflight += payload.length;
    // Once costly, the next run is written past the page cache (see PageCacheCost).
    if (this.pageCache && run.writer instanceof SerialWriter) this.pageCache.wrote(payload.length);
    // The payload's shared block (if any) is free once written and held by the hash workers.
    let uses = 2;
    const used = (): void => void (--uses === 0 && releaseBlock(payload));
    run.writer.write(payload, offset, (err) => {
      this.inflight -= payload.length;
      used();
      if (err) this.writeError ??= err;
      runWrote(run, payload.length, err);
      for (const wake of this.writeWaiters.splice(0)) wake();
    });
    this.hashes.update(file.id, addr.partNo, addr.partVersion, payload).then(
      () => {
        used();
        this.whenWritten((e) => (e ? done(e) : done(null, { file, offset, length: payload.length })));
      },
      (e: unknown) => done(ioError(e, file.path, 'cannot hash')),
    );
  }

  /**
   * Moves the run to O_DIRECT writes from its current end, once its
   * buffered writes are in the file; it stays buffered where the
   * filesystem refuses O_DIRECT.
   */
  private goDirect(run: OpenRun, done: Done): void {
    run.toDirect = false;
    runWritten(run, (err) => {
      if (err) return done(err);
      DirectWriter.adopt(run.file.path, run.size, (e2, w) => {
        if (e2 || !w) return done(e2);
        // Destroyed meanwhile: _destroy closed the old writer.
        if (this.run !== run) return w.close(() => done(ioError(new Error('the spiller was destroyed'), run.file.path, 'cannot write')));
        const old = run.writer;
        run.writer = w;
        old.close(done);
      });
    });
  }

  /** Calls back once at most MAX_INFLIGHT_BYTES of run writes are still pending (or one failed). */
  private whenWritten(done: Done): void {
    if (this.writeError) return done(this.writeError);
    if (this.inflight <= MAX_INFLIGHT_BYTES) return done();
    this.writeWaiters.push(() => this.whenWritten(done));
  }

  /**
   * Ends the current run. Its close and its hashes go on in the background
   * while the next run starts; once both are done, the run goes downstream
   * as a SealedRunRecord (a new immutable record: nothing emitted earlier
   * is changed). The next run starts once this one's writes are in the
   * file — except with O_DIRECT and no MD5s, whose last writes wait for
   * the disk: they go on beside the next run's first. (Buffered, they take
   * a moment; with MD5s the hash workers set the pace; either way not
   * waiting only let more of the input into memory: (a) over 4 groups on
   * Node 24, 3–8 MiB more peak RSS.)
   */
  private sealRun(done: Done): void {
    const run = this.run;
    if (!run) return done();
    this.run = null;
    const { file, size } = run;
    const closed = new Promise<void>((resolve, reject) =>
      runWritten(run, (err) => run.writer.close((e2) => (err || e2 ? reject(err ?? e2) : resolve()))),
    );
    const sealed = Promise.all([this.hashes.seal(file.id), closed]).then(([hashes]) => void this.push({ kind: 'run', run: { file, size, hashes } } satisfies SealedRunRecord));
    // A failure is reported by _flush (Promise.all of these); until then it is not an unhandled rejection.
    sealed.catch(() => {});
    this.sealing.push(sealed);
    if (run.writer instanceof DirectWriter && !this.md5) return done(this.writeError);
    runWritten(run, (err) => done(err ?? this.writeError));
  }

  /** Appends to the pool (see lib/stages/spill-pool.ts). */
  private appendToPool(payload: Buffer, done: (err: DecodeError | null, span?: Span) => void): void {
    this.openPool((err, pool) => {
      if (err || !pool) return done(err);
      this.stats.poolBytes += payload.length;
      pool.append(payload, done);
    });
  }

  private openPool(done: (err: DecodeError | null, pool?: SpillPool) => void): void {
    if (this.pool) return done(null, this.pool);
    const file: SpillFile = { id: this.nextId++, path: path.join(this.scratchDir, 'pool'), kind: 'pool' };
    SpillPool.open(file, (err, pool) => {
      if (err || !pool) return done(err);
      this.pool = pool;
      done(null, pool);
    });
  }
}

/** The blob spiller stage: writes chunk payloads to spill files and passes on payload-free records. */
export function createBlobSpiller(opts: SpillerOptions): BlobSpiller {
  return new BlobSpiller(opts);
}

/** Calls back once the bytes appended to the run so far are in its file (or one of its writes failed). */
function runWritten(run: OpenRun, done: Done): void {
  if (run.error) return done(run.error);
  if (run.written >= run.size) return done();
  run.waiters.push({ upTo: run.size, done });
}

/** A write of the run completed: wakes who waited for it. */
function runWrote(run: OpenRun, length: number, err: DecodeError | null | undefined): void {
  run.written += length;
  run.error ??= err ?? null;
  while (run.waiters.length > 0 && (run.error || run.waiters[0]!.upTo <= run.written)) run.waiters.shift()!.done(run.error);
}

/** A new run file's writer: direct (past the page cache) or one write at a time through it. */
function openWriter(file: string, direct: boolean, done: (err: DecodeError | null, w?: SerialWriter | DirectWriter) => void): void {
  if (direct) return DirectWriter.create(file, done);
  openExclusive(file, (err, fd) => (err || fd === undefined ? done(err) : done(null, new SerialWriter(fd, file))));
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
