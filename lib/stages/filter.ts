/**
 * Record filter (--bucket, --prefix): keeps only the records of the chosen
 * buckets and of objects whose key starts with the prefix, so recovering
 * one object from a huge snapshot spills no other payload. Placed between
 * the classifier and the spiller. Offloaded chunkblob payloads belong to no
 * bucket (they are shared by digest, and arrive before the refs that name
 * them), so they always pass. A --bucket of which no record was seen, or
 * a --prefix no object of a kept bucket starts with, is warned about at the
 * end (`filter_matched_nothing`): a typo must not pass as an empty bucket.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import type { ClassifiedRecord, ValuePiece, WarningHandler } from '../types.js';
import { isValuePiece, PieceGate } from './value-pieces.js';
import { printable } from '../core/printable.js';
import { classifiedRecordProblem, usage } from './record-shape.js';

/** Which buckets and object key prefix to keep. */
export interface FilterOptions {
  /** Bucket names to keep (all when empty or absent). */
  buckets?: Array<string | Buffer>;
  /** Keep only objects whose key starts with these bytes. */
  prefix?: string | Buffer;
  /** Told `filter_matched_nothing` at the end for each bucket, and the prefix, that matched no record. */
  onWarning?: WarningHandler;
}

/** What the filters matched, to tell a typo from a deliberate filter. */
export interface FilterMatches {
  /** Buckets (latin1) of which a record passed the bucket filter. */
  buckets: Set<string>;
  /** Object records of kept buckets whose key has the prefix. */
  prefixed: number;
}

/** What the record filter dropped. */
export interface FilterStats {
  dropped: number;
}

/** Record filter stage: keeps the classified records of the chosen buckets and key prefix. */
export class RecordFilter extends Transform {
  readonly stats: FilterStats = { dropped: 0 };
  private readonly matches: FilterMatches = { buckets: new Set(), prefixed: 0 };
  private readonly keep: (rec: ClassifiedRecord) => boolean;
  /** A payload in pieces goes where its record went. */
  private readonly gate = new PieceGate();

  constructor(private readonly opts: FilterOptions) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.keep = recordPredicate(opts, this.matches);
  }

  override _transform(rec: ClassifiedRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) return cb(null, this.gate.piece(rec));
    const bad = classifiedRecordProblem(rec, false);
    if (bad !== undefined) return cb(usage('record filter', bad));
    const keep = this.keep(rec);
    this.gate.follow(keep);
    if (keep) return cb(null, rec);
    this.stats.dropped++;
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const warn = this.opts.onWarning;
    for (const b of this.opts.buckets ?? []) {
      if (!this.matches.buckets.has(Buffer.from(b).toString('latin1'))) warn?.({ event: 'filter_matched_nothing', filter: 'bucket', value: printable(Buffer.from(b)) });
    }
    if (this.opts.prefix !== undefined && this.opts.prefix.length > 0 && this.matches.prefixed === 0) {
      warn?.({ event: 'filter_matched_nothing', filter: 'prefix', value: printable(Buffer.from(this.opts.prefix)) });
    }
    cb();
  }
}

/** The --bucket / --prefix filter stage, placed before the spiller. */
export function createRecordFilter(opts: FilterOptions): RecordFilter {
  return new RecordFilter(opts);
}

/** The pure predicate behind the stage (noting what matched in `matches`, when given). */
export function recordPredicate(opts: FilterOptions, matches?: FilterMatches): (rec: ClassifiedRecord) => boolean {
  const buckets = opts.buckets?.length ? new Set(opts.buckets.map((b) => Buffer.from(b).toString('latin1'))) : null;
  const prefix = opts.prefix !== undefined && opts.prefix.length > 0 ? Buffer.from(opts.prefix) : null;
  const bucketOk = (b: Buffer) => {
    if (buckets === null) return true;
    const id = b.toString('latin1');
    if (!buckets.has(id)) return false;
    matches?.buckets.add(id);
    return true;
  };
  const objectOk = (o: Buffer) => {
    if (prefix === null) return true;
    if (o.length < prefix.length || !prefix.equals(o.subarray(0, prefix.length))) return false;
    if (matches) matches.prefixed++;
    return true;
  };
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
