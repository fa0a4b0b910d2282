/**
 * -o s3://BUCKET[/PREFIX] and s3:// input (SPEC §11) against a real
 * S3-compatible server (s3rver on 127.0.0.1): the objects are exactly the
 * -o tree (keys and bytes), CHECKSUMS holds for the bytes read back, the
 * prefix must be empty (exit 2), a missing bucket is a one-line error, a
 * snapshot is read from S3, and the credentials appear nowhere.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { getBytes, listKeys, putBytes, S3_TEST_ENV, sharedS3Server } from '../helpers/s3-server.js';
import { bytesOf, readTree, runCli, tempDir } from './harness.js';

const s3 = sharedS3Server(test, 'out');
const freshBucket = () => s3.freshBucket();

const s3Args = () => ['--s3-endpoint', s3.server.endpoint, '--s3-path-style'];

function sample(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('photos')
    .bucket('a')
    .putObject('photos', '2026/cat.jpg', bytesOf('cat', 300_000), { chunkSize: 65536 })
    .putObject('photos', 'multi.bin', bytesOf('multi', 200_000), { chunkSize: 32768, parts: 3 })
    .putObject('photos', 'ünïcödé/ファイル.txt', Buffer.from('non-ASCII name'))
    .putObject('a', 'empty', Buffer.alloc(0))
    // Over the 8 MiB part size: a multipart upload.
    .putObject('a', 'big.bin', bytesOf('big', 9 << 20), { chunkSize: 1 << 20 });
}

test('-o s3://BUCKET/PREFIX stores the -o tree as objects under PREFIX, byte for byte, and CHECKSUMS holds for what is read back', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, sample().toFsm({ sort: true }));
  const bucket = await freshBucket();
  const res = await runCli([input, '-o', `s3://${bucket}/backups/day1`, ...s3Args(), '-q'], { env: S3_TEST_ENV });
  t.is(res.code, 0, res.stderr);
  const local = await runCli([input, '-o', path.join(dir, 'out'), '-q']);
  t.is(local.code, 0, local.stderr);
  const tree = readTree(path.join(dir, 'out'));
  const keys = await listKeys(s3.client, bucket);
  t.deepEqual(keys, [...tree.files.keys()].map((p) => `backups/day1/${p}`).sort());
  const got = new Map<string, Buffer>();
  for (const k of keys) got.set(k.slice('backups/day1/'.length), await getBytes(s3.client, bucket, k));
  for (const [p, f] of tree.files) {
    if (p === 'MANIFEST.json' || p === 'CHECKSUMS') continue; // wall time differs between the two runs
    t.true(got.get(p)!.equals(f.data), p);
  }
  t.true(got.get('s3/a/big.bin')!.equals(bytesOf('big', 9 << 20)));
  t.true(got.get('s3/photos/2026/cat.jpg')!.equals(bytesOf('cat', 300_000)));
  // CHECKSUMS, recomputed from the objects read back: every key but itself, sorted, sha256sum lines.
  const want = [...got.keys()]
    .filter((p) => p !== 'CHECKSUMS')
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .map((p) => `${createHash('sha256').update(got.get(p)!).digest('hex')}  ${p}\n`)
    .join('');
  t.is(got.get('CHECKSUMS')!.toString(), want);
  t.regex(got.get('MANIFEST.json')!.toString(), /"format_version": 1/);
});

test('an output prefix holding any object is ERR_USAGE (exit 2) and nothing is written; a sibling prefix is not "inside" it', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('v')).toJsonl());
  const bucket = await freshBucket();
  await putBytes(s3.client, bucket, 'dump/old.txt', Buffer.from('keep me'));
  await putBytes(s3.client, bucket, 'dumpling', Buffer.from('not under dump/'));
  const res = await runCli([input, '-o', `s3://${bucket}/dump/`, ...s3Args()], { env: S3_TEST_ENV });
  t.is(res.code, 2, res.stderr);
  t.regex(res.stderr, /^ekv-s3-decode: error ERR_USAGE: output prefix is not empty: s3:\/\/.*\/dump\/ holds objects/m);
  t.deepEqual(await listKeys(s3.client, bucket), ['dump/old.txt', 'dumpling']);
  const whole = await runCli([input, '-o', `s3://${bucket}`, ...s3Args()], { env: S3_TEST_ENV });
  t.is(whole.code, 2, 'the bucket root holds objects too');
  const ok = await runCli([input, '-o', `s3://${bucket}/dum`, ...s3Args(), '-q'], { env: S3_TEST_ENV });
  t.is(ok.code, 0, ok.stderr);
  t.true((await listKeys(s3.client, bucket, 'dum/')).includes('dum/CHECKSUMS'));
});

test('a missing bucket is a one-line ERR_S3_REQUEST naming it (exit 1)', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('v')).toJsonl());
  const res = await runCli([input, '-o', 's3://no-such-bucket-here/x', ...s3Args()], { env: S3_TEST_ENV });
  t.is(res.code, 1);
  const lines = res.stderr.trim().split('\n');
  t.is(lines.length, 1, res.stderr);
  t.regex(lines[0]!, /ERR_S3_REQUEST: .*bucket does not exist: no-such-bucket-here/);
});

test('an s3://BUCKET/KEY snapshot decodes to the same tree as the local file', async (t) => {
  const dir = tempDir(t);
  const bytes = sample().toFsm({ sort: true });
  fs.writeFileSync(path.join(dir, 'in.fsm'), bytes);
  const bucket = await freshBucket();
  await putBytes(s3.client, bucket, 'snaps/in.fsm', bytes);
  const remote = await runCli([`s3://${bucket}/snaps/in.fsm`, '-o', path.join(dir, 'remote'), ...s3Args(), '-q'], { env: S3_TEST_ENV });
  t.is(remote.code, 0, remote.stderr);
  const local = await runCli([path.join(dir, 'in.fsm'), '-o', path.join(dir, 'local'), '-q']);
  t.is(local.code, 0, local.stderr);
  const a = readTree(path.join(dir, 'remote'));
  const b = readTree(path.join(dir, 'local'));
  t.deepEqual([...a.files.keys()].sort(), [...b.files.keys()].sort());
  t.true(a.files.get('s3/a/big.bin')!.data.equals(bytesOf('big', 9 << 20)));
  t.regex(a.files.get('MANIFEST.json')!.data.toString(), /s3:\/\/.*\/snaps\/in\.fsm/);
  const missing = await runCli([`s3://${bucket}/snaps/nope.fsm`, '-o', path.join(dir, 'x'), ...s3Args()], { env: S3_TEST_ENV });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /ERR_S3_REQUEST: path s3:\/\/.*\/snaps\/nope\.fsm: HeadObject failed: no such object/);
  t.false(fs.existsSync(path.join(dir, 'x')));
});

test('credentials appear in no output, log, error or dumped object', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('v')).toJsonl());
  const bucket = await freshBucket();
  // s3rver knows only the access key id S3RVER but checks no signature: any secret is accepted.
  const env = { ...S3_TEST_ENV, AWS_SECRET_ACCESS_KEY: 'sEcReT-zq9-distinctive-Xy7' };
  const runs = [
    await runCli([input, '-o', `s3://${bucket}/d`, ...s3Args(), '--log-format', 'json', '--progress'], { env }),
    await runCli([input, '-o', `s3://${bucket}/d`, ...s3Args()], { env }), // prefix not empty
    await runCli([input, '-o', 's3://missing-bucket-x/d', ...s3Args()], { env }),
    await runCli([`s3://${bucket}/nope`, '-o', path.join(dir, 'o'), ...s3Args()], { env }),
  ];
  t.is(runs[0]!.code, 0, runs[0]!.stderr);
  const objects = await Promise.all((await listKeys(s3.client, bucket)).map((k) => getBytes(s3.client, bucket, k)));
  for (const text of [...runs.flatMap((r) => [r.stdout.toString('latin1'), r.stderr]), ...objects.map((o) => o.toString('latin1'))]) {
    t.false(text.includes('sEcReT-zq9-distinctive-Xy7'));
  }
});

test('an s3:// snapshot is judged like a local file: an empty object is ERR_IO naming it; one without a footer warns snapshot_unverified naming it', async (t) => {
  const dir = tempDir(t);
  const bucket = await freshBucket();
  await putBytes(s3.client, bucket, 'snaps/empty.fsm', Buffer.alloc(0));
  await putBytes(s3.client, bucket, 'snaps/bare.fsm', new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('v')).toFsm({ sort: true }));
  const empty = await runCli([`s3://${bucket}/snaps/empty.fsm`, '-o', path.join(dir, 'x'), ...s3Args()], { env: S3_TEST_ENV });
  t.is(empty.code, 1, empty.stderr);
  t.regex(empty.stderr, new RegExp(`error ERR_IO: path s3://${bucket}/snaps/empty\\.fsm: input is empty`));
  t.false(fs.existsSync(path.join(dir, 'x')));
  const bare = await runCli([`s3://${bucket}/snaps/bare.fsm`, '-o', path.join(dir, 'y'), ...s3Args(), '-q'], { env: S3_TEST_ENV });
  t.is(bare.code, 0, bare.stderr);
  t.regex(bare.stderr, new RegExp(`warning snapshot_unverified: input=s3://${bucket}/snaps/bare\\.fsm`));
});
