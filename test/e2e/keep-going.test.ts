/**
 * SPEC §8 end to end: --keep-going mixes good and bad objects (exit 3,
 * per-bucket _skipped.jsonl sorted by object bytes, s3_skipped_object
 * warnings); run-level codes still fail the run; without --keep-going the
 * first object error fails it and publishes nothing.
 */
import test from 'ava';
import { compositeEtag, SnapshotBuilder } from '../helpers/snapshot.js';
import * as K from '../helpers/keys.js';
import {
  assertDump,
  assertFailure,
  bytesOf,
  dataFiles,
  decode,
  decodeBoth,
  objectFiles,
  plainBucketJson,
  skippedEntries,
  type Dump,
} from './harness.js';

const body = (key: string, n = 10): Buffer => bytesOf(key, n);

function mixed(): SnapshotBuilder {
  return (
    new SnapshotBuilder()
      .bucket('b1')
      .putObject('b1', 'good-1', body('good-1'))
      .putObject('b1', 'dir/good-2', body('good-2', 20), { parts: 2, chunkSize: 3 })
      .putObject('b1', 'incomplete', body('incomplete'), { chunkSize: 4, omitChunks: [1] })
      .putObject('b1', 'etag', body('etag'), { etag: 'ffffffffffffffffffffffffffffffff' })
      .putObject('b1', '../evil', body('evil'))
      .bucket('b2')
      .putObject('b2', 'good-3', body('good-3'))
      .putObject('b2', '_bucket.json', body('clobber'))
      .putObject('b2', 'size', body('size'), { manifestPatch: { size_bytes: 11 } })
      // A bucket whose only object is skipped still has its _bucket.json.
      .bucket('b3')
      .putObject('b3', 'a\\b', body('bs'))
      // A bucket without meta whose only object is skipped: the directory holds just _skipped.jsonl.
      .putObject('b4', 'x//y', body('xy'))
  );
}

test('§8 --keep-going: good objects written, bad ones listed per bucket in _skipped.jsonl (sorted), exit 3', async (t) => {
  const snap = mixed();
  const check = (d: Dump): void => {
    const files = dataFiles(d);
    assertDump(t, d, {
      code: 3,
      files: {
        's3/b1/_bucket.json': plainBucketJson('b1'),
        ...objectFiles('b1', 'good-1', body('good-1')),
        ...objectFiles('b1', 'dir/good-2', body('good-2', 20), { etag: compositeEtag([body('good-2', 20).subarray(0, 10), body('good-2', 20).subarray(10)]) }),
        's3/b1/_skipped.jsonl': files['s3/b1/_skipped.jsonl'] ?? '',
        's3/b2/_bucket.json': plainBucketJson('b2'),
        ...objectFiles('b2', 'good-3', body('good-3')),
        's3/b2/_skipped.jsonl': files['s3/b2/_skipped.jsonl'] ?? '',
        's3/b3/_bucket.json': plainBucketJson('b3'),
        's3/b3/_skipped.jsonl': files['s3/b3/_skipped.jsonl'] ?? '',
        's3/b4/_skipped.jsonl': files['s3/b4/_skipped.jsonl'] ?? '',
      },
      warnings: ['s3_bucket_meta_missing', ...Array<string>(7).fill('s3_skipped_object')],
    });
    t.deepEqual(skippedEntries(t, files['s3/b1/_skipped.jsonl']), [
      ['../evil', 'ERR_S3_MALFORMED_KEY'],
      ['etag', 'ERR_S3_ETAG_MISMATCH'],
      ['incomplete', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS'],
    ]);
    t.deepEqual(skippedEntries(t, files['s3/b2/_skipped.jsonl']), [
      ['_bucket.json', 'ERR_S3_RESERVED_NAME'],
      ['size', 'ERR_S3_SIZE_MISMATCH'],
    ]);
    t.deepEqual(skippedEntries(t, files['s3/b3/_skipped.jsonl']), [['a\\b', 'ERR_S3_MALFORMED_KEY']]);
    t.deepEqual(skippedEntries(t, files['s3/b4/_skipped.jsonl']), [['x//y', 'ERR_S3_MALFORMED_KEY']]);
    const warned = d.log
      .filter((l) => l.event === 's3_skipped_object')
      .map((l) => `${String(l.bucket)} ${String(l.object)} ${String(l.reason)}`)
      .sort();
    t.deepEqual(warned, [
      'b1 ../evil ERR_S3_MALFORMED_KEY',
      'b1 etag ERR_S3_ETAG_MISMATCH',
      'b1 incomplete ERR_S3_INCOMPLETE_BLOB_CHUNKS',
      'b2 _bucket.json ERR_S3_RESERVED_NAME',
      'b2 size ERR_S3_SIZE_MISMATCH',
      'b3 a\\\\b ERR_S3_MALFORMED_KEY', // named in printable form, as errors do: a backslash doubled
      'b4 x//y ERR_S3_MALFORMED_KEY',
    ]);
    const manifest = JSON.parse(d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as { adapters?: { s3?: { buckets?: string[] } } };
    t.deepEqual(manifest.adapters?.s3?.buckets, ['b1', 'b2', 'b3', 'b4'], 'buckets with at least one file');
  };
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) check(d);
  // Shuffled input gives the same _skipped.jsonl order.
  check(await decode(t, snap, 'jsonl', { args: ['--keep-going'], jsonl: { shuffle: 11 } }));
});

test('§8 without --keep-going the first object error fails the run and nothing is published', async (t) => {
  for (const d of await decodeBoth(t, mixed())) {
    t.is(d.code, 1, d.stderr);
    const objectCodes = ['ERR_S3_MALFORMED_KEY', 'ERR_S3_ETAG_MISMATCH', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS', 'ERR_S3_RESERVED_NAME', 'ERR_S3_SIZE_MISMATCH'];
    t.true(
      d.errors.length === 1 && objectCodes.includes(d.errors[0]!),
      `one object error expected, got ${JSON.stringify(d.errors)}: ${d.stderr}`,
    );
  }
});

test('§8 --keep-going with nothing to skip exits 0 and writes no _skipped.jsonl', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a', body('a'));
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'a', body('a')) } });
  }
});

test('§8 --keep-going: run-level codes (invalid manifest, invalid bucket meta, malformed chunk key) still fail the run', async (t) => {
  const base = (): SnapshotBuilder => new SnapshotBuilder().bucket('bkt').putObject('bkt', 'good', body('good'));
  const cases: Array<[string, SnapshotBuilder]> = [
    ['ERR_S3_INVALID_MANIFEST', base().putObject('bkt', 'bad', body('bad'), { rawManifest: '{"upload_id":' })],
    ['ERR_S3_INVALID_MANIFEST', base().putObject('bkt', 'bad', body('bad'), { manifestPatch: { size_bytes: 'ten' } })],
    ['ERR_S3_INVALID_BUCKET_META', base().bucket('other', { rawValue: 'not json' })],
    ['ERR_S3_INVALID_BUCKET_META', base().bucket('other', { extra: { generation: 'one' } })],
    ['ERR_S3_MALFORMED_KEY', base().record(K.raw('!s3|blob|', K.seg('bkt'), K.u64(1), K.seg('good'), K.seg('up-1'), K.u64(1), 0, 0), 'x')],
    ['ERR_S3_MALFORMED_KEY', base().record(K.raw(K.manifestKey('bkt', 1, 'good'), 'trailing'), '{}')],
    ['ERR_S3_MALFORMED_KEY', base().putObject('..', 'x', body('x'))],
    ['ERR_S3_MALFORMED_KEY', base().bucket('')],
  ];
  for (const [i, [code, snap]] of cases.entries()) {
    const d = await decode(t, snap, i % 2 ? 'fsm' : 'jsonl', { args: ['--keep-going'] });
    assertFailure(t, d, code);
  }
});

test('§8 --keep-going: warnings also in text log format', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a', body('a')).putObject('bkt', '/abs', body('abs'));
  const d = await decode(t, snap, 'jsonl', { args: ['--keep-going'], textLog: true });
  t.is(d.code, 3, d.stderr);
  t.regex(d.stderr, /warning s3_skipped_object\b.*\bbucket=bkt\b.*\/abs.*ERR_S3_MALFORMED_KEY/);
});
