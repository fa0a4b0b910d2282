/**
 * The ranged-GET reader against s3rver (through the fault proxy): the bytes
 * are the object's, in ranges of the size asked; a response cut off is
 * resumed from the first byte not delivered; an object replaced while read
 * fails (If-Match); a missing object is named. And the S3Store built on
 * it (--from-offload s3://): listing under its prefix, get, getRange.
 */
import test from 'ava';
import { text } from 'node:stream/consumers';
import type { S3Client } from '@aws-sdk/client-s3';
import { DecodeError } from '../lib/errors.js';
import { createS3Client } from '../lib/s3/client.js';
import { openS3Object } from '../lib/s3/range-reader.js';
import { S3Store } from '../lib/store/s3-store.js';
import { startFaultProxy } from './helpers/fault-proxy.js';
import { putBytes, S3_TEST_ENV, startS3Server, testClient, type S3Server } from './helpers/s3-server.js';

let server: S3Server;
let check: S3Client;
const body = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');

test.before(async () => {
  Object.assign(process.env, S3_TEST_ENV);
  server = await startS3Server(['rr']);
  check = testClient(server.endpoint);
  await putBytes(check, 'rr', 'snap', Buffer.from(body));
});
test.after.always(async () => {
  check?.destroy();
  await server?.stop();
});

function via(endpoint: string): S3Client {
  return createS3Client({ endpoint, pathStyle: true });
}

test('the object arrives whole, one ranged GET per range', async (t) => {
  const proxy = await startFaultProxy(server.port);
  t.teardown(() => proxy.close());
  const c = via(proxy.endpoint);
  t.teardown(() => c.destroy());
  const { stream, info } = await openS3Object(c, 'rr', 'snap', { rangeBytes: 10_000 });
  t.is(info.size, body.length);
  t.is(await text(stream), body);
  t.is(proxy.seen.filter((r) => r.method === 'GET').length, Math.ceil(body.length / 10_000));
});

test('a response cut off is resumed where it stopped', async (t) => {
  const proxy = await startFaultProxy(server.port, [{ match: (r) => r.method === 'GET', fault: { kind: 'drop-response', afterBytes: 3000 }, times: 2 }]);
  t.teardown(() => proxy.close());
  const c = via(proxy.endpoint);
  t.teardown(() => c.destroy());
  const { stream } = await openS3Object(c, 'rr', 'snap', { rangeBytes: 20_000, backoffMs: 1 });
  t.is(await text(stream), body);
  t.is(proxy.faulted.length, 2);
});

test('every GET is pinned to the ETag read first; a 412 (the object was replaced) fails at once; a missing object is named', async (t) => {
  // s3rver ignores If-Match: the proxy answers 412 for it from the second range on.
  let gets = 0;
  const proxy = await startFaultProxy(server.port, [{ match: (r) => r.method === 'GET' && ++gets > 1, fault: { kind: 'status', status: 412, code: 'PreconditionFailed' } }]);
  t.teardown(() => proxy.close());
  const c = via(proxy.endpoint);
  t.teardown(() => c.destroy());
  const { stream, info } = await openS3Object(c, 'rr', 'snap', { rangeBytes: 10_000, backoffMs: 1 });
  const e = await t.throwsAsync(text(stream));
  t.true(e instanceof DecodeError && e.code === 'ERR_S3_REQUEST', String(e));
  t.regex(e!.message, /the object changed while it was read/);
  t.is(proxy.faulted.length, 1, 'not retried');
  t.true(proxy.seen.filter((r) => r.method === 'GET').every((r) => r.headers['if-match'] === info.etag));
  const m = await t.throwsAsync(openS3Object(c, 'rr', 'absent'));
  t.regex(m!.message, /^path s3:\/\/rr\/absent: HeadObject failed: no such object/);
});

test('S3Store: keys listed relative to its prefix in byte order, get and getRange; a missing object is ERR_S3_REQUEST', async (t) => {
  for (const k of ['pre/v1/b/2', 'pre/v1/b/10', 'pre/v1/a', 'pre/other', 'prefix-sibling/v1/x']) await putBytes(check, 'rr', k, Buffer.from(`data:${k}`));
  const store = new S3Store({ bucket: 'rr', key: 'pre' }, { endpoint: server.endpoint, pathStyle: true });
  const listed: Array<[string, number]> = [];
  for await (const o of store.list('v1/')) listed.push([o.key, o.size]);
  t.deepEqual(listed, [
    ['v1/a', 'data:pre/v1/a'.length],
    ['v1/b/10', 'data:pre/v1/b/10'.length],
    ['v1/b/2', 'data:pre/v1/b/2'.length],
  ]);
  t.is(store.describe('v1/a'), 's3://rr/pre/v1/a');
  t.is(await text(await store.get('v1/b/2')), 'data:pre/v1/b/2');
  t.is(await text(await store.getRange('v1/b/2', 5, 9)), 'pre/');
  const err = await t.throwsAsync(store.get('v1/missing'), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_S3_REQUEST');
  t.regex(err?.message ?? '', /s3:\/\/rr\/pre\/v1\/missing/);
});
