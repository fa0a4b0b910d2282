import test from 'ava';
import { createHash } from 'node:crypto';
import type { DecodeError } from '../lib/errors.js';
import { isFailure, planBucket, planObjects, type ObjectFailure, type ObjectPlan, type PlanOptions } from '../lib/core/plan.js';
import type { BucketCollection, BucketObjects, ChunkBlobStore, Chunks, CollectedChunk, ObjectCollection, Span, SpillFile } from '../lib/types.js';

const OPTS: PlanOptions = { includeOrphans: false, includeIncompleteUploads: false, renameCollisions: false, verify: true };

/** A pool-like spill file: spans anywhere in it. */
function pool(): SpillFile {
  return { id: 0, path: '/nonexistent/pool', kind: 'pool' };
}

let nextOffset = 0;
function loc(length: number, file = pool()): Span {
  const l = { file, offset: nextOffset, length };
  nextOffset += length;
  return l;
}

interface Chunk {
  part?: number;
  chunk?: number;
  version?: number;
  upload?: string;
  length?: number;
  location?: Span;
}

const chunkList = (list: CollectedChunk[]): Chunks => ({ size: list.length, values: () => list.values() });

/** BucketObjects over ObjectCollections given as they are. */
class ObjectList implements BucketObjects {
  constructor(private readonly list: ObjectCollection[]) {}

  get size(): number {
    return this.list.length;
  }

  generations(): bigint[] {
    return [...new Set(this.list.map((o) => o.generation))];
  }

  sorted(): ObjectCollection[] {
    // 'latin1' keys compare bytewise as strings.
    return [...this.list].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.generation < y.generation ? -1 : x.generation > y.generation ? 1 : 0));
  }
}

/** An ObjectCollection as a plain object (the collector settles its objects from records: lib/core/object-versions.ts). */
function obj(object: string, manifest: object | null, chunks: Chunk[] = [], generation = 1n, refs: Array<Chunk & { ref: Buffer }> = []): ObjectCollection {
  const blobs: CollectedChunk[] = [];
  const refList: CollectedChunk[] = [];
  const mk = (c: Chunk): CollectedChunk => ({
    uploadId: c.upload ?? 'up',
    partNo: BigInt(c.part ?? 1),
    chunkNo: BigInt(c.chunk ?? 0),
    partVersion: BigInt(c.version ?? 0),
    commitTs: 0n,
    where: {},
  });
  chunks.forEach((c) => blobs.push({ ...mk(c), span: c.location ?? loc(c.length ?? 1) }));
  refs.forEach((c) => refList.push({ ...mk(c), ref: c.ref }));
  return {
    generation,
    key: Buffer.from(object).toString('latin1'),
    object: Buffer.from(object),
    manifest: manifest ? { value: Buffer.from(JSON.stringify(manifest)), where: { line: 1 } } : undefined,
    blobs: chunkList(blobs),
    refs: chunkList(refList),
  };
}

function bucket(objects: ObjectCollection[], meta: object | null = { generation: 1 }, chunkBlobs: ChunkBlobStore = new Map()): BucketCollection {
  const b: BucketCollection = { name: Buffer.from('bkt'), objects: new ObjectList(objects), uploads: [], chunkBlobs, runs: new Map() };
  if (meta) b.meta = { value: Buffer.from(JSON.stringify(meta)), where: {} };
  return b;
}

/** The bucket plan with every live object planned, as the sink does one by one. */
function planAll(b: BucketCollection, opts: PlanOptions) {
  const plan = planBucket(b, opts);
  const objects: ObjectPlan[] = [];
  const failures: ObjectFailure[] = [...plan.failures];
  for (const x of planObjects(plan, b, opts)) {
    if (isFailure(x)) failures.push(x);
    else objects.push(x);
  }
  return { ...plan, objects, failures };
}

const part = (p: Record<string, unknown>) => ({ part_no: 1, chunk_count: 1, ...p });
const codes = (plan: ReturnType<typeof planBucket>) => plan.failures.map((f) => [f.object.toString(), f.error.code, f.error.detail]);

test('only chunks of the manifest upload_id are selected', (t) => {
  const plan = planAll(bucket([obj('o', { upload_id: 'up', size_bytes: 2, parts: [part({})] }, [{ upload: 'stale', length: 5 }, { upload: 'up', length: 2 }])]), OPTS);
  t.deepEqual(codes(plan), []);
  t.is(plan.objects[0]!.size, 2);
});

test('an empty upload_id selects every upload, and two uploads supplying one chunk index are incomplete', (t) => {
  const ok = planAll(bucket([obj('o', { size_bytes: 3, parts: [part({})] }, [{ upload: 'x', length: 3 }])]), OPTS);
  t.is(ok.objects[0]!.size, 3);
  const dup = planAll(bucket([obj('o', { parts: [part({})] }, [{ upload: 'x' }, { upload: 'y' }])]), OPTS);
  t.deepEqual(codes(dup), [['o', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS', 'part 1 version 0 declares 1 chunks; chunk 0 supplied by more than one upload']]);
});

test('only declared (part, version) pairs are selected: a stale part version is ignored', (t) => {
  const plan = planAll(
    bucket([obj('o', { upload_id: 'up', size_bytes: 4, parts: [part({ part_version: 9 })] }, [{ version: 7, length: 10 }, { version: 9, length: 4 }])]),
    OPTS,
  );
  t.deepEqual(codes(plan), []);
  t.deepEqual(plan.objects[0]!.parts.map((p) => [p.partNo, p.version, p.length]), [[1n, 9n, 4]]);
});

test('a chunk_count 0 part contributes nothing and its stray chunks are ignored', (t) => {
  const plan = planAll(bucket([obj('o', { upload_id: 'up', size_bytes: 0, parts: [part({ chunk_count: 0 })] }, [{ length: 7 }])]), OPTS);
  t.deepEqual(codes(plan), []);
  t.is(plan.objects[0]!.size, 0);
});

test('the body is ordered by part number then chunk number, whatever the arrival order', (t) => {
  const l = [loc(1), loc(1), loc(1), loc(1)];
  const plan = planAll(
    bucket([
      obj('o', { upload_id: 'up', size_bytes: 4, parts: [part({ part_no: 2, chunk_count: 2 }), part({ part_no: 1, chunk_count: 2 })] }, [
        { part: 2, chunk: 1, location: l[3] },
        { part: 1, chunk: 1, location: l[1] },
        { part: 2, chunk: 0, location: l[2] },
        { part: 1, chunk: 0, location: l[0] },
      ]),
    ]),
    OPTS,
  );
  t.deepEqual(plan.objects[0]!.parts.flatMap((p) => p.spans), l);
});

test('set-based completeness: the first missing index, or an unexpected one, fails the object', (t) => {
  const m = { upload_id: 'up', parts: [part({ chunk_count: 3 })] };
  const missing = planAll(bucket([obj('o', m, [{ chunk: 0 }, { chunk: 2 }])]), OPTS);
  t.deepEqual(codes(missing), [['o', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS', 'part 1 version 0 declares 3 chunks; first missing chunk 1']]);
  const extra = planAll(bucket([obj('o', m, [{ chunk: 0 }, { chunk: 1 }, { chunk: 2 }, { chunk: 3 }])]), OPTS);
  t.deepEqual(codes(extra), [['o', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS', 'part 1 version 0 declares 3 chunks; unexpected chunk 3']]);
  t.is(missing.failures[0]!.error.level, 'object');
});

test('sizes are checked against chunk_sizes, part size_bytes and manifest size_bytes (not with verify off)', (t) => {
  const chunks = [{ chunk: 0, length: 2 }, { chunk: 1, length: 3 }];
  const m = (p: object, size = 5) => ({ upload_id: 'up', size_bytes: size, parts: [part({ chunk_count: 2, ...p })] });
  t.deepEqual(codes(planAll(bucket([obj('o', m({ chunk_sizes: [2, 3], size_bytes: 5 }), chunks)]), OPTS)), []);
  t.deepEqual(codes(planAll(bucket([obj('o', m({ chunk_sizes: [3, 2] }), chunks)]), OPTS)), [['o', 'ERR_S3_SIZE_MISMATCH', 'part 1 chunk 0 has 2 bytes, chunk_sizes says 3']]);
  t.deepEqual(codes(planAll(bucket([obj('o', m({ size_bytes: 4 }), chunks)]), OPTS)), [['o', 'ERR_S3_SIZE_MISMATCH', 'part 1 has 5 bytes, size_bytes says 4']]);
  t.deepEqual(codes(planAll(bucket([obj('o', m({}, 6), chunks)]), OPTS)), [['o', 'ERR_S3_SIZE_MISMATCH', 'body has 5 bytes, size_bytes says 6']]);
  t.deepEqual(codes(planAll(bucket([obj('o', m({}, 6), chunks)]), { ...OPTS, verify: false })), []);
});

function chunkref(payload: Buffer, size = payload.length): Buffer {
  const v = Buffer.alloc(1 + 32 + 8 + 2 + 2);
  v[0] = 1;
  createHash('sha256').update(payload).digest().copy(v, 1);
  v.writeBigUInt64BE(BigInt(size), 33);
  v.writeUInt16BE(2, 41);
  v.write('n1', 43);
  return v;
}

test('offloaded parts resolve chunkrefs to chunkblobs by digest; size disagreements and missing blobs fail the object', (t) => {
  const payload = Buffer.from('offload!');
  const store: ChunkBlobStore = new Map([[createHash('sha256').update(payload).digest('hex'), loc(payload.length)]]);
  const m = (sizes: number[]) => ({ upload_id: 'up', size_bytes: 8, parts: [part({ offloaded: true, chunk_ref_version: 4, chunk_sizes: sizes })] });
  const ok = planAll(bucket([obj('o', m([8]), [], 1n, [{ version: 4, ref: chunkref(payload) }])], { generation: 1 }, store), OPTS);
  t.deepEqual(codes(ok), []);
  t.is(ok.objects[0]!.size, 8);
  const refSize = planAll(bucket([obj('o', m([8]), [], 1n, [{ version: 4, ref: chunkref(payload, 9) }])], { generation: 1 }, store), OPTS);
  t.is(refSize.failures[0]!.error.code, 'ERR_S3_INVALID_CHUNKREF');
  const manifestSize = planAll(bucket([obj('o', m([7]), [], 1n, [{ version: 4, ref: chunkref(payload) }])], { generation: 1 }, store), OPTS);
  t.is(manifestSize.failures[0]!.error.code, 'ERR_S3_INVALID_CHUNKREF');
  const missing = planAll(bucket([obj('o', m([8]), [], 1n, [{ version: 4, ref: chunkref(Buffer.from('other')) }])], { generation: 1 }, store), OPTS);
  t.is(missing.failures[0]!.error.code, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
});

test('an extra offloaded chunk index with no chunk_sizes entry is an invalid chunkref, not an incomplete part (§5.4)', (t) => {
  const payload = Buffer.from('offload!');
  const store: ChunkBlobStore = new Map([[createHash('sha256').update(payload).digest('hex'), loc(payload.length)]]);
  const m = { upload_id: 'up', size_bytes: 8, parts: [part({ offloaded: true, chunk_ref_version: 4, chunk_sizes: [8] })] };
  const refs = [{ version: 4, ref: chunkref(payload) }, { version: 4, chunk: 1, ref: chunkref(payload) }];
  const extra = planAll(bucket([obj('o', m, [], 1n, refs)], { generation: 1 }, store), OPTS);
  t.deepEqual(codes(extra), [['o', 'ERR_S3_INVALID_CHUNKREF', 'part 1 chunk 1: the manifest declares no chunk_sizes entry for it']]);
  // Also when the extra ref's chunkblob is absent.
  const absent = planAll(bucket([obj('o', m, [], 1n, [refs[0]!, { version: 4, chunk: 1, ref: chunkref(Buffer.from('gone')) }])], { generation: 1 }, store), OPTS);
  t.is(absent.failures[0]!.error.code, 'ERR_S3_INVALID_CHUNKREF');
});

test('an undecodable chunkref value fails the run', (t) => {
  const m = { upload_id: 'up', parts: [part({ offloaded: true, chunk_sizes: [1] })] };
  const err = t.throws(() => planAll(bucket([obj('o', m, [], 1n, [{ ref: Buffer.from([1, 2, 3]) }])]), OPTS));
  t.is((err as DecodeError).code, 'ERR_S3_INVALID_CHUNKREF');
  t.is((err as DecodeError).level, 'run');
});

test('an offloaded part whose chunk_sizes length differs from chunk_count is an invalid manifest', (t) => {
  const m = { parts: [part({ offloaded: true, chunk_count: 2, chunk_sizes: [1] })] };
  const err = t.throws(() => planAll(bucket([obj('o', m)]), OPTS));
  t.is((err as DecodeError).code, 'ERR_S3_INVALID_MANIFEST');
});

test('problems are reported in order: chunkref resolution, then naming, then completeness', (t) => {
  const payload = Buffer.from('p');
  const store: ChunkBlobStore = new Map([[createHash('sha256').update(payload).digest('hex'), loc(1)]]);
  // Unsafe name AND missing chunks AND a ref whose size disagrees: the ref wins.
  const m = { upload_id: 'up', parts: [part({ chunk_count: 2 }), part({ part_no: 2, offloaded: true, chunk_sizes: [1] })] };
  const all = planAll(bucket([obj('../x', m, [], 1n, [{ part: 2, ref: chunkref(payload, 5) }])], { generation: 1 }, store), OPTS);
  t.is(all.failures[0]!.error.code, 'ERR_S3_INVALID_CHUNKREF');
  const nameAndMissing = planAll(bucket([obj('../x', m, [], 1n, [{ part: 2, ref: chunkref(payload) }])], { generation: 1 }, store), OPTS);
  t.is(nameAndMissing.failures[0]!.error.code, 'ERR_S3_MALFORMED_KEY');
});

test('the active generation is the meta generation; other generations are stale and counted', (t) => {
  const plan = planAll(bucket([obj('old', { parts: [] }, [], 1n), obj('new', { parts: [] }, [], 2n)], { generation: 2 }), OPTS);
  t.deepEqual(plan.objects.map((o) => o.key.toString()), ['new']);
  t.deepEqual(plan.warnings, [{ event: 's3_stale_generation_objects', bucket: 'bkt', active_generation: 2n, count: 1 }]);
});

test('without bucket meta the highest generation is active and s3_bucket_meta_missing is warned', (t) => {
  const plan = planAll(bucket([obj('a', { parts: [] }, [], 3n), obj('b', { parts: [] }, [], 2n)], null), OPTS);
  t.deepEqual(plan.objects.map((o) => o.key.toString()), ['a']);
  t.deepEqual(plan.warnings[0], { event: 's3_bucket_meta_missing', bucket: 'bkt', active_generation: 3n });
  t.is(plan.bucketJson, undefined);
});

test('chunks without a manifest are orphans: warned, and listed only with includeOrphans', (t) => {
  const o = obj('lost', null, [{ chunk: 0 }, { chunk: 1 }]);
  const warned = planAll(bucket([o]), OPTS);
  t.deepEqual(warned.warnings, [{ event: 's3_orphan_chunks', bucket: 'bkt', object: 'lost', chunks: 2 }]);
  t.deepEqual(warned.orphans, []);
  const kept = planAll(bucket([o]), { ...OPTS, includeOrphans: true });
  t.deepEqual(
    kept.orphans.map((x) => x.relPath.toString()),
    ['_orphans/lost/gen-1/up_0000000000000001_0000000000000000_0000000000000000.bin', '_orphans/lost/gen-1/up_0000000000000001_0000000000000001_0000000000000000.bin'],
  );
});

test('sidecar and _bucket.json bytes follow SPEC §6 (field order, omissions, time format)', (t) => {
  const plan = planAll(
    bucket(
      [
        obj('o', {
          upload_id: 'up',
          etag: '"ABC"',
          size_bytes: 0,
          last_modified_hlc: 112354531483516928,
          content_type: 'text/plain',
          cache_control: '',
          user_metadata: { z: '1', a: '<&>' },
          parts: [],
        }),
      ],
      { bucket_name: 'ignored', generation: 1, created_at_hlc: 112348869165056000, owner: 'alice', region: '' },
    ),
    OPTS,
  );
  t.is(
    plan.objects[0]!.sidecar.toString(),
    '{\n  "format_version": 1,\n  "etag": "\\"ABC\\"",\n  "size_bytes": 0,\n  "last_modified": "2024-04-29T12:34:56.123Z",\n  "content_type": "text/plain",\n  "user_metadata": {\n    "a": "\\u003c\\u0026\\u003e",\n    "z": "1"\n  }\n}',
  );
  t.is(plan.bucketJson!.toString(), '{\n  "format_version": 1,\n  "name": "bkt",\n  "creation_time_iso": "2024-04-28T12:34:56Z",\n  "owner": "alice"\n}');
});

test('an invalid manifest or bucket meta fails the run', (t) => {
  const o = { ...obj('o', null), manifest: { value: Buffer.from('{"parts": 3}'), where: { line: 7 } } };
  const err = t.throws(() => planAll(bucket([o]), OPTS)) as DecodeError;
  t.is(err.code, 'ERR_S3_INVALID_MANIFEST');
  t.is(err.context.line, 7);
  const b = bucket([]);
  b.meta = { value: Buffer.from('not json'), where: {} };
  t.is((t.throws(() => planAll(b, OPTS)) as DecodeError).code, 'ERR_S3_INVALID_BUCKET_META');
});
