/**
 * S3Target against s3rver, driven the way the dump sink drives a Target:
 * keys under the prefix, root files only after every other upload, a
 * non-UTF-8 path refused per object, close() without finish() deleting
 * exactly the keys this target wrote, checkEmptyPrefix.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../lib/errors.js';
import { createS3Client } from '../lib/s3/client.js';
import { checkEmptyPrefix, S3Target } from '../lib/s3/s3-target.js';
import type { SealedRun } from '../lib/types.js';
import { createBucket, getBytes, listKeys, putBytes, S3_TEST_ENV, startS3Server, testClient, type S3Server } from './helpers/s3-server.js';

let server: S3Server;
let check: S3Client;
let client: S3Client;
let n = 0;

test.before(async () => {
  Object.assign(process.env, S3_TEST_ENV);
  server = await startS3Server();
  check = testClient(server.endpoint);
  client = createS3Client({ endpoint: server.endpoint, pathStyle: true });
});
test.after.always(async () => {
  check?.destroy();
  client?.destroy();
  await server?.stop();
});

async function target(prefix = 'p') {
  const bucket = `t-${n++}`;
  await createBucket(check, bucket);
  return { bucket, t: new S3Target({ client, bucket, prefix, concurrency: 2, partSize: 64 * 1024 }) };
}

const b = (s: string) => Buffer.from(s);

test('bodies, runs and files land under the prefix; MANIFEST.json and CHECKSUMS after the rest', async (t) => {
  const { bucket, t: target0 } = await target('day/1/');
  const w = await target0.putSpans(b('s3/x/body'), 5, []);
  t.true(w.wantsBytes);
  await w.write(b('he'));
  await w.write(b('llo'));
  await w.commit();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-s3t-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const runBytes = Buffer.alloc(100_000, 7);
  fs.writeFileSync(path.join(dir, 'run-0'), runBytes);
  const run: SealedRun = { file: { id: 0, path: path.join(dir, 'run-0'), kind: 'run' }, size: runBytes.length, hashes: { sha256: createHash('sha256').update(runBytes).digest(), parts: [] } };
  t.true(await target0.putRun(b('s3/x/run'), run));
  await target0.putFile(b('s3/x/body.elastickv-meta.json'), 2, [b('{'), b('}')], 0o600);
  await target0.endBucket();
  await target0.putFile(b('MANIFEST.json'), 2, [b('{}')], 0o644);
  // Every other upload is complete by the time a root file is written.
  t.deepEqual(await listKeys(check, bucket), ['day/1/MANIFEST.json', 'day/1/s3/x/body', 'day/1/s3/x/body.elastickv-meta.json', 'day/1/s3/x/run']);
  await target0.putFile(b('CHECKSUMS'), 3, [b('a\n'), b('b')], 0o644);
  await target0.finish();
  await target0.close();
  t.is((await getBytes(check, bucket, 'day/1/s3/x/body')).toString(), 'hello');
  t.true((await getBytes(check, bucket, 'day/1/s3/x/run')).equals(runBytes));
  t.is((await getBytes(check, bucket, 'day/1/CHECKSUMS')).toString(), 'a\nb');
});

test('a run whose bytes are not those hashed while spilling is refused, and not stored', async (t) => {
  const { bucket, t: tg } = await target();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-s3t-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'run'), 'changed');
  const run: SealedRun = { file: { id: 1, path: path.join(dir, 'run'), kind: 'run' }, size: 7, hashes: { sha256: createHash('sha256').update('written').digest(), parts: [] } };
  const e = await t.throwsAsync(tg.putRun(b('s3/x/r'), run));
  t.true(e instanceof DecodeError && e.code === 'ERR_IO' && /scratch file changed/.test(e.message));
  await tg.close();
  t.deepEqual(await listKeys(check, bucket), []);
});

test('a path that is not UTF-8 is an object-level ERR_S3_MALFORMED_KEY', async (t) => {
  const { t: tg } = await target();
  const e = await t.throwsAsync(tg.putSpans(Buffer.from([0x73, 0x2f, 0xff]), 1, []));
  t.true(e instanceof DecodeError && e.code === 'ERR_S3_MALFORMED_KEY' && e.level === 'object');
  await tg.close();
});

test('close() without finish() deletes exactly what this target wrote, and aborts what is open', async (t) => {
  const { bucket, t: tg } = await target('p');
  await putBytes(check, bucket, 'other/keep', b('not mine'));
  await tg.putFile(b('s3/x/a'), 1, [b('a')], 0o600);
  const w = await tg.putSpans(b('s3/x/big'), 200_000, []);
  await w.write(Buffer.alloc(150_000, 1)); // two parts sent, the upload open
  await tg.close();
  t.deepEqual(await listKeys(check, bucket), ['other/keep']);
  await t.throwsAsync(tg.putFile(b('s3/x/late'), 1, [b('l')], 0o600), { message: /closed/ });
});

test('checkEmptyPrefix: ERR_USAGE when the prefix holds an object; a missing bucket is ERR_S3_REQUEST', async (t) => {
  const { bucket } = await target();
  await checkEmptyPrefix(client, bucket, 'a');
  await putBytes(check, bucket, 'a/x', b('x'));
  const e = await t.throwsAsync(checkEmptyPrefix(client, bucket, 'a/'));
  t.true(e instanceof DecodeError && e.code === 'ERR_USAGE');
  await checkEmptyPrefix(client, bucket, 'ab');
  const m = await t.throwsAsync(checkEmptyPrefix(client, 'no-such-bucket', ''));
  t.true(m instanceof DecodeError && m.code === 'ERR_S3_REQUEST' && /bucket does not exist/.test(m.message), String(m));
});
