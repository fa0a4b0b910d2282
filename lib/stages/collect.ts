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
 * Objects and chunks are kept per bucket in an ObjectStore (columns and an
 * arena: no JavaScript object per object or chunk, see
 * lib/core/object-store.ts). The few other things kept (bucket names and
 * metadata, upload records) are copied into an arena: records are views of
 * the reader's input buffers, and keeping those would pin the input in
 * memory.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { ByteArena } from '../core/arena.js';
import { BLOB, ObjectStore, REF } from '../core/object-store.js';
import { bucketDirName } from '../core/names.js';
import type { BucketCollection, SealedRun, Span, SpilledRecord, UploadRecord } from '../types.js';

/** The collector's own state per bucket, beside what it emits. */
interface BucketState {
  out: BucketCollection & { objects: ObjectStore };
  /** commit_ts of the bucket meta held, or of the tombstone that deleted it. */
  metaTs?: bigint;
  /** Upload records by raw key: the newest version, or a tombstone's commit_ts. */
  uploads: Map<string, UploadRecord | bigint>;
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

  constructor() {
    super({ objectMode: true, highWaterMark: 16 });
  }

  override _transform(rec: SpilledRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    if (rec.kind === 'run') {
      this.runs.set(rec.run.file.id, rec.run);
      return cb();
    }
    const ts = rec.commitTs ?? 0n;
    switch (rec.kind) {
      case 'bucket-meta': {
        const b = this.bucket(rec.bucket);
        if (b.metaTs !== undefined && ts < b.metaTs) break;
        b.metaTs = ts;
        if (rec.tombstone || rec.value === null) delete b.out.meta;
        else b.out.meta = { value: this.arena.copy(rec.value), where: rec.where };
        break;
      }
      case 'manifest': {
        const { objects } = this.bucket(rec.bucket).out;
        objects.setManifest(objects.object(rec.generation, rec.object), rec.tombstone ? null : rec.value, ts, rec.where);
        break;
      }
      case 'blob':
      case 'chunkref': {
        const a = rec.addr;
        const { objects } = this.bucket(a.bucket).out;
        const payload = rec.tombstone ? null : rec.kind === 'blob' ? rec.span : rec.value;
        objects.setChunk(objects.object(a.generation, a.object), rec.kind === 'blob' ? BLOB : REF, a, ts, rec.where, payload);
        break;
      }
      case 'chunkblob': {
        const seen = this.chunkBlobTs.get(rec.digest);
        if (seen !== undefined && ts < seen) break;
        this.chunkBlobTs.set(rec.digest, ts);
        if (rec.tombstone || rec.span === null) this.chunkBlobs.delete(rec.digest);
        else this.chunkBlobs.set(rec.digest, rec.span);
        break;
      }
      case 'upload': {
        const b = this.bucket(rec.bucket);
        const id = rec.key.toString('latin1');
        const seen = b.uploads.get(id);
        if (seen !== undefined && ts < (typeof seen === 'bigint' ? seen : (seen.commitTs ?? 0n))) break;
        if (rec.tombstone || rec.value === null) {
          b.uploads.set(id, ts);
        } else {
          const { arena } = this;
          b.uploads.set(id, { ...rec, key: arena.copy(rec.key), value: arena.copy(rec.value), bucket: b.out.name, object: arena.copy(rec.object), uploadId: arena.copy(rec.uploadId) });
        }
        break;
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    for (const b of this.buckets.values()) {
      for (const u of b.uploads.values()) if (typeof u !== 'bigint') b.out.uploads.push(u);
    }
    const ordered = [...this.buckets.values()]
      .map((s) => s.out)
      .filter((b) => b.meta || b.objects.size > 0 || b.uploads.length > 0)
      .map((b) => ({ b, dir: Buffer.from(bucketDirName(b.name) + '/', 'latin1') }))
      .sort((x, y) => Buffer.compare(x.dir, y.dir));
    // From here on the sink owns the collections: let go of them.
    this.buckets.clear();
    this.lastBucket = undefined;
    this.chunkBlobTs.clear();
    for (const { b } of ordered) this.push(b);
    cb();
  }

  private bucket(name: Buffer): BucketState {
    const last = this.lastBucket;
    if (last && last.out.name.equals(name)) return last;
    const id = name.toString('latin1');
    let b = this.buckets.get(id);
    if (!b) {
      b = { out: { name: this.arena.copy(name), objects: new ObjectStore(), uploads: [], chunkBlobs: this.chunkBlobs, runs: this.runs }, uploads: new Map() };
      this.buckets.set(id, b);
    }
    this.lastBucket = b;
    return b;
  }
}

/** The bucket collector stage: SpilledRecords in, one BucketCollection per bucket out at end of input. */
export function createBucketCollector(): BucketCollector {
  return new BucketCollector();
}
