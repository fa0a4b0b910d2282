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
 * per-key memory the version resolver spends on unsorted input. A value in
 * pieces (lib/stages/value-pieces.ts) is digested as they pass; its record
 * is judged after the last.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { printable } from '../core/printable.js';
import { PAYLOAD_RECORDS } from '../stages/queue.js';
import type { SnapshotRecord, ValuePiece, Warning, WarningHandler } from '../types.js';
import { isValuePiece } from '../stages/value-pieces.js';
import { blockOf, hold, releaseBlock } from '../io/shared-blocks.js';
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

/**
 * What sorted input compares with the next record: the previous S3 record,
 * with its value's digest when its value passed in pieces, else its value
 * (a hold kept on its shared block, so the block is not refilled while it
 * may still be compared), digested only if the next record has its key.
 */
interface Prev {
  key: Buffer;
  commitTs: bigint;
  input: number | undefined;
  tombstone: boolean;
  value: Buffer | null;
  digest: string | undefined;
}

const B_S3 = Buffer.from('!s3|', 'latin1');
const isS3 = (key: Buffer): boolean => key.length >= B_S3.length && key.compare(B_S3, 0, B_S3.length, 0, B_S3.length) === 0;
const digestOf = (rec: { tombstone: boolean; value: Buffer | null }): string =>
  rec.tombstone || rec.value === null ? 'tombstone' : createHash('md5').update(rec.value).digest('base64');

/** Passes records through and reports cross-input conflicts (SPEC §10 step 1). */
export class ConflictDetector extends Transform {
  /** Conflicts reported. */
  conflicts = 0;
  private readonly opts: ConflictOptions;
  private sorted: boolean | undefined;
  private prev: Prev | undefined;
  private readonly seen = new Map<string, Seen>();
  /** A record whose value is passing in pieces, and their digest so far. */
  private pieced: { rec: SnapshotRecord; md5: Hash } | undefined;

  constructor(opts: ConflictOptions) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.opts = opts;
  }

  override _transform(rec: SnapshotRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) {
      const p = this.pieced;
      p?.md5.update(rec.bytes);
      if (p && rec.last) {
        this.pieced = undefined;
        this.judge(p.rec, p.md5.digest('base64'));
      }
      return cb(null, rec);
    }
    this.sorted ??= this.opts.sorted() ?? false;
    if (isS3(rec.key)) {
      if (rec.valueLength !== undefined && !rec.tombstone) this.pieced = { rec, md5: createHash('md5') };
      else this.judge(rec, undefined);
    }
    cb(null, rec);
  }

  override _flush(cb: TransformCallback): void {
    this.setPrev(undefined);
    cb();
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.setPrev(undefined);
    cb(err);
  }

  /** `digest`: of a value that passed in pieces; undefined: the record's value is whole (digested when needed). */
  private judge(rec: SnapshotRecord, digest: string | undefined): void {
    if (this.sorted) this.sortedStep(rec, digest);
    else this.unsortedStep(rec, digest ?? digestOf(rec));
  }

  // Sorted input digests a value only when the next record has its key and commit_ts: an MD5 of every
  // value would cost a cluster run a second MD5 pass over all the body bytes, on the main thread.
  private sortedStep(rec: SnapshotRecord, digest: string | undefined): void {
    const prev = this.prev;
    const same = prev !== undefined && prev.input !== rec.input && prev.commitTs === rec.commitTs && prev.key.equals(rec.key);
    if (same && (prev.digest ?? digestOf(prev)) !== (digest ?? digestOf(rec))) this.report(rec, prev.input ?? 0);
    const value = digest === undefined && !rec.tombstone ? rec.value : null;
    this.setPrev({ key: rec.key, commitTs: rec.commitTs, input: rec.input, tombstone: rec.tombstone, value, digest });
  }

  /** Replaces the previous record, moving the hold on its value's shared block (if any). */
  private setPrev(next: Prev | undefined): void {
    const held = this.prev?.value;
    if (next?.value) {
      const block = blockOf(next.value);
      if (block) hold(block);
    }
    this.prev = next;
    if (held) releaseBlock(held);
  }

  private unsortedStep(rec: SnapshotRecord, digest: string): void {
    const id = rec.key.toString('latin1');
    const seen = this.seen.get(id);
    if (seen !== undefined && rec.commitTs < seen.ts) return;
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
