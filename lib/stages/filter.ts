/**
 * Record filter (--bucket, --prefix): keeps only the records of the chosen
 * buckets and of objects whose key starts with the prefix, so recovering
 * one object from a huge snapshot spills no other payload. Placed between
 * the classifier and the spiller. Offloaded chunkblob payloads belong to no
 * bucket (they are shared by digest, and arrive before the refs that name
 * them), so they always pass.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { ClassifiedRecord } from '../types.js';

/** Which buckets and object key prefix to keep. */
export interface FilterOptions {
  /** Bucket names to keep (all when empty or absent). */
  buckets?: Array<string | Buffer>;
  /** Keep only objects whose key starts with these bytes. */
  prefix?: string | Buffer;
}

/** What the record filter dropped. */
export interface FilterStats {
  dropped: number;
}

/** Record filter stage: keeps the classified records of the chosen buckets and key prefix. */
export class RecordFilter extends Transform {
  readonly stats: FilterStats = { dropped: 0 };
  private readonly keep: (rec: ClassifiedRecord) => boolean;

  constructor(opts: FilterOptions) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.keep = recordPredicate(opts);
  }

  override _transform(rec: ClassifiedRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.keep(rec)) return cb(null, rec);
    this.stats.dropped++;
    cb();
  }
}

/** The --bucket / --prefix filter stage, placed before the spiller. */
export function createRecordFilter(opts: FilterOptions): RecordFilter {
  return new RecordFilter(opts);
}

/** The pure predicate behind the stage. */
export function recordPredicate(opts: FilterOptions): (rec: ClassifiedRecord) => boolean {
  const buckets = opts.buckets?.length ? new Set(opts.buckets.map((b) => Buffer.from(b).toString('latin1'))) : null;
  const prefix = opts.prefix !== undefined && opts.prefix.length > 0 ? Buffer.from(opts.prefix) : null;
  const bucketOk = (b: Buffer) => !buckets || buckets.has(b.toString('latin1'));
  const objectOk = (o: Buffer) => !prefix || (o.length >= prefix.length && prefix.equals(o.subarray(0, prefix.length)));
  return (rec) => {
    switch (rec.kind) {
      case 'chunkblob':
        return true;
      case 'bucket-meta':
        return bucketOk(rec.bucket);
      case 'blob':
      case 'chunkref':
        return bucketOk(rec.addr.bucket) && objectOk(rec.addr.object);
      case 'manifest':
      case 'upload':
        return bucketOk(rec.bucket) && objectOk(rec.object);
    }
  };
}
