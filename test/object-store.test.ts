import test from 'ava';
import { BLOB, ObjectList, ObjectStore, packWhere, REF, unpackWhere } from '../lib/core/object-store.js';
import type { ChunkAddress, CollectedChunk, ObjectCollection, Span, SpillFile } from '../lib/types.js';

// The collector's per-bucket store (lib/core/object-store.ts): objects by
// (generation, key); per identity the newest version wins (equal commit_ts:
// the later one), a tombstone leaves a mark that refuses older versions;
// chunks iterate in arrival order of their identity, like a Map's entries.

const pool: SpillFile = { id: 0, path: '/p', kind: 'pool' };
const loc = (offset: number, length = 1, file = pool): Span => ({ file, offset, length });

function addr(chunkNo: number | bigint, opts: { uploadId?: string | Buffer; partNo?: bigint; partVersion?: bigint } = {}): ChunkAddress {
  const up = opts.uploadId ?? 'up';
  return {
    bucket: Buffer.from('b'),
    generation: 1n,
    object: Buffer.from('o'),
    uploadId: typeof up === 'string' ? Buffer.from(up, 'latin1') : up,
    partNo: opts.partNo ?? 1n,
    chunkNo: BigInt(chunkNo),
    partVersion: opts.partVersion ?? 0n,
  };
}

const only = (s: ObjectStore): ObjectCollection => {
  const all = s.sorted();
  if (all.length !== 1) throw new Error(`${all.length} objects`);
  return all[0]!;
};
const blobs = (o: ObjectCollection): CollectedChunk[] => [...(o.blobs?.values() ?? [])];
const offsets = (o: ObjectCollection): number[] => blobs(o).map((c) => c.span!.offset);

test('objects are found by (generation, key bytes); views come sorted by key bytes, then generation', (t) => {
  const s = new ObjectStore();
  const keys = [Buffer.from('b'), Buffer.from([0xff]), Buffer.from('a'), Buffer.from('a/'), Buffer.from([0x80, 0x00])];
  const ids = keys.map((k) => s.object(2n, k));
  t.is(s.object(1n, Buffer.from('b')), 5); // another generation: another object
  t.deepEqual(
    keys.map((k) => s.object(2n, Buffer.from(k))),
    ids,
  );
  t.is(s.size, 6);
  t.deepEqual(s.generations().sort(), [1n, 2n]);
  const sorted = s.sorted();
  t.deepEqual(
    sorted.map((o) => [o.key, o.generation]),
    [
      ['a', 2n],
      ['a/', 2n],
      ['b', 1n],
      ['b', 2n],
      ['\x80\x00', 2n],
      ['\xff', 2n],
    ],
  );
  t.deepEqual(sorted[4]!.object, Buffer.from([0x80, 0x00]));
  t.is(sorted[0]!.manifest, undefined);
  t.is(sorted[0]!.blobs, undefined);
});

test('many objects: the index grows and every object is found again', (t) => {
  const s = new ObjectStore();
  const n = 5000;
  for (let i = 0; i < n; i++) t.is(s.object(BigInt(i % 3), Buffer.from(`k${i}`)), i);
  for (let i = 0; i < n; i += 7) t.is(s.object(BigInt(i % 3), Buffer.from(`k${i}`)), i);
  t.is(s.size, n);
  t.is(s.object(0n, Buffer.from('k1')), n); // k1 is in generation 1
});

test('manifest versions: the highest commit_ts wins whatever the order; equal: the later; a tombstone refuses older versions', (t) => {
  const s = new ObjectStore();
  const i = s.object(1n, Buffer.from('o'));
  const m = (v: string) => Buffer.from(`{"v":"${v}"}`);
  t.true(s.setManifest(i, m('5'), 5n, { line: 5 }));
  t.false(s.setManifest(i, m('3'), 3n, { line: 6 }));
  t.is(only(s).manifest!.value.toString(), '{"v":"5"}');
  t.deepEqual(only(s).manifest!.where, { line: 5 });
  t.true(s.setManifest(i, m('5b'), 5n, { offset: 7 }));
  t.is(only(s).manifest!.value.toString(), '{"v":"5b"}');
  t.deepEqual(only(s).manifest!.where, { offset: 7 });
  t.true(s.setManifest(i, null, 9n, { line: 9 }));
  t.is(only(s).manifest, undefined);
  t.false(s.setManifest(i, m('8'), 8n, { line: 10 })); // older than the tombstone
  t.is(only(s).manifest, undefined);
  t.true(s.setManifest(i, m('9'), 9n, { line: 11 })); // equal: the later record
  t.is(only(s).manifest!.value.toString(), '{"v":"9"}');
  t.true(s.setManifest(i, m('2^64-1'), 18446744073709551615n, { line: 12 }));
  t.false(s.setManifest(i, m('2^64-2'), 18446744073709551614n, { line: 13 }));
  t.is(only(s).manifest!.value.toString(), '{"v":"2^64-1"}');
});

test('manifest bytes come back exactly (Go-style JSON is kept encoded, anything else as it is)', (t) => {
  const s = new ObjectStore();
  const values = [
    '{"upload_id":"u","etag":"e","size_bytes":3,"last_modified_hlc":1,"content_type":"application/octet-stream","parts":[{"part_no":1,"etag":"e","size_bytes":3,"chunk_count":1,"chunk_sizes":[3]}]}',
    'not json \x00\x01\x1f',
    '',
  ];
  values.forEach((v, i) => s.setManifest(s.object(1n, Buffer.from(`k${i}`)), Buffer.from(v, 'latin1'), 1n, {}));
  t.deepEqual(
    s.sorted().map((o) => o.manifest!.value.toString('latin1')),
    values,
  );
});

test('release() lets go of the manifest (it reads as absent), and the bytes of other objects stay intact', (t) => {
  const s = new ObjectStore();
  const n = 3000; // several arena blocks
  const value = (i: number) => Buffer.from(`{"upload_id":"${'x'.repeat(200)}${i}"}`);
  for (let i = 0; i < n; i++) s.setManifest(s.object(1n, Buffer.from(`k${String(i).padStart(5, '0')}`)), value(i), 1n, {});
  const views = s.sorted();
  for (let i = 0; i < n; i += 2) views[i]!.release!();
  // Released blocks may be reused: fill new ones.
  const other = new ObjectStore();
  for (let i = 0; i < n; i++) other.setManifest(other.object(1n, Buffer.from(`z${i}`)), Buffer.from('{"upload_id":"' + 'y'.repeat(300) + '"}'), 1n, {});
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) t.is(views[i]!.manifest, undefined);
    else t.true(views[i]!.manifest!.value.equals(value(i)), `object ${i}`);
  }
});

test('chunks: a newer version replaces in place; an older one is refused; a tombstone leaves a mark', (t) => {
  const s = new ObjectStore();
  const i = s.object(1n, Buffer.from('o'));
  t.true(s.setChunk(i, BLOB, addr(0), 5n, { line: 1 }, loc(10)));
  t.true(s.setChunk(i, BLOB, addr(1), 5n, { line: 2 }, loc(11)));
  t.false(s.setChunk(i, BLOB, addr(0), 4n, { line: 3 }, loc(12)));
  t.deepEqual(offsets(only(s)), [10, 11]);
  t.true(s.setChunk(i, BLOB, addr(0), 5n, { line: 4 }, loc(13))); // equal: later wins, same place
  t.deepEqual(offsets(only(s)), [13, 11]);
  t.is(only(s).blobs!.size, 2);
  t.true(s.setChunk(i, BLOB, addr(0), 7n, { line: 5 }, null)); // tombstone
  t.deepEqual(offsets(only(s)), [11]);
  t.is(only(s).blobs!.size, 1);
  t.false(s.setChunk(i, BLOB, addr(0), 6n, { line: 6 }, loc(14))); // older than the tombstone
  t.deepEqual(offsets(only(s)), [11]);
  t.true(s.setChunk(i, BLOB, addr(0), 8n, { line: 7 }, loc(15))); // back after the tombstone: at the end
  t.deepEqual(offsets(only(s)), [11, 15]);
  t.is(only(s).blobs!.size, 2);
  t.true(s.setChunk(i, BLOB, addr(0), 8n, { line: 8 }, loc(16))); // replaced in place again
  t.deepEqual(offsets(only(s)), [11, 16]);
  t.true(s.setChunk(i, BLOB, addr(2), 1n, { line: 9 }, null)); // a tombstone for a chunk never seen
  t.false(s.setChunk(i, BLOB, addr(2), 0n, { line: 10 }, loc(17)));
  t.is(only(s).blobs!.size, 2);
});

test('chunk identity is (kind, upload id bytes, part, chunk, part version)', (t) => {
  const s = new ObjectStore();
  const i = s.object(1n, Buffer.from('o'));
  s.setChunk(i, BLOB, addr(0), 1n, {}, loc(1));
  s.setChunk(i, BLOB, addr(0, { uploadId: 'other' }), 1n, {}, loc(2));
  s.setChunk(i, BLOB, addr(0, { uploadId: Buffer.from([0xff, 0x00]) }), 1n, {}, loc(3));
  s.setChunk(i, BLOB, addr(0, { partNo: 2n }), 1n, {}, loc(4));
  s.setChunk(i, BLOB, addr(0, { partVersion: 18446744073709551615n }), 1n, {}, loc(5));
  s.setChunk(i, BLOB, addr(18446744073709551615n), 1n, {}, loc(6));
  t.true(s.setChunk(i, REF, addr(0), 0n, { line: 3 }, Buffer.from('ref'))); // a chunkref is no blob
  t.false(s.setChunk(i, BLOB, addr(0, { uploadId: 'other' }), 0n, {}, loc(7)));
  const o = only(s);
  t.deepEqual(offsets(o), [1, 2, 3, 4, 5, 6]);
  t.deepEqual(
    blobs(o).map((c) => [c.uploadId, c.partNo, c.chunkNo, c.partVersion, c.commitTs]),
    [
      ['up', 1n, 0n, 0n, 1n],
      ['other', 1n, 0n, 0n, 1n],
      ['\xff\x00', 1n, 0n, 0n, 1n],
      ['up', 2n, 0n, 0n, 1n],
      ['up', 1n, 0n, 18446744073709551615n, 1n],
      ['up', 1n, 18446744073709551615n, 0n, 1n],
    ],
  );
  const refs = [...o.refs!.values()];
  t.is(refs.length, 1);
  t.is(refs[0]!.ref!.toString(), 'ref');
  t.is(refs[0]!.span, undefined);
  t.deepEqual(refs[0]!.where, { line: 3 });
  t.is(blobs(o)[0]!.ref, undefined);
  t.is(blobs(o)[0]!.span!.file, pool);
});

test('an object with many chunks: all found again, replaced and deleted by identity', (t) => {
  const s = new ObjectStore();
  const i = s.object(1n, Buffer.from('big'));
  const j = s.object(1n, Buffer.from('other'));
  const n = 3000;
  for (let c = 0; c < n; c++) s.setChunk(i, BLOB, addr(c), 1n, {}, loc(c));
  s.setChunk(j, BLOB, addr(0), 1n, {}, loc(-1));
  for (let c = 0; c < n; c += 3) s.setChunk(i, BLOB, addr(c), 2n, {}, loc(c + n));
  for (let c = 1; c < n; c += 3) s.setChunk(i, BLOB, addr(c), 2n, {}, null);
  const [big, other] = s.sorted();
  t.is(big!.blobs!.size, n - Math.ceil((n - 1) / 3));
  const got = offsets(big!);
  const want: number[] = [];
  for (let c = 0; c < n; c++) if (c % 3 !== 1) want.push(c % 3 === 0 ? c + n : c);
  t.deepEqual(got, want);
  t.deepEqual(offsets(other!), [-1]);
});

test('views iterate freshly: values() twice gives the same chunks', (t) => {
  const s = new ObjectStore();
  const i = s.object(1n, Buffer.from('o'));
  s.setChunk(i, BLOB, addr(0), 1n, {}, loc(1));
  s.setChunk(i, BLOB, addr(1), 1n, {}, loc(2));
  const chunks = only(s).blobs!;
  t.deepEqual([...chunks.values()].map((c) => c.span!.offset), [1, 2]);
  t.deepEqual([...chunks.values()].map((c) => c.span!.offset), [1, 2]);
});

test('where packing round-trips lines, offsets and nothing', (t) => {
  for (const w of [{ line: 0 }, { line: 1 }, { line: 123456789 }, { offset: 0 }, { offset: 5 }, { offset: 2 ** 40 }, {}]) t.deepEqual(unpackWhere(packWhere(w)), w);
});

test('ObjectList: plain ObjectCollections as the objects of a bucket', (t) => {
  const o = (key: string, generation: bigint): ObjectCollection => ({ generation, key, object: Buffer.from(key, 'latin1'), manifest: undefined, blobs: undefined, refs: undefined });
  const list = new ObjectList([o('b', 1n), o('a', 2n), o('a', 1n)]);
  t.is(list.size, 3);
  t.deepEqual(list.generations().sort(), [1n, 2n]);
  t.deepEqual(
    list.sorted().map((x) => [x.key, x.generation]),
    [
      ['a', 1n],
      ['a', 2n],
      ['b', 1n],
    ],
  );
});
