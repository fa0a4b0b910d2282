/**
 * SPEC §3 and §6 end to end: the dump is a function of the snapshot's
 * records, not of their order or encoding — shuffled JSONL (several seeds),
 * CRLF/blank-line JSONL, sorted native with and without HLC header and CRC
 * footer, unsorted native, stdin — all give the same tree byte for byte,
 * except MANIFEST.json's last_commit_ts / wall_time_iso / source (and its
 * CHECKSUMS line).
 */
import test from 'ava';
import * as K from '../helpers/keys.js';
import { compositeEtag, SnapshotBuilder } from '../helpers/snapshot.js';
import {
  assertDump,
  bytesOf,
  dataFiles,
  decode,
  FSM_DEFAULTS,
  objectFiles,
  plainBucketJson,
  rebuild,
  type Dump,
  type Expected,
} from './harness.js';

const body = (key: string, n: number): Buffer => bytesOf(key, n);

/** Many record kinds and rules at once. */
function richSnapshot(): SnapshotBuilder {
  const snap = new SnapshotBuilder()
    .bucket('photos', { owner: 'alice', region: 'eu-west-1', acl: 'private', createdAtHlc: BigInt(Date.UTC(2024, 3, 28, 12, 34, 56, 780)) << 16n })
    .putObject('photos', '2024/01/cat.jpg', body('cat', 3000), { chunkSize: 1024, contentType: 'image/jpeg' })
    .putObject('photos', '2024/01/dog.jpg', body('dog', 5000), { parts: 3, chunkSize: 700, partVersion: [0, 4, 2] })
    .putObject('photos', 'offloaded.bin', body('off', 2500), { offloaded: true, chunkSize: 1000, uploadId: 'up-o' })
    .putObject('photos', 'a', body('leaf', 5))
    .putObject('photos', 'a/b', body('leaf-child', 5))
    .putObject('photos', 'deleted', body('deleted', 9))
    .tombstone(K.manifestKey('photos', 1, 'deleted'), 500)
    .putObject('photos', 'orphan', body('orphan', 9), { omitManifest: true, chunkSize: 4 })
    .putObject('photos', 'stale', body('stale', 9), { generation: 0 })
    .putObject('photos', '2024/01/dog.jpg', body('dog-old', 40), { uploadId: 'up-old', commitTs: 50 })
    .bucket('docs', { generation: 3 })
    .putObject('docs', 'readme.md', Buffer.from('# hello\n'), { contentType: 'text/markdown', userMetadata: { author: 'bob', 'x-y': '<&>' } })
    .putObject('docs', 'empty', Buffer.alloc(0))
    .putObject('docs', 'versioned', body('versioned', 30), {
      chunkSize: 8,
      partVersion: 9,
      extraChunks: [
        { partNo: 1, chunkNo: 0, partVersion: 8, data: body('old-v', 8) },
        { partNo: 1, chunkNo: 4, partVersion: 8, data: body('old-v2', 8) },
      ],
    })
    .record(K.uploadMetaKey('docs', 3, 'big.iso', 'u1'), '{"upload_id":"u1"}')
    .record(K.uploadPartKey('docs', 3, 'big.iso', 'u1', 2), '{"part_no":2}')
    .record(K.uploadPartKey('docs', 3, 'big.iso', 'u1', 1), '{"part_no":1}')
    // Non-S3 and ignored keys.
    .record('!redis|str|foo', 'bar')
    .record('plain-key', 'value')
    .record(K.bucketGenKey('docs'), '3')
    .record(K.routeKey('docs', 3, 'readme.md'), 'x')
    .record(K.gcUploadKey('docs', 3, 'big.iso', 'u0'), 'x')
    .record('!s3|future|thing', 'x');
  return snap;
}

function expectedRich(): Expected {
  const dog = body('dog', 5000);
  return {
    's3/photos/_bucket.json':
      '{\n  "format_version": 1,\n  "name": "photos",\n  "creation_time_iso": "2024-04-28T12:34:56.78Z",\n  "owner": "alice",\n  "region": "eu-west-1",\n  "acl": "private"\n}',
    ...objectFiles('photos', '2024/01/cat.jpg', body('cat', 3000), { contentType: 'image/jpeg' }),
    ...objectFiles('photos', '2024/01/dog.jpg', dog, { etag: compositeEtag([dog.subarray(0, 1667), dog.subarray(1667, 3334), dog.subarray(3334)]) }),
    ...objectFiles('photos', 'offloaded.bin', body('off', 2500)),
    ...objectFiles('photos', 'a.elastickv-leaf-data', body('leaf', 5)),
    ...objectFiles('photos', 'a/b', body('leaf-child', 5)),
    's3/photos/KEYMAP.jsonl': '{"encoded":"a.elastickv-leaf-data","original":"YQ","kind":"s3-leaf-data"}\n',
    's3/photos/_orphans/orphan/gen-1/up-1_0000000000000001_0000000000000000_0000000000000000.bin': body('orphan', 9).subarray(0, 4),
    's3/photos/_orphans/orphan/gen-1/up-1_0000000000000001_0000000000000001_0000000000000000.bin': body('orphan', 9).subarray(4, 8),
    's3/photos/_orphans/orphan/gen-1/up-1_0000000000000001_0000000000000002_0000000000000000.bin': body('orphan', 9).subarray(8),
    // The tombstoned manifest leaves its chunk as an orphan of the active generation.
    's3/photos/_orphans/deleted/gen-1/up-1_0000000000000001_0000000000000000_0000000000000000.bin': body('deleted', 9),
    's3/photos/_orphans/stale/gen-0/up-1_0000000000000001_0000000000000000_0000000000000000.bin': body('stale', 9),
    's3/docs/_bucket.json': plainBucketJson('docs'),
    ...objectFiles('docs', 'readme.md', Buffer.from('# hello\n'), { contentType: 'text/markdown', userMetadata: { author: 'bob', 'x-y': '<&>' } }),
    ...objectFiles('docs', 'empty', Buffer.alloc(0)),
    ...objectFiles('docs', 'versioned', body('versioned', 30)),
    's3/docs/_incomplete_uploads/records.jsonl': [
      K.uploadMetaKey('docs', 3, 'big.iso', 'u1'),
      K.uploadPartKey('docs', 3, 'big.iso', 'u1', 1),
      K.uploadPartKey('docs', 3, 'big.iso', 'u1', 2),
    ]
      .map(
        (k, i) =>
          `{"prefix":"${i === 0 ? '!s3|upload|meta|' : '!s3|upload|part|'}","key":"${k.toString('base64')}","value":"${Buffer.from(
            ['{"upload_id":"u1"}', '{"part_no":1}', '{"part_no":2}'][i]!,
          ).toString('base64')}"}\n`,
      )
      .join(''),
  };
}

const FLAGS = ['--include-orphans', '--include-incomplete-uploads'];
const WARNINGS = ['s3_orphan_chunks', 's3_orphan_chunks', 's3_stale_generation_objects', 's3_unknown_prefix'];

/** Deterministic shuffle of the records, for native input in arbitrary order. */
function shuffled(snap: SnapshotBuilder, seed: number): SnapshotBuilder {
  const recs = snap.records();
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = recs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [recs[i], recs[j]] = [recs[j]!, recs[i]!];
  }
  let i = 0;
  return rebuild(snap, () => recs[i++]!);
}

interface ManifestJson {
  [k: string]: unknown;
  last_commit_ts?: number;
  wall_time_iso?: string;
  source?: { fsm_path?: string };
}

function manifestOf(d: Dump): ManifestJson {
  return JSON.parse(d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as ManifestJson;
}

function withoutVolatile(m: ManifestJson): ManifestJson {
  const { last_commit_ts: _a, wall_time_iso: _b, source: _c, ...rest } = m;
  return rest;
}

/** CHECKSUMS without its MANIFEST.json line. */
const sumsWithoutManifest = (d: Dump): string =>
  (d.tree?.files.get('CHECKSUMS')?.data.toString('latin1') ?? '')
    .split('\n')
    .filter((l) => !l.endsWith('  MANIFEST.json'))
    .join('\n');

test('§3 shuffled record order and both input forms give the identical tree', async (t) => {
  const snap = richSnapshot();
  const runs: Array<Promise<Dump>> = [
    decode(t, snap, 'fsm', { args: FLAGS }), // sorted, header + footer (the reference)
    decode(t, snap, 'jsonl', { args: FLAGS }),
    ...[1, 2, 3].map((seed) => decode(t, snap, 'jsonl', { args: FLAGS, jsonl: { shuffle: seed } })),
    decode(t, snap, 'jsonl', { args: FLAGS, jsonl: { shuffle: 4, crlf: true, blankLines: true } }),
    decode(t, snap, 'fsm', { args: FLAGS, fsm: { sort: true, lastCommitTs: 1000n } }), // bare stream
    decode(t, shuffled(snap, 5), 'fsm', { args: FLAGS, fsm: { ...FSM_DEFAULTS, sort: false, header: 'v2', v2ExtraBytes: 3 } }),
    decode(t, snap, 'fsm', { args: FLAGS, stdin: true }),
    decode(t, snap, 'jsonl', { args: FLAGS, stdin: true, jsonl: { shuffle: 6 } }),
  ];
  const dumps = await Promise.all(runs);
  const want = expectedRich();
  const ref = dumps[0]!;
  assertDump(t, ref, { files: want, warnings: WARNINGS });
  const refManifest = manifestOf(ref);
  t.is(refManifest.last_commit_ts, 1000);
  for (const [i, d] of dumps.entries()) {
    const label = `run ${i} (${d.form})`;
    t.is(d.code, 0, `${label}: ${d.stderr}`);
    // Run 6 is a bare native stream: no footer, so also snapshot_unverified.
    t.deepEqual(d.warnings, [...WARNINGS, ...(i === 6 ? ['snapshot_unverified'] : [])].sort(), label);
    t.deepEqual(dataFiles(d), dataFiles(ref), `${label}: data files differ from the sorted native run`);
    t.is(sumsWithoutManifest(d), sumsWithoutManifest(ref), `${label}: CHECKSUMS`);
    const m = manifestOf(d);
    t.deepEqual(withoutVolatile(m), withoutVolatile(refManifest), `${label}: MANIFEST.json`);
    t.deepEqual(Object.keys(withoutVolatile(m)), Object.keys(withoutVolatile(refManifest)), `${label}: MANIFEST.json field order`);
    if (d.form === 'jsonl') t.false('last_commit_ts' in m, `${label}: no last_commit_ts for JSONL`);
    else t.is(m.last_commit_ts, 1000, label);
    const viaStdin = i >= 8;
    t.is(m.source?.fsm_path, viaStdin ? '-' : `${d.root.slice(0, -'out'.length)}in.${d.form}`, `${label}: source.fsm_path`);
  }
});

test('§3/§9 multi-MiB objects in 1 MiB chunks: shuffled JSONL and sorted native give the same bodies', async (t) => {
  const big = bytesOf('big', 5 * (1 << 20) + 12345);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'big.bin', big, { parts: [2 * (1 << 20) + 7, 3 * (1 << 20) + 12338] })
    .putObject('bkt', 'big-off.bin', big.subarray(0, 3 * (1 << 20)), { offloaded: true });
  const want: Expected = {
    's3/bkt/_bucket.json': plainBucketJson('bkt'),
    ...objectFiles('bkt', 'big.bin', big, { etag: compositeEtag([big.subarray(0, 2 * (1 << 20) + 7), big.subarray(2 * (1 << 20) + 7)]) }),
    ...objectFiles('bkt', 'big-off.bin', big.subarray(0, 3 * (1 << 20))),
  };
  const dumps = await Promise.all([decode(t, snap, 'fsm'), decode(t, snap, 'jsonl', { jsonl: { shuffle: 9 } })]);
  for (const d of dumps) assertDump(t, d, { files: want });
});

test('§3 many buckets in shuffled order: every bucket keeps its objects, whichever arrives first (bucket numbers are input order, output order is by name)', async (t) => {
  const snap = new SnapshotBuilder();
  const want: Expected = {};
  for (let b = 0; b < 400; b++) {
    snap.bucket(`b${b}`);
    want[`s3/b${b}/_bucket.json`] = plainBucketJson(`b${b}`);
    const body = Buffer.from(`body of b${b}`);
    snap.putObject(`b${b}`, 'k', body);
    Object.assign(want, objectFiles(`b${b}`, 'k', body));
  }
  // Several seeds: the bucket that comes first by name must be, in some, a late arrival.
  const dumps = await Promise.all([1, 2, 3].map((shuffle) => decode(t, snap, 'jsonl', { jsonl: { shuffle } })));
  for (const d of dumps) assertDump(t, d, { files: want });
});
