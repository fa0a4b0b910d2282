/**
 * Cheap shape checks at the stage boundaries, for library users: a record of
 * the wrong shape fed into a stage (or an option of the wrong type) rejects
 * the pipeline with ERR_USAGE instead of a TypeError thrown from deep inside
 * a stage, which could crash the host. Only what a stage relies on is
 * checked — the fields' presence and types, not their contents.
 */
import { DecodeError } from '../errors.js';

/** ERR_USAGE naming the stage and what is wrong. */
export function usage(stage: string, what: string): DecodeError {
  return new DecodeError('ERR_USAGE', `${stage}: ${what}`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isBytesOrNull = (v: unknown): boolean => v === null || Buffer.isBuffer(v);

const KINDS = new Set(['bucket-meta', 'manifest', 'blob', 'chunkref', 'chunkblob', 'upload']);

/** What is wrong with a SnapshotRecord (key, value, commitTs, tombstone), or undefined. */
export function snapshotRecordProblem(rec: unknown): string | undefined {
  if (!isObject(rec)) return `expected a SnapshotRecord object, got ${describe(rec)}`;
  if (!Buffer.isBuffer(rec.key)) return 'record.key must be a Buffer';
  if (!isBytesOrNull(rec.value)) return 'record.value must be a Buffer or null';
  if (typeof rec.commitTs !== 'bigint') return 'record.commitTs must be a bigint';
  if (typeof rec.tombstone !== 'boolean') return 'record.tombstone must be a boolean';
  return undefined;
}

/**
 * What is wrong with a classified record (before the spiller: with payloads)
 * or a spilled one (after it: with spans), or undefined.
 */
export function classifiedRecordProblem(rec: unknown, spilled: boolean): string | undefined {
  if (!isObject(rec)) return `expected a record object, got ${describe(rec)}`;
  if (typeof rec.kind !== 'string' || !KINDS.has(rec.kind)) return `record.kind must be one of ${[...KINDS].join(', ')}`;
  if (!Buffer.isBuffer(rec.key)) return 'record.key must be a Buffer';
  if (typeof rec.tombstone !== 'boolean') return 'record.tombstone must be a boolean';
  if (rec.commitTs !== undefined && typeof rec.commitTs !== 'bigint') return 'record.commitTs must be a bigint';
  if (!isObject(rec.where)) return 'record.where must be an object';
  switch (rec.kind) {
    case 'blob':
    case 'chunkref': {
      const a = rec.addr;
      if (!isObject(a) || !Buffer.isBuffer(a.bucket) || !Buffer.isBuffer(a.object) || !Buffer.isBuffer(a.uploadId)) {
        return `${rec.kind} record.addr must hold bucket, object and uploadId Buffers`;
      }
      // Named one by one: a loop over the names makes every lookup a keyed one, on every record.
      const wrong = typeof a.generation !== 'bigint' ? 'generation' : typeof a.partNo !== 'bigint' ? 'partNo' : typeof a.chunkNo !== 'bigint' ? 'chunkNo' : typeof a.partVersion !== 'bigint' ? 'partVersion' : undefined;
      if (wrong !== undefined) return `${rec.kind} record.addr.${wrong} must be a bigint`;
      if (rec.kind === 'chunkref') return isBytesOrNull(rec.value) ? undefined : 'chunkref record.value must be a Buffer or null';
      return spilled ? spanProblem(rec) : isBytesOrNull(rec.payload) ? undefined : 'blob record.payload must be a Buffer or null';
    }
    case 'chunkblob':
      if (typeof rec.digest !== 'string') return 'chunkblob record.digest must be a string';
      return spilled ? spanProblem(rec) : isBytesOrNull(rec.payload) ? undefined : 'chunkblob record.payload must be a Buffer or null';
    default:
      if (!Buffer.isBuffer(rec.bucket)) return `${rec.kind} record.bucket must be a Buffer`;
      if (rec.kind !== 'bucket-meta' && (typeof rec.generation !== 'bigint' || !Buffer.isBuffer(rec.object))) {
        return `${rec.kind} record needs a bigint generation and an object Buffer`;
      }
      return isBytesOrNull(rec.value) ? undefined : `${rec.kind} record.value must be a Buffer or null`;
  }
}

function spanProblem(rec: Record<string, unknown>): string | undefined {
  const l = rec.span;
  if (l === null) return undefined;
  if (!isObject(l) || !isObject(l.file) || typeof l.offset !== 'number' || typeof l.length !== 'number') {
    return `${String(rec.kind)} record.span must be null or a Span`;
  }
  return undefined;
}

/** What is wrong with a BucketCollection, or undefined. */
export function bucketCollectionProblem(b: unknown): string | undefined {
  if (!isObject(b)) return `expected a BucketCollection, got ${describe(b)}`;
  if (!Buffer.isBuffer(b.name)) return 'bucket.name must be a Buffer';
  const o = b.objects;
  if (!isObject(o) || typeof o.sorted !== 'function' || typeof o.generations !== 'function') return 'bucket.objects must be a BucketObjects';
  if (!Array.isArray(b.uploads)) return 'bucket.uploads must be an array';
  if (!(b.chunkBlobs instanceof Map)) return 'bucket.chunkBlobs must be a Map';
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  return typeof v === 'object' ? 'an object of another shape' : typeof v;
}
