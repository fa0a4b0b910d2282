/**
 * Key classifier: SnapshotRecord → ClassifiedRecord by the key families of
 * SPEC §4. Records of ignored families and non-S3 keys are counted and
 * dropped here; a malformed key of a known family fails the run.
 *
 * A value in pieces (lib/stages/value-pieces.ts) stays in pieces behind a
 * blob or chunkblob record (`payloadLength`); the value of any other kind
 * (metadata, never that large in practice) is gathered whole, and the
 * pieces of a tombstone or a skipped record are dropped.
 */
import { PAYLOAD_RECORDS } from './queue.js';
import { Transform, type TransformCallback } from 'node:stream';
import { DecodeError } from '../errors.js';
import { classifyKey } from '../core/keys.js';
import type { BlobRecord, ChunkBlobRecord, ClassifiedRecord, SnapshotRecord, ValuePiece, WarningHandler } from '../types.js';
import { releaseBlock } from '../io/shared-blocks.js';
import { snapshotRecordProblem, usage } from './record-shape.js';
import { isValuePiece, PieceGate } from './value-pieces.js';

/** A record of a kind whose value is used whole. */
type MetadataRecord = Exclude<ClassifiedRecord, BlobRecord | ChunkBlobRecord>;

/** Records seen by the key classifier, by kind. */
export interface ClassifierStats {
  /** S3 records passed on, by kind. */
  s3: Record<ClassifiedRecord['kind'], number>;
  /** S3 records of families the decoder ignores (bucket gen, gc, routes). */
  ignored: number;
  /** Keys outside the S3 key space. */
  nonS3: number;
  /** Keys under !s3| of no known family. */
  unknownS3: number;
}

/** Options of the key classifier. */
export interface ClassifierOptions {
  onWarning?: WarningHandler;
}

/** Key classifier stage: parses each S3 key into a typed record; counts and skips the rest. */
export class KeyClassifier extends Transform {
  readonly stats: ClassifierStats = {
    s3: { 'bucket-meta': 0, manifest: 0, blob: 0, chunkref: 0, chunkblob: 0, upload: 0 },
    ignored: 0,
    nonS3: 0,
    unknownS3: 0,
  };
  private readonly onWarning: WarningHandler | undefined;
  /** Where a record replacing an earlier version of its key is counted: nowhere (its key is counted already). */
  private readonly recount: ClassifierStats = { s3: { 'bucket-meta': 0, manifest: 0, blob: 0, chunkref: 0, chunkblob: 0, upload: 0 }, ignored: 0, nonS3: 0, unknownS3: 0 };
  private readonly gate = new PieceGate();
  /** A metadata record whose value is being gathered from its pieces. */
  private gathering: { rec: MetadataRecord; pieces: Buffer[] } | undefined;

  constructor(opts: ClassifierOptions = {}) {
    super({ objectMode: true, highWaterMark: PAYLOAD_RECORDS });
    this.onWarning = opts.onWarning;
  }

  override _transform(rec: SnapshotRecord | ValuePiece, _enc: BufferEncoding, cb: TransformCallback): void {
    if (isValuePiece(rec)) return this.piece(rec, cb);
    const bad = snapshotRecordProblem(rec);
    if (bad !== undefined) return cb(usage('key classifier', bad));
    let out: ClassifiedRecord | null;
    const stats = rec.replaces ? this.recount : this.stats;
    try {
      out = classifyRecord(rec, stats);
    } catch (err) {
      if (err instanceof DecodeError && err.context.line === undefined && err.context.offset === undefined) {
        return cb(new DecodeError(err.code, err.detail, { ...rec.where, ...err.context }, err.level));
      }
      return cb(err as Error);
    }
    if (out) stats.s3[out.kind]++;
    if (rec.valueLength !== undefined && out && !rec.tombstone && out.kind !== 'blob' && out.kind !== 'chunkblob') {
      this.gathering = { rec: out, pieces: [] };
      return cb();
    }
    this.gate.follow(out !== null && !rec.tombstone);
    cb(null, out ?? undefined);
  }

  private piece(p: ValuePiece, cb: TransformCallback): void {
    const g = this.gathering;
    if (!g) return cb(null, this.gate.piece(p));
    g.pieces.push(p.bytes);
    if (!p.last) return cb();
    this.gathering = undefined;
    const value = Buffer.concat(g.pieces);
    for (const b of g.pieces) releaseBlock(b);
    cb(null, { ...g.rec, value });
  }

  override _flush(cb: TransformCallback): void {
    if (this.stats.unknownS3 > 0) {
      this.onWarning?.({ event: 's3_unknown_prefix', records: this.stats.unknownS3 });
    }
    // A snapshot of another adapter (or of a wiped cluster) gives an empty dump: say so.
    const s3 = Object.values(this.stats.s3).reduce((a, b) => a + b, 0) + this.stats.ignored + this.stats.unknownS3;
    if (s3 === 0) this.onWarning?.({ event: 's3_no_records', nonS3: this.stats.nonS3 });
    cb();
  }
}

/** The key classifier stage (SPEC §4): SnapshotRecords in, ClassifiedRecords out. */
export function createKeyClassifier(opts: ClassifierOptions = {}): KeyClassifier {
  return new KeyClassifier(opts);
}

/** The pure part: one record in, one classified record (or null when skipped) out. */
export function classifyRecord(rec: SnapshotRecord, stats: ClassifierStats): ClassifiedRecord | null {
  const parsed = classifyKey(rec.key);
  const base = { key: rec.key, tombstone: rec.tombstone, where: rec.where, commitTs: rec.commitTs };
  switch (parsed.family) {
    case 'bucket-meta':
      return { kind: 'bucket-meta', bucket: parsed.bucket, value: rec.value, ...base };
    case 'manifest':
      return { kind: 'manifest', bucket: parsed.bucket, generation: parsed.generation, object: parsed.object, value: rec.value, ...base };
    case 'blob':
      return { kind: 'blob', addr: parsed.addr, payload: rec.value, ...payloadLength(rec), ...base };
    case 'chunkref':
      return { kind: 'chunkref', addr: parsed.addr, value: rec.value, ...base };
    case 'chunkblob':
      return { kind: 'chunkblob', digest: parsed.digest, payload: rec.value, ...payloadLength(rec), ...base };
    case 'upload-meta':
    case 'upload-part':
      return {
        kind: 'upload',
        prefix: parsed.prefix,
        bucket: parsed.bucket,
        generation: parsed.generation,
        object: parsed.object,
        uploadId: parsed.uploadId,
        ...(parsed.family === 'upload-part' ? { partNo: parsed.partNo } : {}),
        value: rec.value,
        ...base,
      };
    case 'bucket-gen':
    case 'ignored':
      stats.ignored++;
      return null;
    case 'unknown-s3':
      stats.unknownS3++;
      return null;
    case 'foreign':
      stats.nonS3++;
      return null;
  }
}

/** A payload that follows in pieces (a tombstone's is dropped). */
function payloadLength(rec: SnapshotRecord): { payloadLength?: number } {
  return rec.valueLength !== undefined && !rec.tombstone ? { payloadLength: rec.valueLength } : {};
}
