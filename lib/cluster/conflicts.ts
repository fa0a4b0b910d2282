/**
 * Cross-input conflicts (SPEC §10 step 1): two inputs holding one key at the
 * same commit_ts with different contents. The version resolver already lets
 * the input given later win (the merge passes it on later); this stage only
 * reports it, as warning `s3_group_conflict`. Identical copies are fine.
 *
 * Merged sorted input puts equal (key, commit_ts) records next to each
 * other, so comparing with the previous record is enough. Concatenated
 * (JSON-lines) input can hold them far apart: then every S3 key's newest
 * commit_ts, input and a digest of its value are remembered — the same
 * per-key memory the version resolver spends on unsorted input.
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { printable } from '../core/printable.js';
import { PAYLOAD_RECORDS } from '../stages/queue.js';
import type { SnapshotRecord, Warning, WarningHandler } from '../types.js';
import { routeOf } from './route-key.js';

/** Options of createConflictDetector(). */
export interface ConflictOptions {
  /** Input paths by index, for the warning. */
  paths: readonly string[];
  /** Whether the stream is sorted by encoded key; asked at the first record. */
  sorted: () => boolean | undefined;
  onWarning?: WarningHandler;
}

interface Seen {
  ts: bigint;
  input: number;
  digest: string;
}

const B_S3 = Buffer.from('!s3|', 'latin1');
const isS3 = (key: Buffer): boolean => key.length >= B_S3.length && key.compare(B_S3, 0, B_S3.length, 0, B_S3.length) === 0;
const digestOf = (rec: SnapshotRecord): string => (rec.tombstone || rec.value === null ? 'tombstone' : createHash('md5').update(rec.value).digest('base64'));

/** Passes records through and reports cross-input conflicts (SPEC §10 step 1). */
export class ConflictDetector extends Transform {
  /** Conflicts reported. */
  conflicts = 0;
  private readonly opts: ConflictOptions;
  private sorted: boolean | undefined;
  private prev: SnapshotRecord | undefined;
  private readonly seen = new Map<string, Seen>();

  constructor(opts: ConflictOptions) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.opts = opts;
  }

  override _transform(rec: SnapshotRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sorted ??= this.opts.sorted() ?? false;
    if (isS3(rec.key)) {
      if (this.sorted) this.sortedStep(rec);
      else this.unsortedStep(rec);
    }
    cb(null, rec);
  }

  private sortedStep(rec: SnapshotRecord): void {
    const prev = this.prev;
    this.prev = rec;
    if (prev === undefined || prev.input === rec.input || prev.commitTs !== rec.commitTs || !prev.key.equals(rec.key)) return;
    if (digestOf(prev) !== digestOf(rec)) this.report(rec, prev.input ?? 0);
  }

  private unsortedStep(rec: SnapshotRecord): void {
    const id = rec.key.toString('latin1');
    const seen = this.seen.get(id);
    if (seen !== undefined && rec.commitTs < seen.ts) return;
    const digest = digestOf(rec);
    if (seen !== undefined && seen.ts === rec.commitTs && seen.input !== rec.input && seen.digest !== digest) this.report(rec, seen.input);
    this.seen.set(id, { ts: rec.commitTs, input: rec.input ?? 0, digest });
  }

  private report(rec: SnapshotRecord, earlier: number): void {
    this.conflicts++;
    const r = routeOf(rec.key);
    const w: Warning = { event: 's3_group_conflict' };
    if (r.bucket) w.bucket = printable(r.bucket);
    if (r.object) w.object = printable(r.object);
    else w.key = printable(rec.key);
    w.commit_ts = rec.commitTs;
    w.first = this.opts.paths[earlier] ?? '';
    w.second = this.opts.paths[rec.input ?? 0] ?? '';
    this.opts.onWarning?.(w);
  }
}

/** The conflict report stage for a merged stream whose records carry their input index. */
export function createConflictDetector(opts: ConflictOptions): ConflictDetector {
  return new ConflictDetector(opts);
}
