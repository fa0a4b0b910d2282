/**
 * SPEC §3.3 and §5.1, §5.7, §5.9, §5.10 end to end: MVCC version
 * resolution, bucket generations (stale generations, missing bucket meta),
 * orphan chunks and incomplete uploads — through the real CLI, JSONL and
 * native input.
 */
import { createHash } from 'node:crypto';
import test from 'ava';
import * as K from '../helpers/keys.js';
import { testEncodedKey } from '../helpers/fsm.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import {
  assertDump,
  assertFailure,
  bytesOf,
  decode,
  decodeBoth,
  FORMS,
  FSM_DEFAULTS,
  objectFiles,
  plainBucketJson,
  type Dump,
} from './harness.js';

const BKT = plainBucketJson('bkt');
const body = (key: string, n = 10): Buffer => bytesOf(key, n);
const hex16 = (n: number | bigint): string => BigInt(n).toString(16).padStart(16, '0');
const orphanName = (upload: string, part: number, chunk: number, version: number | bigint = 0): string =>
  `${upload}_${hex16(part)}_${hex16(chunk)}_${hex16(version)}.bin`;

function warning(d: Dump, event: string): Record<string, unknown> | undefined {
  return d.log.find((l) => l.level === 'warn' && l.event === event);
}

// ------------------------------------------------------------ §3.3 MVCC

test('§3.3 MVCC: a tombstone newer than the manifest deletes the object (its chunks become orphans); an older one does not', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'deleted', body('deleted'), { chunkSize: 4 })
    .tombstone(K.manifestKey('bkt', 1, 'deleted'), 200)
    .putObject('bkt', 'kept', body('kept'))
    .tombstone(K.manifestKey('bkt', 1, 'kept'), 50);
  // Everything of "gone" is deleted: no orphans either.
  snap.putObject('bkt', 'gone', body('gone', 3));
  snap.tombstone(K.manifestKey('bkt', 1, 'gone'), 200).tombstone(K.blobKey({ bucket: 'bkt', generation: 1, object: 'gone', uploadId: 'up-1', partNo: 1, chunkNo: 0 }), 200);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'kept', body('kept')) }, warnings: ['s3_orphan_chunks'] });
    t.like(warning(d, 's3_orphan_chunks'), { bucket: 'bkt', object: 'deleted', chunks: 3 });
  }
});

test('§3.3 MVCC: the newest manifest wins whatever the input order (commit_ts above 2^53 too)', async (t) => {
  const older = body('older', 7);
  const newer = body('newer', 12);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'obj', newer, { uploadId: 'up-2', chunkSize: 5, commitTs: (1n << 63n) + 5n })
    .putObject('bkt', 'obj', older, { uploadId: 'up-1', chunkSize: 5, commitTs: (1n << 53n) + 1n })
    .putObject('bkt', 'small', older, { uploadId: 'up-1', commitTs: 300 })
    .putObject('bkt', 'small', newer, { uploadId: 'up-2', commitTs: 301 });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'obj', newer), ...objectFiles('bkt', 'small', newer) } });
  }
});

test('§3.3 MVCC: an older blob version is ignored; a newer blob tombstone makes the chunk missing', async (t) => {
  const b = body('b', 10);
  const chunk0 = K.blobKey({ bucket: 'bkt', generation: 1, object: 'obj', uploadId: 'up-1', partNo: 1, chunkNo: 0 });
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'obj', b, { chunkSize: 4 }).record(chunk0, bytesOf('stale', 4), { commitTs: 50 });
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'obj', b) } });
  const gone = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'obj', b, { chunkSize: 4 }).tombstone(chunk0, 150);
  for (const d of await decodeBoth(t, gone)) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
});

test('§3.3 MVCC: equal commit_ts — the later record in the input wins', async (t) => {
  const a = body('a', 6);
  const b = body('b', 9);
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'obj', a, { uploadId: 'up-a' }).putObject('bkt', 'obj', b, { uploadId: 'up-b' });
  for (const form of FORMS) {
    // Native input unsorted here, so that "later" is well defined for both forms.
    const d = await decode(t, snap, form, { fsm: { ...FSM_DEFAULTS, sort: false } });
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'obj', b) } });
  }
});

test('§3.3 MVCC: older versions arriving after a long sorted stretch (keys the resolver has let go of) still lose', async (t) => {
  // A sorted stretch long enough that the version resolver forgets the
  // early keys (it keeps only the keys sorted input may still revisit),
  // then older versions of them out of order: the collector, which keeps
  // every identity's commit_ts and tombstones' marks, must refuse them.
  const newer = body('newer', 9);
  const older = body('older', 7);
  const sorted = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'a-kept', newer, { uploadId: 'up-new', commitTs: 200 })
    .putObject('bkt', 'b-deleted', body('gone', 3), { commitTs: 100 })
    .tombstone(K.manifestKey('bkt', 1, 'b-deleted'), 150)
    .tombstone(K.blobKey({ bucket: 'bkt', generation: 1, object: 'b-deleted', uploadId: 'up-1', partNo: 1, chunkNo: 0 }), 150);
  const fillers: Record<string, Buffer> = {};
  for (let i = 0; i < 400; i++) {
    const key = `f${String(i).padStart(3, '0')}`;
    fillers[key] = body(key, 4);
    sorted.putObject('bkt', key, fillers[key]!);
  }
  const snap = new SnapshotBuilder();
  const records = sorted.records().sort((x, y) => Buffer.compare(testEncodedKey(x.key, x.commitTs), testEncodedKey(y.key, y.commitTs)));
  for (const r of records) snap.record(r.key, r.value, { commitTs: r.commitTs, tombstone: r.tombstone });
  const late = new SnapshotBuilder()
    .putObject('bkt', 'a-kept', older, { uploadId: 'up-old', commitTs: 50 })
    .putObject('bkt', 'b-deleted', body('back', 3), { commitTs: 120 })
    .putObject('bkt', 'f000', body('f000-old', 4), { commitTs: 99 });
  for (const r of late.records()) snap.record(r.key, r.value, { commitTs: r.commitTs, tombstone: r.tombstone });
  const files = { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'a-kept', newer) };
  for (const [key, b] of Object.entries(fillers)) Object.assign(files, objectFiles('bkt', key, b));
  for (const form of FORMS) {
    const d = await decode(t, snap, form, { fsm: { ...FSM_DEFAULTS, sort: false } });
    // The older upload's chunk of a-kept has no manifest of its own: not an orphan (the object has one).
    assertDump(t, d, { files });
  }
});

test('§3.3 MVCC: the newest bucket meta decides the active generation', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt', { generation: 2, commitTs: 200, owner: 'new' })
    .bucket('bkt', { generation: 1, commitTs: 100, owner: 'old' })
    .putObject('bkt', 'g1', body('g1'), { generation: 1 })
    .putObject('bkt', 'g2', body('g2'), { generation: 2 });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: { 's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt",\n  "owner": "new"\n}', ...objectFiles('bkt', 'g2', body('g2')) },
      warnings: ['s3_stale_generation_objects'],
    });
  }
});

// ------------------------------------------------------------ §5.7 generations

function staleSnapshot(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('bkt', { generation: 2 })
    .putObject('bkt', 'new.txt', body('new.txt', 12), { chunkSize: 8 })
    .putObject('bkt', 'old.txt', body('old.txt', 10), { generation: 1, chunkSize: 8 })
    // The same key, upload id and chunk numbers in the live and the stale generation.
    .putObject('bkt', 'same.txt', body('same-live', 12), { chunkSize: 8 })
    .putObject('bkt', 'same.txt', body('same-stale', 10), { generation: 1, chunkSize: 8 })
    // A generation above the active one is stale too.
    .putObject('bkt', 'dir/fut ure', body('future', 3), { generation: 3, uploadId: 'up/9', partVersion: 26 });
}

test('§5.7 stale generations: not emitted, warning s3_stale_generation_objects', async (t) => {
  for (const d of await decodeBoth(t, staleSnapshot())) {
    assertDump(t, d, {
      files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'new.txt', body('new.txt', 12)), ...objectFiles('bkt', 'same.txt', body('same-live', 12)) },
      warnings: ['s3_stale_generation_objects'],
    });
    t.like(warning(d, 's3_stale_generation_objects'), { bucket: 'bkt', active_generation: 2, count: 3 });
  }
});

test('§5.7/§5.10 stale generations with --include-orphans: blob chunks under _orphans/<enc(obj)>/gen-N/', async (t) => {
  const old = body('old.txt', 10);
  const sameStale = body('same-stale', 10);
  for (const d of await decodeBoth(t, staleSnapshot(), { args: ['--include-orphans'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'new.txt', body('new.txt', 12)),
        ...objectFiles('bkt', 'same.txt', body('same-live', 12)),
        [`s3/bkt/_orphans/old.txt/gen-1/${orphanName('up-1', 1, 0)}`]: old.subarray(0, 8),
        [`s3/bkt/_orphans/old.txt/gen-1/${orphanName('up-1', 1, 1)}`]: old.subarray(8),
        [`s3/bkt/_orphans/same.txt/gen-1/${orphanName('up-1', 1, 0)}`]: sameStale.subarray(0, 8),
        [`s3/bkt/_orphans/same.txt/gen-1/${orphanName('up-1', 1, 1)}`]: sameStale.subarray(8),
        [`s3/bkt/_orphans/dir%2Ffut%20ure/gen-3/${orphanName('up%2F9', 1, 0, 26)}`]: body('future', 3),
      },
      warnings: ['s3_stale_generation_objects'],
    });
  }
});

// ------------------------------------------------------------ §5.1 missing bucket meta

test('§5.1 missing bucket meta: the highest generation is active, warning s3_bucket_meta_missing', async (t) => {
  const snap = new SnapshotBuilder()
    .putObject('bkt', 'a.txt', body('a.txt'), { generation: 3 })
    .putObject('bkt', 'old.txt', body('old.txt'), { generation: 1 })
    .putObject('bkt', 'b.txt', body('b.txt'), { generation: 3 });
  for (const d of await decodeBoth(t, snap)) {
    // No meta record: no _bucket.json.
    assertDump(t, d, {
      files: { ...objectFiles('bkt', 'a.txt', body('a.txt')), ...objectFiles('bkt', 'b.txt', body('b.txt')) },
      warnings: ['s3_bucket_meta_missing', 's3_stale_generation_objects'],
    });
    t.like(warning(d, 's3_bucket_meta_missing'), { bucket: 'bkt', active_generation: 3 });
    t.like(warning(d, 's3_stale_generation_objects'), { bucket: 'bkt', active_generation: 3, count: 1 });
  }
});

test('§5.1 bucket meta with generation 0 counts as missing; blob and chunkref generations count too', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('zero', { generation: 0 })
    .putObject('zero', 'two', body('two'), { generation: 2 })
    .putObject('zero', 'five', body('five'), { generation: 5 })
    // "blobs": a manifest at generation 2, but orphan blob chunks at generation 4 make 4 active.
    .putObject('blobs', 'x', body('x'), { generation: 2 })
    .putObject('blobs', 'lost', body('lost', 3), { generation: 4, omitManifest: true })
    // "refs": the same with an orphan chunkref at generation 6.
    .putObject('refs', 'y', body('y'), { generation: 1 })
    .putObject('refs', 'lostref', body('lostref', 3), { generation: 6, omitManifest: true, offloaded: true });
  for (const d of await decodeBoth(t, snap)) {
    // Whether orphan chunkrefs (no blob chunks) warn as orphans the SPEC leaves open: that one is not checked.
    const other = d.log.filter((l) => l.level === 'warn' && !(l.event === 's3_orphan_chunks' && l.bucket === 'refs'));
    d.warnings = other.map((l) => String(l.event)).sort();
    assertDump(t, d, {
      files: { 's3/zero/_bucket.json': plainBucketJson('zero'), ...objectFiles('zero', 'five', body('five')) },
      warnings: [
        's3_bucket_meta_missing',
        's3_bucket_meta_missing',
        's3_bucket_meta_missing',
        's3_orphan_chunks',
        's3_stale_generation_objects',
        's3_stale_generation_objects',
        's3_stale_generation_objects',
      ],
    });
    t.like(warning(d, 's3_orphan_chunks'), { bucket: 'blobs', object: 'lost', chunks: 1 });
    const missing = d.log.filter((l) => l.event === 's3_bucket_meta_missing').map((l) => [l.bucket, l.active_generation]);
    t.deepEqual(
      missing.sort(),
      [
        ['blobs', 4],
        ['refs', 6],
        ['zero', 5],
      ],
    );
    // Buckets holding only stale objects and orphans have no directory (nor a MANIFEST entry).
    const manifest = JSON.parse(d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as { adapters?: { s3?: { buckets?: string[] } } };
    t.deepEqual(manifest.adapters?.s3?.buckets, ['zero']);
  }
});

// ------------------------------------------------------------ §5.10 orphans

function orphanSnapshot(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'file.txt', body('file.txt'))
    .putObject('bkt', 'lost.bin', Buffer.from('orphan-0orphan-1'), { uploadId: 'up-x', chunkSize: 8, omitManifest: true })
    .putObject('bkt', 'v/lost', body('v', 5), { uploadId: 'u p', partVersion: 0x1a, parts: [2, 3], omitManifest: true });
}

test('§5.10 orphans without --include-orphans: warning s3_orphan_chunks, nothing written', async (t) => {
  for (const d of await decodeBoth(t, orphanSnapshot())) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'file.txt', body('file.txt')) }, warnings: ['s3_orphan_chunks', 's3_orphan_chunks'] });
    const w = d.log.filter((l) => l.event === 's3_orphan_chunks').map((l) => [l.bucket, l.object, l.chunks]);
    t.deepEqual(
      w.sort(),
      [
        ['bkt', 'lost.bin', 2],
        ['bkt', 'v/lost', 2],
      ],
    );
  }
});

test('§5.10 orphans with --include-orphans: _orphans/<enc(obj)>/gen-N/<enc(upload)>_<part>_<chunk>_<version>.bin', async (t) => {
  const v = body('v', 5);
  for (const d of await decodeBoth(t, orphanSnapshot(), { args: ['--include-orphans'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'file.txt', body('file.txt')),
        's3/bkt/_orphans/lost.bin/gen-1/up-x_0000000000000001_0000000000000000_0000000000000000.bin': 'orphan-0',
        's3/bkt/_orphans/lost.bin/gen-1/up-x_0000000000000001_0000000000000001_0000000000000000.bin': 'orphan-1',
        's3/bkt/_orphans/v%2Flost/gen-1/u%20p_0000000000000001_0000000000000000_000000000000001a.bin': v.subarray(0, 2),
        's3/bkt/_orphans/v%2Flost/gen-1/u%20p_0000000000000002_0000000000000000_000000000000001a.bin': v.subarray(2),
      },
      warnings: ['s3_orphan_chunks', 's3_orphan_chunks'],
    });
  }
});

test('§5.10 orphans: an orphan key ".", ".." or empty fails with ERR_S3_MALFORMED_KEY only with --include-orphans', async (t) => {
  for (const key of ['.', '..', '']) {
    const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'ok', body('ok')).putObject('bkt', key, body(key, 3), { omitManifest: true });
    for (const d of await decodeBoth(t, snap)) {
      assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'ok', body('ok')) }, warnings: ['s3_orphan_chunks'] });
    }
    for (const d of await decodeBoth(t, snap, { args: ['--include-orphans'] })) assertFailure(t, d, 'ERR_S3_MALFORMED_KEY');
  }
});

// ------------------------------------------------------------ §5.9 incomplete uploads

const uploadValue = (s: string): Buffer => Buffer.from(JSON.stringify({ note: s }));

function uploadsSnapshot(): { snap: SnapshotBuilder; bkt: Array<[string, Buffer, Buffer]>; only: Array<[string, Buffer, Buffer]> } {
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'file.txt', body('file.txt'));
  const bigMeta = K.uploadMetaKey('bkt', 1, 'pending/big.iso', 'upl-1');
  const part1 = K.uploadPartKey('bkt', 1, 'pending/big.iso', 'upl-1', 1);
  const part2 = K.uploadPartKey('bkt', 1, 'pending/big.iso', 'upl-1', 2);
  const part3 = K.uploadPartKey('bkt', 1, 'pending/big.iso', 'upl-1', 3);
  const aMeta = K.uploadMetaKey('bkt', 1, 'a-first', 'upl-2');
  const onlyMeta = K.uploadMetaKey('uploads-only', 4, 'x', 'upl-3');
  const onlyPart = K.uploadPartKey('uploads-only', 4, 'x', 'upl-3', 1);
  snap
    .record(part2, uploadValue('part2-new'), { commitTs: 200 })
    .record(bigMeta, uploadValue('big meta'))
    .record(onlyPart, uploadValue('only part'))
    .record(part1, uploadValue('part1'))
    .record(part2, uploadValue('part2-old'), { commitTs: 100 })
    .record(part3, uploadValue('part3'), { commitTs: 100 })
    .tombstone(part3, 200) // deleted: not written
    .record(onlyMeta, uploadValue('only meta'))
    .record(aMeta, uploadValue('a meta'));
  const sorted = (xs: Array<[string, Buffer, Buffer]>): Array<[string, Buffer, Buffer]> => xs.sort((x, y) => Buffer.compare(x[1], y[1]));
  return {
    snap,
    bkt: sorted([
      ['!s3|upload|meta|', bigMeta, uploadValue('big meta')],
      ['!s3|upload|part|', part1, uploadValue('part1')],
      ['!s3|upload|part|', part2, uploadValue('part2-new')],
      ['!s3|upload|meta|', aMeta, uploadValue('a meta')],
    ]),
    only: sorted([
      ['!s3|upload|meta|', onlyMeta, uploadValue('only meta')],
      ['!s3|upload|part|', onlyPart, uploadValue('only part')],
    ]),
  };
}

const recordsJsonl = (xs: Array<[string, Buffer, Buffer]>): string =>
  xs.map(([prefix, key, value]) => `{"prefix":"${prefix}","key":"${key.toString('base64')}","value":"${value.toString('base64')}"}\n`).join('');

test('§5.9 incomplete uploads excluded by default', async (t) => {
  for (const d of await decodeBoth(t, uploadsSnapshot().snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'file.txt', body('file.txt')) } });
  }
});

test('§5.9 incomplete uploads included: winning versions, sorted by key bytes, in _incomplete_uploads/records.jsonl', async (t) => {
  const { snap, bkt, only } = uploadsSnapshot();
  t.is(bkt.length, 4);
  for (const d of await decodeBoth(t, snap, { args: ['--include-incomplete-uploads'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'file.txt', body('file.txt')),
        's3/bkt/_incomplete_uploads/records.jsonl': recordsJsonl(bkt),
        's3/uploads-only/_incomplete_uploads/records.jsonl': recordsJsonl(only),
      },
    });
  }
});

test('§5.9 incomplete uploads: a malformed upload key fails with ERR_S3_MALFORMED_KEY with or without the flag', async (t) => {
  const bad = [
    K.uploadMetaKey('..', 1, 'x', 'u'),
    K.uploadPartKey('.', 1, 'x', 'u', 1),
    K.uploadMetaKey('', 1, 'x', 'u'),
    K.raw('!s3|upload|part|', K.seg('bkt'), K.u64(1), K.seg('x'), K.seg('u'), 0, 0, 1), // truncated partNo
  ];
  for (const [i, key] of bad.entries()) {
    const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'ok', body('ok')).record(key, uploadValue('bad'));
    // Alternate the forms to keep the run count down; both flag settings each time.
    const form = FORMS[i % 2]!;
    assertFailure(t, await decode(t, snap, form), 'ERR_S3_MALFORMED_KEY');
    assertFailure(t, await decode(t, snap, form, { args: ['--include-incomplete-uploads'] }), 'ERR_S3_MALFORMED_KEY');
  }
});

test('§3.3 MVCC: a tombstoned bucket meta counts as missing; an equal-commit_ts tombstone later in the input deletes', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt', { commitTs: 100 })
    .tombstone(K.bucketMetaKey('bkt'), 200)
    .putObject('bkt', 'kept', body('kept'))
    .putObject('bkt', 'same-ts', body('same-ts', 3))
    .tombstone(K.manifestKey('bkt', 1, 'same-ts'), 100);
  for (const form of FORMS) {
    const d = await decode(t, snap, form, { fsm: { ...FSM_DEFAULTS, sort: false } });
    assertDump(t, d, { files: objectFiles('bkt', 'kept', body('kept')), warnings: ['s3_bucket_meta_missing', 's3_orphan_chunks'] });
    t.like(warning(d, 's3_orphan_chunks'), { object: 'same-ts' });
  }
});

test('§5.10 orphans: object and upload names use enc() with its SHA fallback', async (t) => {
  const longKey = 'o'.repeat(300);
  const longUpload = 'u'.repeat(250);
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', longKey, body('long', 4), { omitManifest: true })
    .putObject('bkt', 'b64.x', body('b64', 4), { omitManifest: true, uploadId: longUpload });
  for (const d of await decodeBoth(t, snap, { args: ['--include-orphans'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        [`s3/bkt/_orphans/${sha(longKey)}__${'o'.repeat(64)}/gen-1/${orphanName('up-1', 1, 0)}`]: body('long', 4),
        [`s3/bkt/_orphans/${sha('b64.x')}__b64.x/gen-1/${orphanName(`${sha(longUpload)}__${'u'.repeat(64)}`, 1, 0)}`]: body('b64', 4),
      },
      warnings: ['s3_orphan_chunks', 's3_orphan_chunks'],
    });
  }
});

test('§5.7 stale-generation objects are not path-checked; as orphans their names are enc()oded (".." still fails)', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt', { generation: 2 })
    .putObject('bkt', 'ok', body('ok'))
    .putObject('bkt', '../evil', body('evil', 4), { generation: 1 })
    .putObject('bkt', 'a//b', body('ab', 4), { generation: 1 });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'ok', body('ok')) }, warnings: ['s3_stale_generation_objects'] });
  }
  for (const d of await decodeBoth(t, snap, { args: ['--include-orphans'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'ok', body('ok')),
        [`s3/bkt/_orphans/..%2Fevil/gen-1/${orphanName('up-1', 1, 0)}`]: body('evil', 4),
        [`s3/bkt/_orphans/a%2F%2Fb/gen-1/${orphanName('up-1', 1, 0)}`]: body('ab', 4),
      },
      warnings: ['s3_stale_generation_objects'],
    });
  }
  const dotdot = new SnapshotBuilder().bucket('bkt', { generation: 2 }).putObject('bkt', '..', body('dd', 2), { generation: 1 });
  for (const d of await decodeBoth(t, dotdot, { args: ['--include-orphans'] })) assertFailure(t, d, 'ERR_S3_MALFORMED_KEY');
});
