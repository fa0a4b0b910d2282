/**
 * Bucket collector: gathers the payload-free records per bucket and object
 * (metadata only: bucket meta, object manifests, chunk spans and refs,
 * upload records) plus the sealed runs and chunkblob spans shared by all
 * buckets and, at the end of input, emits one BucketCollection per bucket in
 * output order.
 *
 * Versions (SPEC §3.3) are settled here, per identity (bucket meta, object
 * manifest, chunk, chunkblob digest, upload key): the version with the
 * highest commit_ts is kept (equal: the later record), and a tombstone
 * leaves a mark with its commit_ts so that an older version arriving later
 * is refused. The version resolver upstream drops most superseded records
 * early (all of them in sorted input), but it forgets keys once sorted input
 * has moved past them; when input turns out unsorted after that, it may pass
 * on an older version of a forgotten key, and this stage refuses it. So the
 * result is the same whatever the input order.
 *
 * Object manifests and chunks (of every bucket) go to an ObjectSpool as
 * records of bytes, sorted on disk beyond a memory budget and settled per
 * object when the sink reads them (lib/stages/object-spool.ts): nothing per
 * object is a JavaScript object here. Nor per bucket: buckets are rows of
 * a BucketTable (./bucket-table.ts), whose bytes (names, bucket metadata,
 * upload records) are copies in an arena — records are views of the
 * reader's input buffers, and keeping those would pin the input in memory.
 * Collections are made at the end, one at a time as the sink takes them.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { BLOB, chunkPayload, manifestPayload, REF } from '../core/object-record.js';
import { supersedes } from '../core/newest-wins.js';
import type { BucketCollection, SealedRun, Span, SpilledRecord } from '../types.js';
import { BucketTable, type BucketRow } from './bucket-table.js';
import { ObjectSpool } from './object-spool.js';
import { classifiedRecordProblem, usage } from './record-shape.js';

/** Options of the bucket collector. */
export interface BucketCollectorOptions {
  /**
   * Where object metadata beyond the budget is sorted on disk (the caller
   * removes the directory); without it everything is kept in memory.
   */
  scratchDir?: string;
  /** Bytes of object metadata held in memory before a sorted run is spilled (default 16 MiB). */
  budgetBytes?: number;
}

/** Bucket collector stage: gathers each bucket's metadata, chunks and uploads and emits them at end of input, in output order. */
export class BucketCollector extends Transform {
  private readonly table = new BucketTable();
  private readonly chunkBlobs = new Map<string, Span>();
  private readonly runs = new Map<number, SealedRun>();
  /** commit_ts of each chunkblob digest's newest version (live or tombstone). */
  private readonly chunkBlobTs = new Map<string, bigint>();
  /** The bucket of the last record (records of a bucket come in runs). */
  private last: BucketRow | undefined;
  private readonly spool: ObjectSpool;
  /** Set while the end of input waits for the reader to take more bucket collections. */
  private waiting: (() => void) | undefined;

  constructor(opts: BucketCollectorOptions = {}) {
    super({ objectMode: true, highWaterMark: 16 });
    this.spool = new ObjectSpool(opts);
  }

  /** Sorted runs of object metadata spilled to the scratch directory so far. */
  get spilledRuns(): number {
    return this.spool.runs;
  }

  override _transform(rec: SpilledRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    if (rec.kind === 'run') {
      this.runs.set(rec.run.file.id, rec.run);
      return cb();
    }
    const bad = classifiedRecordProblem(rec, true);
    if (bad !== undefined) return cb(usage('bucket collector', bad));
    const ts = rec.commitTs ?? 0n;
    let wait: Promise<void> | undefined;
    switch (rec.kind) {
      case 'bucket-meta': {
        const { index } = this.bucket(rec.bucket);
        const seen = this.table.metaTs(index);
        if (seen !== undefined && !supersedes(ts, seen)) break;
        this.table.setMeta(index, ts, rec.tombstone ? null : rec.value, rec.where);
        break;
      }
      case 'manifest': {
        const b = this.object(rec.bucket, rec.generation);
        wait = this.spool.add(b.dir, rec.generation, rec.object, manifestPayload(b.index, rec.tombstone ? null : rec.value, ts, rec.where));
        break;
      }
      case 'blob':
      case 'chunkref': {
        const a = rec.addr;
        const b = this.object(a.bucket, a.generation);
        const payload = rec.tombstone ? null : rec.kind === 'blob' ? rec.span : rec.value;
        if (payload !== null && !(payload instanceof Uint8Array)) this.spool.noteFile(payload.file);
        wait = this.spool.add(b.dir, a.generation, a.object, chunkPayload(b.index, rec.kind === 'blob' ? BLOB : REF, a, ts, rec.where, payload));
        break;
      }
      case 'chunkblob': {
        const seen = this.chunkBlobTs.get(rec.digest);
        if (seen !== undefined && !supersedes(ts, seen)) break;
        this.chunkBlobTs.set(rec.digest, ts);
        if (rec.tombstone || rec.span === null) this.chunkBlobs.delete(rec.digest);
        else this.chunkBlobs.set(rec.digest, rec.span);
        break;
      }
      case 'upload': {
        const b = this.bucket(rec.bucket);
        const id = rec.key.toString('latin1');
        const uploads = this.table.uploads(b.index);
        const seen = uploads.get(id);
        if (seen !== undefined && !supersedes(ts, typeof seen === 'bigint' ? seen : (seen.commitTs ?? 0n))) break;
        if (rec.tombstone || rec.value === null) {
          uploads.set(id, ts);
        } else {
          const { table } = this;
          uploads.set(id, { ...rec, key: table.copy(rec.key), value: table.copy(rec.value), bucket: b.name, object: table.copy(rec.object), uploadId: table.copy(rec.uploadId) });
        }
        break;
      }
    }
    if (wait) wait.then(() => cb(), cb);
    else cb();
  }

  override _flush(cb: TransformCallback): void {
    this.spool
      .finish()
      .then(async () => {
        const { table, spool } = this;
        const order = table.ordered((i) => table.hasMeta(i) || spool.rangeOf(i).objects > 0 || table.liveUploads(i).length > 0);
        this.last = undefined;
        this.chunkBlobTs.clear();
        // One collection at a time, as the sink takes them: made all at once, they would all be live.
        for (const i of order) {
          if (this.destroyed) return;
          if (!this.push(this.collection(i))) await new Promise<void>((resolve) => (this.waiting = resolve));
        }
      })
      .then(() => cb(), cb);
  }

  override _read(size: number): void {
    super._read(size);
    this.wake();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.wake();
    super._destroy(err, cb);
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** Bucket number i's collection (views of the table's bytes). */
  private collection(i: number): BucketCollection {
    const { table } = this;
    const b: BucketCollection = { name: table.name(i), objects: this.spool.objectsOf(i, table.generations(i)), uploads: table.liveUploads(i), chunkBlobs: this.chunkBlobs, runs: this.runs };
    const meta = table.meta(i);
    if (meta) b.meta = meta;
    return b;
  }

  /** The bucket of an object of generation `generation`, which it notes. */
  private object(name: Buffer, generation: bigint): BucketRow {
    const b = this.bucket(name);
    this.table.addGeneration(b.index, generation);
    return b;
  }

  private bucket(name: Buffer): BucketRow {
    const last = this.last;
    if (last && last.name.equals(name)) return last;
    return (this.last = this.table.row(name));
  }
}

/**
 * The bucket collector stage: SpilledRecords in, one BucketCollection per
 * bucket out at end of input. With a scratch directory, object metadata
 * beyond a memory budget is sorted on disk there (the caller removes it).
 */
export function createBucketCollector(opts: BucketCollectorOptions = {}): BucketCollector {
  return new BucketCollector(opts);
}
