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
 * object is a JavaScript object here, and a bucket costs little more than
 * its name. The few other things kept (bucket names and metadata, upload
 * records) are copied into an arena: records are views of the reader's
 * input buffers, and keeping those would pin the input in memory.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ByteArena } from '../core/arena.js';
import { BLOB, chunkPayload, manifestPayload, REF } from '../core/object-record.js';
import { bucketDirName } from '../core/names.js';
import { supersedes } from '../core/newest-wins.js';
import type { BucketCollection, SealedRun, Span, SpilledRecord, UploadRecord } from '../types.js';

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

/** The collector's own state per bucket, beside what it emits. */
interface BucketState {
  out: BucketCollection;
  /** The bucket's number in the spool's records. */
  index: number;
  /** enc(bucket) (SPEC §6): buckets are written in this order. */
  dir: Buffer;
  /** Generations of its objects. */
  generations: bigint[];
  /** commit_ts of the bucket meta held, or of the tombstone that deleted it. */
  metaTs?: bigint;
  /** Upload records by raw key: the newest version, or a tombstone's commit_ts (made when needed). */
  uploads?: Map<string, UploadRecord | bigint>;
}

/** Bucket collector stage: gathers each bucket's metadata, chunks and uploads and emits them at end of input, in output order. */
export class BucketCollector extends Transform {
  private readonly buckets = new Map<string, BucketState>();
  /** Long-lived copies of bucket names, bucket metadata and upload records. */
  private readonly arena = new ByteArena();
  private readonly chunkBlobs = new Map<string, Span>();
  private readonly runs = new Map<number, SealedRun>();
  /** commit_ts of each chunkblob digest's newest version (live or tombstone). */
  private readonly chunkBlobTs = new Map<string, bigint>();
  private lastBucket: BucketState | undefined;
  private readonly spool: ObjectSpool;

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
        const b = this.bucket(rec.bucket);
        if (b.metaTs !== undefined && !supersedes(ts, b.metaTs)) break;
        b.metaTs = ts;
        if (rec.tombstone || rec.value === null) delete b.out.meta;
        else b.out.meta = { value: this.arena.copy(rec.value), where: rec.where };
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
        const uploads = (b.uploads ??= new Map());
        const seen = uploads.get(id);
        if (seen !== undefined && !supersedes(ts, typeof seen === 'bigint' ? seen : (seen.commitTs ?? 0n))) break;
        if (rec.tombstone || rec.value === null) {
          uploads.set(id, ts);
        } else {
          const { arena } = this;
          uploads.set(id, { ...rec, key: arena.copy(rec.key), value: arena.copy(rec.value), bucket: b.out.name, object: arena.copy(rec.object), uploadId: arena.copy(rec.uploadId) });
        }
        break;
      }
    }
    if (wait) wait.then(() => cb(), cb);
    else cb();
  }

  override _flush(cb: TransformCallback): void {
    this.spool.finish().then(() => {
      for (const b of this.buckets.values()) {
        for (const u of b.uploads?.values() ?? []) if (typeof u !== 'bigint') b.out.uploads.push(u);
      }
      const ordered = [...this.buckets.values()]
        .filter((s) => s.out.meta || s.out.objects.size > 0 || s.out.uploads.length > 0)
        .map((s) => ({ b: s.out, dir: Buffer.concat([s.dir, SLASH]) }))
        .sort((x, y) => Buffer.compare(x.dir, y.dir));
      // From here on the sink owns the collections: let go of them.
      this.buckets.clear();
      this.lastBucket = undefined;
      this.chunkBlobTs.clear();
      for (const { b } of ordered) this.push(b);
      cb();
    }, cb);
  }

  /** The bucket of an object of generation `generation`, which it notes. */
  private object(name: Buffer, generation: bigint): BucketState {
    const b = this.bucket(name);
    if (!b.generations.includes(generation)) b.generations.push(generation);
    return b;
  }

  private bucket(name: Buffer): BucketState {
    const last = this.lastBucket;
    if (last && last.out.name.equals(name)) return last;
    const id = name.toString('latin1');
    let b = this.buckets.get(id);
    if (!b) {
      const index = this.buckets.size;
      const generations: bigint[] = [];
      const objects = this.spool.objectsOf(index, generations);
      b = { out: { name: this.arena.copy(name), objects, uploads: [], chunkBlobs: this.chunkBlobs, runs: this.runs }, index, dir: Buffer.from(bucketDirName(name), 'latin1'), generations };
      this.buckets.set(id, b);
    }
    this.lastBucket = b;
    return b;
  }
}

const SLASH = Buffer.from('/');

/**
 * The bucket collector stage: SpilledRecords in, one BucketCollection per
 * bucket out at end of input. With a scratch directory, object metadata
 * beyond a memory budget is sorted on disk there (the caller removes it).
 */
export function createBucketCollector(opts: BucketCollectorOptions = {}): BucketCollector {
  return new BucketCollector(opts);
}
