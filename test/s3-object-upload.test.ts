/**
 * ObjectUpload against s3rver: one PUT or a multipart upload by size, the
 * stored bytes exactly those written, headers kept, nothing visible before
 * commit, an abort leaves nothing, a wrong ETag (through the fault proxy)
 * is ERR_S3_UPLOAD_MISMATCH.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../lib/errors.js';
import { createS3Client } from '../lib/s3/client.js';
import { ObjectUpload, type UploadSession } from '../lib/s3/object-upload.js';
import { RequestPool } from '../lib/s3/request-pool.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { getBytes, listKeys, S3_TEST_ENV, startS3Server, testClient, type S3Server } from './helpers/s3-server.js';

let server: S3Server;
let check: S3Client;
const clients: S3Client[] = [];

test.before(async () => {
  // The client under test takes its credentials the usual way: from the environment.
  Object.assign(process.env, S3_TEST_ENV);
  server = await startS3Server(['up']);
  check = testClient(server.endpoint);
});
test.after.always(async () => {
  for (const c of [check, ...clients]) c?.destroy();
  await server?.stop();
});

function session(endpoint = server.endpoint, partSize = 64 * 1024): UploadSession {
  const client = createS3Client({ endpoint, pathStyle: true, region: 'us-east-1' });
  clients.push(client);
  // s3rver enforces no minimum part size: small parts keep the test small.
  return { client, pool: new RequestPool(3), partSize };
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function put(s: UploadSession, key: string, body: Buffer, piece = 10_000, headers = {}) {
  const u = new ObjectUpload(s, 'up', key, body.length, headers);
  for (let off = 0; off < body.length; off += piece) await u.write(body.subarray(off, off + piece));
  return (await u.commit()).done;
}

test('a body up to the part size is one PUT with its headers; its ETag is its MD5', async (t) => {
  const body = bytes(50_000, 1);
  const r = await put(session(), 'one', body, 7000, { contentType: 'text/x', metadata: { a: 'b' } });
  t.deepEqual(r, { size: 50_000, etag: createHash('md5').update(body).digest('hex'), md5: createHash('md5').update(body).digest(), parts: 1 });
  t.true((await getBytes(check, 'up', 'one')).equals(body));
  const h = await check.send(new HeadObjectCommand({ Bucket: 'up', Key: 'one' }));
  t.is(h.ContentType, 'text/x');
  t.deepEqual(h.Metadata, { a: 'b' });
});

test('a larger body is a multipart upload of part-size parts; nothing is visible before commit', async (t) => {
  const body = bytes(200_000, 2);
  const s = session();
  const u = new ObjectUpload(s, 'up', 'multi', body.length);
  for (let off = 0; off < body.length; off += 30_000) await u.write(body.subarray(off, off + 30_000));
  t.false((await listKeys(check, 'up')).includes('multi'));
  const r = await (await u.commit()).done;
  t.is(r.parts, 4); // 64 KiB × 3 + 3392
  t.true((await getBytes(check, 'up', 'multi')).equals(body));
});

test('an empty body is one PUT of nothing', async (t) => {
  const r = await put(session(), 'empty', Buffer.alloc(0));
  t.is(r.etag, 'd41d8cd98f00b204e9800998ecf8427e');
  t.is((await getBytes(check, 'up', 'empty')).length, 0);
});

test('abort leaves nothing; writing more than announced is refused', async (t) => {
  const s = session();
  const u = new ObjectUpload(s, 'up', 'aborted', 150_000);
  await u.write(bytes(140_000, 3));
  await u.abort();
  t.false((await listKeys(check, 'up')).includes('aborted'));
  const v = new ObjectUpload(s, 'up', 'over', 3);
  await t.throwsAsync(v.write(Buffer.from('four')), { message: /more than the announced 3 bytes/ });
});

test('a returned ETag that is not the MD5 sent: ERR_S3_UPLOAD_MISMATCH (single PUT and part)', async (t) => {
  const proxy = await startFaultProxy(server.port, [{ match: (r) => r.method === 'PUT', fault: { kind: 'wrong-etag' } }]);
  t.teardown(() => proxy.close());
  const s = session(proxy.endpoint);
  const e1 = await t.throwsAsync(put(s, 'bad-one', bytes(1000, 4)));
  t.true(e1 instanceof DecodeError && e1.code === 'ERR_S3_UPLOAD_MISMATCH', String(e1));
  const e2 = await t.throwsAsync(put(s, 'bad-multi', bytes(100_000, 5)));
  t.true(e2 instanceof DecodeError && e2.code === 'ERR_S3_UPLOAD_MISMATCH', String(e2));
  t.regex(e2!.message, /UploadPart 1: the server's ETag/);
  t.true(proxy.seen.some((r) => r.method === 'DELETE' && r.url.includes('uploadId=')), 'the multipart upload was aborted');
});
