import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createManifestCollector } from '../lib/stages/collect.js';
import type { BucketCollection, ChunkAddress, SpilledRecord, SpillSegment } from '../lib/types.js';

const seg: SpillSegment = { id: 0, path: '/p', kind: 'pool', size: 100 };
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

async function collect(records: SpilledRecord[]): Promise<BucketCollection[]> {
  const out: BucketCollection[] = [];
  await pipeline(Readable.from(records), createManifestCollector(), new Writable({ objectMode: true, write: (b, _e, cb) => (out.push(b), cb()) }));
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
  const chunk = (offset: number, tombstone = false): SpilledRecord => ({ kind: 'blob', addr: addr('b', 'o'), location: tombstone ? null : { segment: seg, offset, length: 1 }, ...base, tombstone });
  const [b] = await collect([manifest('{"v":1}'), chunk(0), manifest('{"v":2}'), chunk(5)]);
  const o = [...b!.objects.values()][0]!;
  t.is(o.manifest!.value.toString(), '{"v":2}');
  t.is([...o.blobs!.values()][0]!.location!.offset, 5);
  const [b2] = await collect([manifest('{"v":1}'), chunk(0), manifest(null, true), chunk(0, true)]);
  const o2 = [...b2!.objects.values()][0]!;
  t.is(o2.manifest, undefined);
  t.is(o2.blobs?.size ?? 0, 0);
});

test('collected key components are copies, not views of the input buffers', async (t) => {
  const big = Buffer.alloc(64 * 1024); // unpooled: its own ArrayBuffer
  big.write('xxxxbktobject');
  const a: ChunkAddress = { ...addr('', ''), bucket: big.subarray(4, 7), object: big.subarray(7, 13) };
  const [b] = await collect([{ kind: 'blob', addr: a, location: { segment: seg, offset: 0, length: 1 }, ...base }]);
  const c = [...[...b!.objects.values()][0]!.blobs!.values()][0]!;
  t.not(c.addr.bucket.buffer, big.buffer);
  t.not(c.addr.object.buffer, big.buffer);
  t.is(c.addr.object.toString(), 'object');
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
