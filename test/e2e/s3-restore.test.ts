/**
 * ekv-s3-restore-objects (SPEC §11) against s3rver: every object of a dump
 * back at its original key (KEYMAP renames reversed) with its headers and
 * user metadata (non-ASCII values RFC 2047-encoded), a rerun skips what
 * matches (--overwrite puts it again), a multipart (H-N) ETag is verified
 * by MD5 and said so, a damaged body fails alone, several buckets need
 * --bucket or --map. The AWS CLI (a real s3.client) lists a dump written with
 * -o s3:// and shows restored metadata with head-object.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { getBytes, listKeys, S3_TEST_ENV, sharedS3Server } from '../helpers/s3-server.js';
import { bytesOf, REPO, runCli, tempDir, type RunResult } from './harness.js';

const RESTORE = path.join(REPO, 'bin', 'ekv-s3-restore-objects.js');

const s3 = sharedS3Server(test, 'r');
const freshBucket = () => s3.freshBucket();

function restore(args: string[]): Promise<RunResult> {
  return runCli([...args, '--s3-endpoint', s3.server.endpoint, '--s3-path-style'], { bin: RESTORE, env: S3_TEST_ENV });
}

const MULTI = bytesOf('multi', 30_000);

function photos(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('photos')
    .putObject('photos', 'cat.jpg', bytesOf('cat', 5000), {
      contentType: 'image/jpeg',
      contentEncoding: 'identity',
      cacheControl: 'max-age=60',
      contentDisposition: 'attachment; filename="cat.jpg"',
      userMetadata: { author: 'alice', city: 'Zürich' },
    })
    .putObject('photos', 'multi.bin', MULTI, { chunkSize: 4096, parts: 3 })
    // A leaf and a key below it: the leaf is renamed in the dump (KEYMAP).
    .putObject('photos', 'a/b', Buffer.from('leaf'))
    .putObject('photos', 'a/b/c', Buffer.from('child'));
}

async function dumpOf(t: import('ava').ExecutionContext, snap: SnapshotBuilder): Promise<string> {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'in.jsonl'), snap.toJsonl());
  const res = await runCli([path.join(dir, 'in.jsonl'), '-o', path.join(dir, 'dump'), '-q']);
  t.is(res.code, 0, res.stderr);
  return path.join(dir, 'dump');
}

test('every object back at its original key with its headers and metadata; a rerun skips them all; --overwrite puts them again', async (t) => {
  const dump = await dumpOf(t, photos());
  t.true(fs.existsSync(path.join(dump, 's3/photos/KEYMAP.jsonl')), 'the dump renamed a key');
  const bucket = await freshBucket();
  const first = await restore([dump, `s3://${bucket}/restored`]);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /put 4, skipped 0, failed 0 \(35009 bytes uploaded; 1 with a multipart ETag \(H-N\), which a plain upload cannot reproduce, verified by the MD5 of the body instead\)/);
  t.deepEqual(await listKeys(s3.client, bucket), ['restored/a/b', 'restored/a/b/c', 'restored/cat.jpg', 'restored/multi.bin']);
  t.is((await getBytes(s3.client, bucket, 'restored/a/b')).toString(), 'leaf');
  t.is((await getBytes(s3.client, bucket, 'restored/a/b/c')).toString(), 'child');
  t.true((await getBytes(s3.client, bucket, 'restored/multi.bin')).equals(MULTI));
  t.true((await getBytes(s3.client, bucket, 'restored/cat.jpg')).equals(bytesOf('cat', 5000)));
  const h = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'restored/cat.jpg' }));
  t.is(h.ContentType, 'image/jpeg');
  t.is(h.ContentEncoding, 'identity');
  t.is(h.CacheControl, 'max-age=60');
  t.is(h.ContentDisposition, 'attachment; filename="cat.jpg"');
  // "Zürich" as UTF-8, base64: WsO8cmljaA== (RFC 2047 B-encoding).
  t.deepEqual(h.Metadata, { author: 'alice', city: '=?UTF-8?B?WsO8cmljaA==?=' });

  const again = await restore([dump, `s3://${bucket}/restored`]);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /put 0, skipped 4, failed 0/);
  const forced = await restore([dump, `s3://${bucket}/restored`, '--overwrite']);
  t.regex(forced.stderr, /put 4, skipped 0, failed 0/);
});

test('a damaged body fails alone (exit 1, one line naming it); the others are put', async (t) => {
  const dump = await dumpOf(t, photos());
  fs.appendFileSync(path.join(dump, 's3/photos/cat.jpg'), 'x');
  const bucket = await freshBucket();
  const res = await restore([dump, `s3://${bucket}`]);
  t.is(res.code, 1);
  t.regex(res.stderr, /failed ERR_S3_SIZE_MISMATCH: bucket photos object cat\.jpg: .*body is 5001 bytes, its sidecar says 5000/);
  t.regex(res.stderr, /put 3, skipped 0, failed 1/);
  t.deepEqual(await listKeys(s3.client, bucket), ['a/b', 'a/b/c', 'multi.bin']);
});

test('several buckets: one destination for two is ERR_USAGE; --bucket selects, --map sends one elsewhere; a missing bucket is named', async (t) => {
  const dump = await dumpOf(t, photos().bucket('logs').putObject('logs', 'day1.log', Buffer.from('log line\n')));
  const b1 = await freshBucket();
  const b2 = await freshBucket();
  const both = await restore([dump, `s3://${b1}`]);
  t.is(both.code, 2);
  t.regex(both.stderr, /ERR_USAGE: buckets "logs" and "photos" would both be restored into s3:\/\//);
  const one = await restore([dump, `s3://${b1}`, '--bucket', 'logs']);
  t.is(one.code, 0, one.stderr);
  t.deepEqual(await listKeys(s3.client, b1), ['day1.log']);
  const mapped = await restore([dump, `s3://${b1}`, '--map', `photos=${b2}`]);
  t.is(mapped.code, 0, mapped.stderr);
  t.regex(mapped.stderr, /put 4, skipped 1, failed 0/);
  t.deepEqual(await listKeys(s3.client, b2), ['a/b', 'a/b/c', 'cat.jpg', 'multi.bin']);
  const missing = await restore([dump, 's3://no-such-bucket-r', '--bucket', 'logs']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /ERR_S3_REQUEST: path s3:\/\/no-such-bucket-r\/: the bucket does not exist: no-such-bucket-r/);
});

test('the AWS CLI lists a dump written with -o s3:// and head-object shows restored metadata', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'in.jsonl'), photos().toJsonl());
  const bucket = await freshBucket();
  const res = await runCli([path.join(dir, 'in.jsonl'), '-o', `s3://${bucket}/dump`, '--s3-endpoint', s3.server.endpoint, '--s3-path-style', '-q'], { env: S3_TEST_ENV });
  t.is(res.code, 0, res.stderr);
  const env = { ...process.env, ...S3_TEST_ENV };
  // The first aws command doubles as the probe (the CLI costs ~1 s of CPU a run): not found, or a shim's 127.
  const ls = spawnSync('aws', ['--endpoint-url', s3.server.endpoint, 's3', 'ls', '--recursive', `s3://${bucket}/dump/`], { env, encoding: 'utf8' });
  if ((ls.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' || ls.status === 127) {
    t.log('skipped: the aws command is not installed');
    t.pass();
    return;
  }
  t.is(ls.status, 0, ls.stderr);
  const listed = ls.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(3).join(' ')).sort();
  t.true(listed.includes('dump/CHECKSUMS') && listed.includes('dump/MANIFEST.json') && listed.includes('dump/s3/photos/cat.jpg'), listed.join('\n'));
  t.true(listed.includes('dump/s3/photos/cat.jpg.elastickv-meta.json'));

  const local = await runCli([path.join(dir, 'in.jsonl'), '-o', path.join(dir, 'dump-local'), '-q']);
  t.is(local.code, 0);
  const put = await restore([path.join(dir, 'dump-local'), `s3://${bucket}/restored`]);
  t.is(put.code, 0, put.stderr);
  const head = spawnSync('aws', ['--endpoint-url', s3.server.endpoint, 's3api', 'head-object', '--bucket', bucket, '--key', 'restored/cat.jpg'], { env, encoding: 'utf8' });
  t.is(head.status, 0, head.stderr);
  const j = JSON.parse(head.stdout) as { ContentType: string; CacheControl: string; ContentLength: number; Metadata: Record<string, string> };
  t.is(j.ContentType, 'image/jpeg');
  t.is(j.CacheControl, 'max-age=60');
  t.is(j.ContentLength, 5000);
  t.deepEqual(j.Metadata, { author: 'alice', city: '=?UTF-8?B?WsO8cmljaA==?=' });
});
