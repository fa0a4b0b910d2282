import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createConflictDetector } from '../lib/cluster/conflicts.js';
import { createOwnershipFilter } from '../lib/cluster/ownership.js';
import { DecodeError } from '../lib/errors.js';
import { blockOf, releaseBlock, takeBlock } from '../lib/io/shared-blocks.js';
import type { SnapshotRecord, Warning } from '../lib/types.js';
import { catalogRouteKey, catalogRouteValue, type TestRoute } from './helpers/cluster.js';
import * as K from './helpers/keys.js';

// SPEC §10 step 2 (ownership by the route catalog) and step 1 (conflicts between inputs).

const r = (key: Buffer, input: number, ts = 100n, value: string | null = 'v'): SnapshotRecord => ({
  key,
  value: value === null ? null : Buffer.from(value),
  commitTs: ts,
  tombstone: value === null,
  where: {},
  input,
});
const route = (x: TestRoute, input = 0): SnapshotRecord => ({ ...r(catalogRouteKey(x.routeId), input, 50n), value: catalogRouteValue(x) });

async function run(stage: NodeJS.ReadWriteStream, recs: SnapshotRecord[]): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  await pipeline(
    Readable.from(recs),
    stage,
    new Writable({
      objectMode: true,
      write(rec: SnapshotRecord, _e, cb) {
        out.push(rec);
        cb();
      },
    }),
  );
  return out;
}

// Objects a..l live in group 1, m.. in group 2.
const ROUTES: TestRoute[] = [
  { routeId: 1, groupId: 1, start: '', end: K.routeKey('bkt', 1, 'm') },
  { routeId: 2, groupId: 2, start: K.routeKey('bkt', 1, 'm') },
];
const paths = ['g1.fsm', 'g2.fsm'];

test('with a catalog and known groups only the owning group\'s copy is kept; dropped copies are warned per bucket and group', async (t) => {
  const warnings: Warning[] = [];
  const apple = K.manifestKey('bkt', 1, 'apple');
  const mango = K.manifestKey('bkt', 1, 'mango');
  const mangoBlob = K.blobKey({ bucket: 'bkt', generation: 1, object: 'mango', uploadId: 'u', partNo: 1, chunkNo: 0 });
  const keep = [r(apple, 0), r(mango, 1), r(mangoBlob, 1)];
  const stale = [r(apple, 1, 900n), r(mango, 0, 900n), r(mangoBlob, 0)];
  const recs = [route(ROUTES[0]!), route(ROUTES[1]!), keep[0]!, stale[0]!, stale[1]!, stale[2]!, keep[1]!, keep[2]!];
  const out = await run(createOwnershipFilter({ groupIds: [1n, 2n], paths, onWarning: (w) => warnings.push(w) }), recs);
  t.deepEqual(out.slice(2), keep);
  t.deepEqual(
    warnings.map((w) => [w.event, w.bucket, w.group, w.records]),
    [
      ['s3_stale_group_copy', 'bkt', 2n, 1],
      ['s3_stale_group_copy', 'bkt', 1n, 2],
    ],
  );
});

test('chunkblobs are kept from every group; bucket meta follows its raw key', async (t) => {
  const blob = K.chunkblobKey('ab'.repeat(32));
  const meta = K.bucketMetaKey('bkt'); // "!s3|bucket|meta|…" ≥ "!s3route|…m": group 2 owns it
  const out = await run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), [route(ROUTES[0]!), route(ROUTES[1]!), r(blob, 0), r(blob, 1), r(meta, 0), r(meta, 1)]);
  t.deepEqual(
    out.slice(2).map((x) => [x.key.toString('latin1').slice(0, 9), x.input]),
    [
      ['!s3|chunk', 0],
      ['!s3|chunk', 1],
      ['!s3|bucke', 1],
    ],
  );
});

test('without a catalog, or with an unknown group id, nothing is dropped and s3_catalog_unavailable is warned once', async (t) => {
  const key = K.manifestKey('bkt', 1, 'apple');
  for (const [groupIds, catalog, reason] of [
    [[1n, 2n], false, /no route catalog/],
    [[1n, undefined], true, /group id of g2.fsm is unknown/],
  ] as const) {
    const warnings: Warning[] = [];
    const recs = [...(catalog ? [route(ROUTES[0]!), route(ROUTES[1]!)] : []), r(key, 0), r(key, 1), r(K.manifestKey('bkt', 1, 'zz'), 0)];
    const out = await run(createOwnershipFilter({ groupIds, paths, onWarning: (w) => warnings.push(w) }), recs);
    t.is(out.length, recs.length);
    t.is(warnings.length, 1);
    t.is(warnings[0]?.event, 's3_catalog_unavailable');
    t.regex(String(warnings[0]?.reason), reason);
  }
});

test('routes not active are used and warned once as catalog_route_not_active', async (t) => {
  const warnings: Warning[] = [];
  const key = K.manifestKey('bkt', 1, 'zebra');
  const out = await run(createOwnershipFilter({ groupIds: [1n, 2n], paths, onWarning: (w) => warnings.push(w) }), [
    route(ROUTES[0]!),
    route({ ...ROUTES[1]!, state: 2 }),
    r(key, 0),
    r(key, 1),
  ]);
  t.deepEqual(
    out.slice(2).map((x) => x.input),
    [1],
  );
  t.deepEqual(
    warnings.map((w) => [w.event, w.routes, w.state]),
    [
      ['catalog_route_not_active', 1, 'migrating-source'],
      ['s3_stale_group_copy', undefined, undefined],
    ],
  );
});

test('a catalog record that does not decode fails with ERR_CATALOG_INVALID', async (t) => {
  const bad = { ...route(ROUTES[0]!), value: Buffer.from([1, 2, 3]) };
  const err = await t.throwsAsync(run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), [bad]), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_CATALOG_INVALID');
});

test('a catalog record after S3 records (unsorted input) that would change the catalog fails; an identical copy does not', async (t) => {
  const key = K.manifestKey('bkt', 1, 'apple');
  const ok = await run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), [route(ROUTES[0]!), route(ROUTES[1]!), r(key, 0), route(ROUTES[0]!, 1)]);
  t.is(ok.length, 4);
  const err = await t.throwsAsync(run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), [route(ROUTES[0]!), r(key, 0), route(ROUTES[1]!, 1)]), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_CATALOG_INVALID');
  t.regex(err?.message ?? '', /give the input that holds the route catalog first/);
});

for (const sorted of [true, false]) {
  test(`conflicts (${sorted ? 'sorted' : 'concatenated'}): same key and commit_ts in two inputs with different values warn s3_group_conflict; identical copies do not`, async (t) => {
    const warnings: Warning[] = [];
    const a = K.manifestKey('bkt', 1, 'report.csv');
    const b = K.manifestKey('bkt', 1, 'common.txt');
    const recs = sorted
      ? [r(b, 0, 5n, 'same'), r(b, 1, 5n, 'same'), r(a, 0, 5n, 'one'), r(a, 1, 5n, 'two'), r(a, 1, 4n, 'old')]
      : [r(a, 0, 5n, 'one'), r(b, 0, 5n, 'same'), r(b, 1, 5n, 'same'), r(a, 1, 4n, 'old'), r(a, 1, 5n, 'two')];
    const out = await run(createConflictDetector({ paths, sorted: () => sorted, onWarning: (w) => warnings.push(w) }), recs);
    t.is(out.length, recs.length);
    t.deepEqual(warnings, [{ event: 's3_group_conflict', bucket: 'bkt', object: 'report.csv', commit_ts: 5n, first: 'g1.fsm', second: 'g2.fsm' }]);
  });
}

test('conflicts: a tombstone against a value at the same commit_ts is a conflict; the same input twice is not', async (t) => {
  const warnings: Warning[] = [];
  const a = K.manifestKey('bkt', 1, 'x');
  await run(createConflictDetector({ paths, sorted: () => true, onWarning: (w) => warnings.push(w) }), [r(a, 0, 5n, 'v'), r(a, 0, 5n, 'w'), r(a, 1, 5n, null)]);
  t.is(warnings.length, 1);
});

test('a value in pieces is dropped with its stale copy and kept with the owner\'s (lib/stages/value-pieces.ts)', async (t) => {
  const blob = (input: number): SnapshotRecord => ({ ...r(K.blobKey({ bucket: 'bkt', generation: 1, object: 'mango', uploadId: 'u', partNo: 1, chunkNo: 0 }), input), value: null, valueLength: 4 });
  const piece = (text: string, last: boolean) => ({ kind: 'piece' as const, bytes: Buffer.from(text), last });
  const recs = [route(ROUTES[0]!), route(ROUTES[1]!), blob(0), piece('st', false), piece('al', true), blob(1), piece('ke', false), piece('pt', true)];
  const out = (await run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), recs as SnapshotRecord[])) as unknown as Array<SnapshotRecord & { bytes?: Buffer }>;
  t.deepEqual(out.slice(2).map((x) => (x.bytes ? x.bytes.toString() : `record of input ${x.input}`)), ['record of input 1', 'ke', 'pt']);
});

test('a route catalog record whose value comes in pieces is refused (ERR_CATALOG_INVALID), not read as a deleted route', async (t) => {
  const big: SnapshotRecord = { ...route(ROUTES[0]!), value: null, valueLength: 3 << 20 };
  const err = await t.throwsAsync(run(createOwnershipFilter({ groupIds: [1n, 2n], paths }), [big]), { instanceOf: DecodeError });
  t.is(err.code, 'ERR_CATALOG_INVALID');
});

test('conflicts: sorted input still compares a value whose shared block its consumer has released (the block is held, not refilled under it)', async (t) => {
  // A value in a shared block is released by the spiller once written, and the reader refills free blocks:
  // the detector keeps a hold on the previous record's block, so the next record's value cannot land in it.
  const warnings: Warning[] = [];
  const key = K.blobKey({ bucket: 'bkt', generation: 1, object: 'plum', uploadId: 'u', partNo: 1, chunkNo: 0 });
  const inBlock = (fill: number, input: number): SnapshotRecord => ({ ...r(key, input, 5n), value: takeBlock(256 * 1024).fill(fill) });
  let consumed!: () => void;
  const firstConsumed = new Promise<void>((resolve) => (consumed = resolve));
  const first = inBlock(0x41, 0);
  async function* records(): AsyncGenerator<SnapshotRecord> {
    yield first;
    await firstConsumed;
    yield inBlock(0x42, 1); // takes a free block: the first's, were it free
  }
  await pipeline(
    Readable.from(records()),
    createConflictDetector({ paths, sorted: () => true, onWarning: (w) => warnings.push(w) }),
    new Writable({
      objectMode: true,
      write(rec: SnapshotRecord, _enc, cb) {
        releaseBlock(rec.value!); // as the spiller does
        if (rec === first) consumed();
        cb();
      },
    }),
  );
  t.is(warnings.length, 1, 'two different values at one key and commit_ts from two inputs');
  t.is(first.value!.readUInt8(0), 0x41, 'the first value was not overwritten');
  t.is(blockOf(first.value!), undefined, 'no hold is left once the stream ends');
});
