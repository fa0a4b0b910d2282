import test from 'ava';
import { decodeRoute, encodeRoute, routeRecordKey, RouteCatalogBuilder } from '../lib/cluster/catalog.js';
import { routeOf } from '../lib/cluster/route-key.js';
import { DecodeError } from '../lib/errors.js';
import type { SnapshotRecord } from '../lib/types.js';
import { catalogRouteKey, catalogRouteValue } from './helpers/cluster.js';
import * as K from './helpers/keys.js';

// SPEC §10 step 2: the route catalog codec and the route keys records are owned by.

test('route key of object-scoped families: !s3route| ‖ seg(bucket) ‖ u64(gen) ‖ seg(object)', (t) => {
  const want = K.routeKey('b\0kt', 7, 'dir/ob\0j');
  const chunk = { bucket: 'b\0kt', generation: 7, object: 'dir/ob\0j', uploadId: 'up', partNo: 1, chunkNo: 2 };
  for (const key of [
    K.manifestKey('b\0kt', 7, 'dir/ob\0j'),
    K.blobKey(chunk),
    K.blobKey({ ...chunk, partVersion: 9 }),
    K.chunkrefKey(chunk),
    K.uploadMetaKey('b\0kt', 7, 'dir/ob\0j', 'up'),
    K.uploadPartKey('b\0kt', 7, 'dir/ob\0j', 'up', 3),
    K.gcUploadKey('b\0kt', 7, 'dir/ob\0j', 'up'),
  ]) {
    const r = routeOf(key);
    t.deepEqual(r.routeKey, want, key.toString('latin1'));
    t.deepEqual(r.bucket, Buffer.from('b\0kt'));
    t.deepEqual(r.object, Buffer.from('dir/ob\0j'));
  }
});

test('route key of bucket meta, bucket gen, chunkblob and foreign keys is the raw key', (t) => {
  for (const key of [K.bucketMetaKey('bkt'), K.bucketGenKey('bkt'), K.chunkblobKey('ab'.repeat(32)), Buffer.from('!redis|str|x')]) {
    t.deepEqual(routeOf(key).routeKey, key);
  }
  t.deepEqual(routeOf(K.bucketMetaKey('bkt')).bucket, Buffer.from('bkt'));
});

test('a truncated object-scoped key is routed by its raw bytes (the classifier reports it)', (t) => {
  const key = K.raw('!s3|obj|head|', K.seg('bkt'), 0, 0, 1);
  t.deepEqual(routeOf(key).routeKey, key);
});

test('route descriptors: codec versions 1 and 2, with and without an end', (t) => {
  const v1 = decodeRoute(catalogRouteKey(3), catalogRouteValue({ routeId: 3, groupId: 2, start: 'a', end: 'm', version: 1, parentRouteId: 1 }));
  t.deepEqual(v1, { routeId: 3n, groupId: 2n, state: 'active', parentRouteId: 1n, start: Buffer.from('a'), end: Buffer.from('m') });
  const v2 = decodeRoute(catalogRouteKey(4), catalogRouteValue({ routeId: 4, groupId: 5, start: 'm', state: 3, splitAtHlc: 77n }));
  t.deepEqual(v2, { routeId: 4n, groupId: 5n, state: 'migrating-target', parentRouteId: 0n, start: Buffer.from('m'), end: undefined, splitAtHlc: 77n });
});

test('a route descriptor that does not decode is ERR_CATALOG_INVALID naming its key', (t) => {
  const good = catalogRouteValue({ routeId: 1, groupId: 1, start: '', end: 'z' });
  const cases: Array<[string, Buffer, Buffer]> = [
    ['unknown version', catalogRouteKey(1), Buffer.concat([Buffer.from([3]), good.subarray(1)])],
    ['trailing byte', catalogRouteKey(1), Buffer.concat([good, Buffer.from([0])])],
    ['truncated', catalogRouteKey(1), good.subarray(0, good.length - 3)],
    ['bad state', catalogRouteKey(1), catalogRouteValue({ routeId: 1, groupId: 1, start: '', state: 4 })],
    ['id differs from key', catalogRouteKey(2), good],
    ['start not below end', catalogRouteKey(1), catalogRouteValue({ routeId: 1, groupId: 1, start: 'z', end: 'a' })],
    ['group 0', catalogRouteKey(1), catalogRouteValue({ routeId: 1, groupId: 0, start: '' })],
    ['short key', Buffer.from('!dist|route|\x01'), good],
  ];
  for (const [what, key, value] of cases) {
    const err = t.throws(() => decodeRoute(key, value), { instanceOf: DecodeError }, what);
    t.is(err?.code, 'ERR_CATALOG_INVALID', what);
    t.deepEqual(err?.context.key, key, what);
  }
});

const rec = (routeId: number, ts: bigint, value: Buffer | null): SnapshotRecord => ({ key: catalogRouteKey(routeId), value, commitTs: ts, tombstone: value === null, where: {} });

test('catalog: newest version per route wins, a tombstone removes it, lookup is start ≤ key < end', (t) => {
  const b = new RouteCatalogBuilder();
  b.add(rec(1, 10n, catalogRouteValue({ routeId: 1, groupId: 1, start: '', end: 'm' })));
  b.add(rec(2, 10n, catalogRouteValue({ routeId: 2, groupId: 2, start: 'm' })));
  b.add(rec(1, 5n, catalogRouteValue({ routeId: 1, groupId: 9, start: '', end: 'm' }))); // older: ignored
  b.add(rec(3, 10n, catalogRouteValue({ routeId: 3, groupId: 3, start: 'x' })));
  b.add(rec(3, 11n, null)); // deleted
  const c = b.build();
  t.is(c.size, 2);
  t.is(c.lookup(Buffer.from('a'))?.groupId, 1n);
  t.is(c.lookup(Buffer.from('l\xff', 'latin1'))?.groupId, 1n);
  t.is(c.lookup(Buffer.from('m'))?.groupId, 2n);
  t.is(c.lookup(Buffer.from('zzz'))?.groupId, 2n);
});

test('catalog: a key no route covers has no owner', (t) => {
  const b = new RouteCatalogBuilder();
  b.add(rec(1, 10n, catalogRouteValue({ routeId: 1, groupId: 1, start: 'b', end: 'c' })));
  t.is(b.build().lookup(Buffer.from('a')), undefined);
  t.is(b.build().lookup(Buffer.from('c')), undefined);
});

test('catalog: an identical or older late copy would not change it, a newer one would', (t) => {
  const b = new RouteCatalogBuilder();
  const v = catalogRouteValue({ routeId: 1, groupId: 1, start: '' });
  b.add(rec(1, 10n, v));
  t.false(b.wouldChange(rec(1, 10n, Buffer.from(v))));
  t.false(b.wouldChange(rec(1, 9n, catalogRouteValue({ routeId: 1, groupId: 2, start: '' }))));
  t.true(b.wouldChange(rec(1, 10n, catalogRouteValue({ routeId: 1, groupId: 2, start: '' }))));
  t.true(b.wouldChange(rec(1, 11n, v)));
  t.true(b.wouldChange(rec(2, 1n, v)));
});

test('encodeRoute writes what the SPEC codec describes (version 2 with splitAtHlc, else 1)', (t) => {
  const r1 = { routeId: 3n, groupId: 2n, state: 'write-fenced' as const, parentRouteId: 1n, start: Buffer.from('a'), end: Buffer.from('m') };
  t.deepEqual(encodeRoute(r1), catalogRouteValue({ routeId: 3, groupId: 2, state: 1, parentRouteId: 1, start: 'a', end: 'm', version: 1 }));
  t.deepEqual(encodeRoute({ ...r1, end: undefined, splitAtHlc: 5n }), catalogRouteValue({ routeId: 3, groupId: 2, state: 1, parentRouteId: 1, start: 'a', version: 2, splitAtHlc: 5n }));
  t.deepEqual(routeRecordKey(258n), catalogRouteKey(258));
});
