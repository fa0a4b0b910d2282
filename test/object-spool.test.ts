import test from 'ava';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BLOB, chunkPayload, decodePayload, manifestPayload, parseRecordKey, recordKey } from '../lib/core/object-record.js';
import { ObjectVersions } from '../lib/core/object-versions.js';
import { BUDGET_ENV } from '../lib/io/external-sort.js';
import { ObjectSpool } from '../lib/stages/object-spool.js';
import type { ChunkAddress, ObjectCollection, SpillFile } from '../lib/types.js';

// The collector's store of object metadata (lib/stages/object-spool.ts):
// records sorted by bucket directory, key bytes, generation and arrival;
// beyond a byte budget sorted runs go to the scratch directory and are
// merged. Whatever the budget, each bucket's objects come out the same.

function scratch(t: import('ava').ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-spool-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const pool: SpillFile = { id: 3, path: '/p', kind: 'pool' };

/** One version as the collector adds it. */
interface Op {
  bucket: number;
  generation: bigint;
  key: Buffer;
  payload: Buffer;
}

const dirOf = (bucket: number) => Buffer.from(['b', 'a.c', 'a', '%FF'][bucket]!);

function addr(key: Buffer, generation: bigint, chunkNo: bigint, uploadId = 'u'): ChunkAddress {
  return { bucket: Buffer.from('x'), generation, object: key, uploadId: Buffer.from(uploadId), partNo: 1n, chunkNo, partVersion: 0n };
}

async function spoolOf(ops: Op[], dir: string | undefined, budgetBytes?: number): Promise<ObjectSpool> {
  const spool = new ObjectSpool({ ...(dir !== undefined ? { scratchDir: dir } : {}), ...(budgetBytes !== undefined ? { budgetBytes } : {}) });
  spool.noteFile(pool);
  for (const op of ops) await spool.add(dirOf(op.bucket), op.generation, op.key, op.payload);
  await spool.finish();
  return spool;
}

/** What a settled object shows: key, generation, manifest, blob offsets. */
const show = (o: ObjectCollection) => [o.key, o.generation, o.manifest?.value.toString('latin1') ?? null, [...(o.blobs?.values() ?? [])].map((c) => c.span!.offset)];

const bucketsOut = (spool: ObjectSpool, gens: bigint[][]) => [0, 1, 2, 3].map((b) => [...spool.objectsOf(b, gens[b] ?? []).sorted()].map(show));

test('record keys keep any key bytes (00 and FF included) and the generation', (t) => {
  for (const key of [Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 0xff, 0]), Buffer.from('a/b'), Buffer.from([0xff, 0xff])]) {
    const k = recordKey(Buffer.from('bkt'), key, 18446744073709551615n, 5);
    const p = parseRecordKey(k);
    t.deepEqual(p.key, key);
    t.is(p.generation, 18446744073709551615n);
  }
  // Bytewise order of the keys is the order of the record keys: "a" < "a\0" < "a\0\0" < "a\x01".
  const keys = [Buffer.from('a'), Buffer.from('a\0'), Buffer.from('a\0\0'), Buffer.from('a\x01'), Buffer.from('a\xff')];
  const rk = keys.map((k, i) => recordKey(Buffer.from('d'), k, 1n, 100 - i));
  t.deepEqual([...rk].sort(Buffer.compare), rk);
});

for (const [name, budget] of [
  ['in memory', undefined],
  ['spilled: a run every record', 1],
  ['spilled: a run every few records', 400],
] as const) {
  test(`objects come out by bucket directory, then key bytes, then generation; versions settled in arrival order (${name})`, async (t) => {
    const dir = scratch(t);
    const m = (bucket: number, key: string, g: bigint, v: string | null, ts: bigint): Op => ({ bucket, generation: g, key: Buffer.from(key, 'latin1'), payload: manifestPayload(bucket, v === null ? null : Buffer.from(v), ts, {}) });
    const c = (bucket: number, key: string, g: bigint, n: bigint, ts: bigint, offset: number | null): Op => ({
      bucket,
      generation: g,
      key: Buffer.from(key, 'latin1'),
      payload: chunkPayload(bucket, BLOB, addr(Buffer.from(key, 'latin1'), g, n), ts, {}, offset === null ? null : { file: pool, offset, length: 1 }),
    });
    const ops: Op[] = [
      m(0, 'z', 1n, 'z1', 1n),
      c(0, 'a\x00', 2n, 0n, 1n, 10),
      m(2, 'k', 1n, 'k-a', 1n),
      c(0, 'a\x00', 2n, 1n, 1n, 11),
      m(0, 'a', 2n, 'a2', 1n),
      m(0, 'a', 1n, 'a1', 1n),
      c(0, 'a\x00', 2n, 0n, 3n, null), // tombstone of chunk 0
      m(2, 'k', 1n, 'k-b', 1n), // equal commit_ts: the later wins
      m(0, 'z', 1n, 'z0', 0n), // older: refused
      c(0, 'a\x00', 2n, 0n, 4n, 12), // back after the tombstone: after chunk 1
      m(1, '\xff', 1n, 'ff', 1n),
      m(3, 'q', 1n, null, 1n),
    ];
    const spool = await spoolOf(ops, dir, budget);
    if (budget !== undefined) t.true(spool.runs > 1);
    else t.is(spool.runs, 0);
    const want = [
      // bucket 0, dir "b"
      [
        ['a', 1n, 'a1', []],
        ['a', 2n, 'a2', []],
        ['a\x00', 2n, null, [11, 12]],
        ['z', 1n, 'z1', []],
      ],
      [['\xff', 1n, 'ff', []]],
      [['k', 1n, 'k-b', []]],
      [['q', 1n, null, []]],
    ];
    t.deepEqual(bucketsOut(spool, []), want);
    // Read again: the same (the plan reads a bucket twice).
    t.deepEqual(bucketsOut(spool, []), want);
    t.deepEqual(
      [0, 1, 2, 3].map((b) => spool.objectsOf(b, []).size),
      [4, 1, 1, 1],
    );
    t.is(spool.objectsOf(9, []).size, 0);
    // Sorted runs are gone; only the merged store stays (the scratch directory's owner removes it).
    t.deepEqual(fs.readdirSync(dir).length, budget === undefined ? 0 : 1);
  });
}

test(`${BUDGET_ENV} sets the budget when no option does (end-to-end tests spill with it)`, async (t) => {
  const dir = scratch(t);
  const before = process.env[BUDGET_ENV];
  process.env[BUDGET_ENV] = '1';
  t.teardown(() => (before === undefined ? delete process.env[BUDGET_ENV] : (process.env[BUDGET_ENV] = before)));
  const ops = ['a', 'b', 'c'].map((k) => ({ bucket: 0, generation: 1n, key: Buffer.from(k), payload: manifestPayload(0, Buffer.from(k), 1n, {}) }));
  const spool = await spoolOf(ops, dir);
  t.is(spool.runs, 3);
  t.deepEqual(
    [...spool.objectsOf(0, []).sorted()].map((o) => o.manifest!.value.toString()),
    ['a', 'b', 'c'],
  );
});

test('property: any versions in any order settle the same with any budget as replayed per object in arrival order', async (t) => {
  const dir = scratch(t);
  const op = fc.record({
    bucket: fc.integer({ min: 0, max: 2 }),
    generation: fc.constantFrom(1n, 2n),
    key: fc.constantFrom('a', 'a/b', 'a\x00', 'b', '\xff'),
    chunk: fc.option(fc.constantFrom(0n, 1n, 2n), { nil: undefined }),
    ts: fc.bigInt({ min: 0n, max: 4n }),
    tombstone: fc.boolean(),
    offset: fc.nat(1000),
  });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 2000 }), async (list, budget) => {
      const ops: Op[] = list.map((o) => {
        const key = Buffer.from(o.key, 'latin1');
        const payload =
          o.chunk === undefined
            ? manifestPayload(o.bucket, o.tombstone ? null : Buffer.from(`m${o.offset}`), o.ts, { line: o.offset })
            : chunkPayload(o.bucket, BLOB, addr(key, o.generation, o.chunk), o.ts, {}, o.tombstone ? null : { file: pool, offset: o.offset, length: 1 });
        return { bucket: o.bucket, generation: o.generation, key, payload };
      });
      // Expected: each object's records replayed in arrival order, objects sorted by key bytes then generation.
      const want: unknown[][] = [[], [], [], []];
      for (let b = 0; b < 3; b++) {
        const objects = new Map<string, ObjectVersions>();
        for (const o of ops.filter((x) => x.bucket === b)) {
          const id = `${o.key.toString('hex')}/${o.generation}`;
          if (!objects.has(id)) objects.set(id, new ObjectVersions(o.key, o.generation, new Map([[pool.id, pool]])));
          objects.get(id)!.apply(decodePayload(o.payload));
        }
        want[b] = [...objects.values()].sort((x, y) => Buffer.compare(x.object, y.object) || Number(x.generation - y.generation)).map(show);
      }
      const sub = path.join(dir, String(n++));
      fs.mkdirSync(sub);
      const spool = await spoolOf(ops, sub, budget);
      t.deepEqual(bucketsOut(spool, []), want);
    }),
    { numRuns: 60 },
  );
});

test('manifests read after the store has been read on (a scratch store of several read buffers) are still their own', async (t) => {
  // Manifests are decoded when first read, from a copy of their record:
  // the store's read buffer is refilled in place as reading goes on.
  const dir = scratch(t);
  const manifestOf = (i: number) => Buffer.from(`{"size":${i},"etag":"${String(i).padStart(32, '0')}"}`.padEnd(200, ' '));
  const ops = Array.from({ length: 8000 }, (_, i) => {
    const key = Buffer.from(`k${String(i).padStart(6, '0')}`);
    return { bucket: 0, generation: 1n, key, payload: manifestPayload(0, manifestOf(i), 1n, {}) };
  });
  const spool = await spoolOf(ops, dir, 64 * 1024);
  t.true(spool.runs > 0);
  const objects = [...spool.objectsOf(0, []).sorted()];
  t.is(objects.length, 8000);
  t.true(objects.every((o, i) => o.manifest!.value.equals(manifestOf(i))));
});

test('each object of a scratch store of several read buffers keeps all its versions (the previous key is not a view of the refilled buffer)', async (t) => {
  // A small manifest then two large chunk versions (long upload ids) per
  // object: a store of about 4 MiB read through a 1 MiB buffer refilled in
  // place, where most refills fall between an object's first and last version.
  const dir = scratch(t);
  const n = 3000;
  const key = (i: number) => `k${String(i).padStart(6, '0')}`;
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const k = Buffer.from(key(i));
    ops.push({ bucket: 0, generation: 1n, key: k, payload: manifestPayload(0, Buffer.from(`{"size":${i}}`), 1n, {}) });
    const uploadId = 'u'.repeat(100 + ((i * 37) % 800));
    for (const c of [0n, 1n]) ops.push({ bucket: 0, generation: 1n, key: k, payload: chunkPayload(0, BLOB, addr(k, 1n, c, uploadId), 1n, {}, { file: pool, offset: 2 * i + Number(c), length: 1 }) });
  }
  const spool = await spoolOf(ops, dir, 256 * 1024);
  t.true(spool.runs > 0);
  const objects = [...spool.objectsOf(0, []).sorted()].map(show);
  t.is(objects.length, n);
  t.deepEqual(objects, Array.from({ length: n }, (_, i) => [key(i), 1n, `{"size":${i}}`, [2 * i, 2 * i + 1]]));
});
