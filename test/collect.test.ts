import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import { createBucketCollector } from '../lib/stages/collect.js';
import type { BucketCollection, ChunkAddress, ObjectCollection, SpilledRecord, SpillFile, Where } from '../lib/types.js';

const seg: SpillFile = { id: 0, path: '/p', kind: 'pool' };
const addr = (bucket: string, object: string, chunkNo = 0): ChunkAddress => ({
  bucket: Buffer.from(bucket),
  generation: 1n,
  object: Buffer.from(object),
  uploadId: Buffer.from('up'),
  partNo: 1n,
  chunkNo: BigInt(chunkNo),
  partVersion: 0n,
});
const base = { where: {}, key: Buffer.from('k'), tombstone: false };

const objectsOf = (b: BucketCollection): ObjectCollection[] => [...b.objects.sorted()];

async function collect(records: SpilledRecord[]): Promise<BucketCollection[]> {
  const out: BucketCollection[] = [];
  await pipeline(Readable.from(records), createBucketCollector(), new Writable({ objectMode: true, write: (b, _e, cb) => (out.push(b), cb()) }));
  return out;
}

test('buckets come out in output-path order: enc(bucket) + "/" bytewise', async (t) => {
  const meta = (b: string): SpilledRecord => ({ kind: 'bucket-meta', bucket: Buffer.from(b), value: Buffer.from('{}'), ...base });
  const out = await collect([meta('a'), meta('a-b'), meta('B'), meta('a b')]);
  // enc: "a b" → "a%20b"; '%' (0x25) < '-' (0x2d) < '/' (0x2f); uppercase before lowercase.
  t.deepEqual(out.map((b) => b.name.toString()), ['B', 'a b', 'a-b', 'a']);
});

test('a later record of the same identity replaces the earlier one; a tombstone deletes it', async (t) => {
  const manifest = (v: string | null, tombstone = false): SpilledRecord => ({ kind: 'manifest', bucket: Buffer.from('b'), generation: 1n, object: Buffer.from('o'), value: v === null ? null : Buffer.from(v), ...base, tombstone });
  const chunk = (offset: number, tombstone = false): SpilledRecord => ({ kind: 'blob', addr: addr('b', 'o'), span: tombstone ? null : { file: seg, offset, length: 1 }, ...base, tombstone });
  const [b] = await collect([manifest('{"v":1}'), chunk(0), manifest('{"v":2}'), chunk(5)]);
  const o = objectsOf(b!)[0]!;
  t.is(o.manifest!.value.toString(), '{"v":2}');
  t.is([...o.blobs!.values()][0]!.span!.offset, 5);
  const [b2] = await collect([manifest('{"v":1}'), chunk(0), manifest(null, true), chunk(0, true)]);
  const o2 = objectsOf(b2!)[0]!;
  t.is(o2.manifest, undefined);
  t.is(o2.blobs?.size ?? 0, 0);
});

test('collected key components are copies, not views of the input buffers', async (t) => {
  const big = Buffer.alloc(64 * 1024); // unpooled: its own ArrayBuffer
  big.write('xxxxbktobject');
  const a: ChunkAddress = { ...addr('', ''), bucket: big.subarray(4, 7), object: big.subarray(7, 13) };
  const manifest: SpilledRecord = { kind: 'manifest', bucket: a.bucket, generation: 1n, object: a.object, value: big.subarray(0, 4), ...base };
  const [b] = await collect([{ kind: 'blob', addr: a, span: { file: seg, offset: 0, length: 1 }, ...base }, manifest]);
  const o = objectsOf(b!)[0]!;
  t.not(b!.name.buffer, big.buffer);
  t.not(o.object.buffer, big.buffer);
  t.is(o.object.toString(), 'object');
  t.is(o.key, 'object');
  t.not(o.manifest!.value.buffer, big.buffer);
  t.is(o.manifest!.value.toString(), 'xxxx');
  t.is([...o.blobs!.values()][0]!.uploadId, 'up');
});

test('upload records keep only the winning version per key', async (t) => {
  const up = (key: string, value: string | null, tombstone = false): SpilledRecord => ({
    kind: 'upload',
    prefix: '!s3|upload|meta|',
    bucket: Buffer.from('b'),
    generation: 1n,
    object: Buffer.from('o'),
    uploadId: Buffer.from('u'),
    value: value === null ? null : Buffer.from(value),
    where: {},
    key: Buffer.from(key),
    tombstone,
  });
  const [b] = await collect([up('k1', 'a'), up('k2', 'b'), up('k1', 'c'), up('k2', null, true)]);
  t.deepEqual(b!.uploads.map((u) => [u.key.toString(), u.value!.toString()]), [['k1', 'c']]);
});

// The collector settles versions itself (the resolver forgets keys of sorted
// input, then may pass on an older version if the input turns unsorted).
test('every identity keeps its newest version whatever the order; a tombstone refuses older versions', async (t) => {
  const at = (commitTs: bigint) => ({ ...base, commitTs });
  const manifest = (v: string | null, ts: bigint): SpilledRecord => ({ kind: 'manifest', bucket: Buffer.from('b'), generation: 1n, object: Buffer.from('o'), value: v === null ? null : Buffer.from(v), ...at(ts), tombstone: v === null });
  const chunk = (offset: number | null, ts: bigint): SpilledRecord => ({ kind: 'blob', addr: addr('b', 'o'), span: offset === null ? null : { file: seg, offset, length: 1 }, ...at(ts), tombstone: offset === null });
  const meta = (v: string | null, ts: bigint): SpilledRecord => ({ kind: 'bucket-meta', bucket: Buffer.from('b'), value: v === null ? null : Buffer.from(v), ...at(ts), tombstone: v === null });
  const blob = (digest: string, offset: number | null, ts: bigint): SpilledRecord => ({ kind: 'chunkblob', digest, span: offset === null ? null : { file: seg, offset, length: 1 }, ...at(ts), tombstone: offset === null });
  const up = (value: string | null, ts: bigint): SpilledRecord => ({
    kind: 'upload',
    prefix: '!s3|upload|meta|',
    bucket: Buffer.from('b'),
    generation: 1n,
    object: Buffer.from('o'),
    uploadId: Buffer.from('u'),
    value: value === null ? null : Buffer.from(value),
    where: {},
    key: Buffer.from('k'),
    tombstone: value === null,
    commitTs: ts,
  });
  const [b] = await collect([
    manifest('{"v":9}', 9n),
    manifest('{"v":5}', 5n), // older: refused
    chunk(1, 9n),
    chunk(2, 3n), // older: refused
    meta('{"m":2}', 2n),
    meta(null, 4n), // newer tombstone: deletes
    meta('{"m":3}', 3n), // older than the tombstone: refused
    blob('d1', 1, 5n),
    blob('d1', null, 6n),
    blob('d1', 2, 1n), // older than the tombstone: refused
    blob('d2', 3, 1n),
    blob('d2', 4, 1n), // equal: the later wins
    up('new', 8n),
    up('old', 7n), // refused
  ]);
  const o = objectsOf(b!)[0]!;
  t.is(o.manifest!.value.toString(), '{"v":9}');
  t.deepEqual([...o.blobs!.values()].map((c) => c.span!.offset), [1]);
  t.is(b!.meta, undefined);
  t.false(b!.chunkBlobs.has('d1'));
  t.is(b!.chunkBlobs.get('d2')!.offset, 4);
  t.deepEqual(b!.uploads.map((u) => u.value!.toString()), ['new']);

  // A deleted object stays deleted when older versions come after the tombstones.
  const [b2] = await collect([manifest(null, 9n), chunk(null, 9n), manifest('{"v":1}', 1n), chunk(1, 1n)]);
  const o2 = objectsOf(b2!)[0]!;
  t.is(o2.manifest, undefined);
  t.is(o2.blobs!.size, 0);
});

test("a bucket's generations and its bucket meta's place in the input come out as they went in", async (t) => {
  const chunk = (bucket: string, generation: bigint): SpilledRecord => ({ kind: 'blob', addr: { ...addr(bucket, 'o'), generation }, span: { file: seg, offset: 0, length: 1 }, ...base });
  const manifest = (bucket: string, generation: bigint): SpilledRecord => ({ kind: 'manifest', bucket: Buffer.from(bucket), generation, object: Buffer.from('o'), value: Buffer.from('{}'), ...base });
  const meta = (bucket: string, where: Where, value = '{}'): SpilledRecord => ({ kind: 'bucket-meta', bucket: Buffer.from(bucket), value: Buffer.from(value), ...base, where });
  const out = await collect([
    chunk('a', 3n),
    chunk('b', 1n),
    meta('a', { offset: 0 }),
    meta('b', { line: 7 }, '{"first":1}'),
    meta('b', { line: 9 }, '{"second":2}'), // same commit_ts: the later wins
    meta('c', {}),
    manifest('a', 2n),
    manifest('a', 3n),
    manifest('a', 18446744073709551615n),
    manifest('b', 1n),
  ]);
  t.deepEqual(
    out.map((b) => [b.name.toString(), b.objects.generations(), b.meta?.value.toString(), b.meta?.where]),
    [
      ['a', [3n, 2n, 18446744073709551615n], '{}', { offset: 0 }],
      ['b', [1n], '{"second":2}', { line: 9 }],
      ['c', [], '{}', {}],
    ],
  );
});

test('collections wait for the sink: a sink failing at one bucket of many fails the run', async (t) => {
  const meta = (i: number): SpilledRecord => ({ kind: 'bucket-meta', bucket: Buffer.from(`b${String(i).padStart(3, '0')}`), value: Buffer.from('{}'), ...base });
  let seen = 0;
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 1,
    write: (_b: BucketCollection, _e, cb) => setImmediate(() => cb(++seen === 40 ? new Error('sink failed') : null)),
  });
  await t.throwsAsync(pipeline(Readable.from(Array.from({ length: 500 }, (_, i) => meta(i))), createBucketCollector(), sink), { message: 'sink failed' });
  t.is(seen, 40);
});

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
}

/**
 * Live JavaScript objects (a heap snapshot's nodes, taken after a full
 * collection) and their bytes; code, V8's roots and the contents of array
 * buffers (the bytes kept, by design) are not counted.
 */
async function heapCensus(): Promise<{ objects: number; bytes: number }> {
  const chunks: Buffer[] = [];
  for await (const c of v8.getHeapSnapshot()) chunks.push(c as Buffer);
  const snap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HeapSnapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [type, size] = [fields.indexOf('type'), fields.indexOf('self_size')];
  const uncounted = new Set(['code', 'synthetic', 'native'].map((x) => types.indexOf(x)));
  let objects = 0;
  let bytes = 0;
  for (let i = 0; i < snap.nodes.length; i += fields.length) {
    if (uncounted.has(snap.nodes[i + type]!)) continue;
    objects++;
    bytes += snap.nodes[i + size]!;
  }
  return { objects, bytes };
}

/**
 * The heap census when the first bucket collection of n one-object buckets
 * reaches the sink: then every bucket is waiting. Records come as in a
 * snapshot (chunks, then bucket metas, then manifests: three key ranges)
 * and are made as they are read, so they are not counted.
 */
async function censusAtFirstBucket(n: number): Promise<{ objects: number; bytes: number }> {
  const name = (i: number) => Buffer.from(`bucket-${String(i).padStart(6, '0')}`);
  function* records(): Generator<SpilledRecord> {
    for (let i = 0; i < n; i++) yield { kind: 'blob', addr: { ...addr('', 'object.txt'), bucket: name(i) }, span: { file: seg, offset: i, length: 1 }, ...base };
    for (let i = 0; i < n; i++) {
      const value = Buffer.from(`{"bucket_name":"${name(i).toString()}","generation":1,"created_at_hlc":112354531483516928,"owner":"o"}`);
      yield { kind: 'bucket-meta', bucket: name(i), value, ...base, where: { line: n + i + 1 } };
    }
    for (let i = 0; i < n; i++) yield { kind: 'manifest', bucket: name(i), generation: 1n, object: Buffer.from('object.txt'), value: Buffer.from('{"size_bytes":1}'), ...base };
  }
  let census: { objects: number; bytes: number } | undefined;
  let buckets = 0;
  await pipeline(
    Readable.from(records()),
    createBucketCollector(),
    new Writable({
      objectMode: true,
      write: (_b: BucketCollection, _e, cb) => {
        if (buckets++ > 0) return cb();
        heapCensus().then((c) => cb(void (census = c)), cb);
      },
    }),
  );
  if (buckets !== n) throw new Error(`${buckets} buckets of ${n}`);
  return census!;
}

test('a bucket waiting for the end of input is no JavaScript objects but its name: collections are made as the sink takes them', async (t) => {
  // The difference of two runs cancels what does not grow with the bucket count.
  const small = await censusAtFirstBucket(500);
  const large = await censusAtFirstBucket(5_500);
  const objects = (large.objects - small.objects) / 5_000;
  const bytes = (large.bytes - small.bytes) / 5_000;
  t.log(`per waiting bucket: ${objects.toFixed(2)} objects, ${bytes.toFixed(0)} bytes`);
  // The string that maps its name to its row (~14 objects, ~950 bytes when a bucket was objects).
  t.true(objects < 1.5, `${objects.toFixed(2)} objects per waiting bucket`);
  t.true(bytes < 100, `${bytes.toFixed(0)} bytes per waiting bucket`);
});
