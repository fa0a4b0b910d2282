/**
 * Faults of -o s3:// (SPEC §11) through a fault-injecting proxy in front of
 * s3rver: access denied, a part failing every attempt (and once: retried),
 * a wrong ETag returned, a connection cut in the middle of a body, the
 * server stopped mid-run. Each is one line on stderr naming the code, exit
 * 1, and nothing of the run is left under the prefix (multipart uploads
 * aborted, partial objects deleted) — a dump without CHECKSUMS at most,
 * when the server itself is gone.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startFaultProxy, type FaultRule, type SeenRequest } from '../helpers/fault-proxy.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { createBucket, listKeys, S3_TEST_ENV, sharedS3Server, startS3Server, testClient } from '../helpers/s3-server.js';
import { BIN, bytesOf, runCli, tempDir } from './harness.js';

const s3 = sharedS3Server(test, 'f');
let input: string;
let inputDir: string;

test.before(async () => {
  inputDir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ekv-s3-faults-'));
  input = path.join(inputDir, 'in.fsm');
  const snap = new SnapshotBuilder()
    .bucket('photos')
    .putObject('photos', 'hello.txt', Buffer.from('hello'))
    .putObject('photos', 'cat.jpg', bytesOf('cat', 100_000), { chunkSize: 65536 })
    // Two parts of the 8 MiB part size.
    .putObject('photos', 'big.bin', bytesOf('big', 9 << 20), { chunkSize: 1 << 20 });
  fs.writeFileSync(input, snap.toFsm({ sort: true, footer: true }));
});

test.after.always(async () => {
  if (inputDir) fs.rmSync(inputDir, { recursive: true, force: true });
});

const isPutObject = (r: SeenRequest, key: string) => r.method === 'PUT' && !r.url.includes('uploadId=') && r.url.split('?')[0]!.endsWith(key);
const isPart = (r: SeenRequest, n: number) => r.method === 'PUT' && r.url.includes('uploadId=') && new RegExp(`[?&]partNumber=${n}(&|$)`).test(r.url);

async function runThroughProxy(rules: FaultRule[]) {
  const bucket = await s3.freshBucket();
  const proxy = await startFaultProxy(s3.server.port, rules);
  try {
    const res = await runCli([input, '-o', `s3://${bucket}/dump`, '--s3-endpoint', proxy.endpoint, '--s3-path-style'], { env: S3_TEST_ENV });
    return { res, proxy, left: await listKeys(s3.client, bucket), bucket };
  } finally {
    await proxy.close();
  }
}

function oneLineError(t: import('ava').ExecutionContext, stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  t.is(lines.length, 1, stderr);
  t.regex(lines[0]!, pattern);
}

test('access denied (403) on an upload: ERR_S3_REQUEST naming the key, nothing left', async (t) => {
  const { res, left, proxy } = await runThroughProxy([{ match: (r) => isPutObject(r, 'cat.jpg'), fault: { kind: 'status', status: 403, code: 'AccessDenied' } }]);
  t.is(res.code, 1);
  oneLineError(t, res.stderr, /^ekv-s3-decode: error ERR_S3_REQUEST: path s3:\/\/.*\/dump\/s3\/photos\/cat\.jpg: PutObject failed: AccessDenied \(HTTP 403\): access denied/);
  t.deepEqual(left, []);
  t.is(proxy.faulted.length, 1, '403 is not retried');
});

test('a part failing on every attempt: the multipart upload is aborted, nothing left', async (t) => {
  const { res, left, proxy } = await runThroughProxy([{ match: (r) => isPart(r, 2), fault: { kind: 'status', status: 500, code: 'InternalError' } }]);
  t.is(res.code, 1);
  oneLineError(t, res.stderr, /ERR_S3_REQUEST: path s3:\/\/.*\/dump\/s3\/photos\/big\.bin: UploadPart 2 failed: InternalError \(HTTP 500\)/);
  t.deepEqual(left, []);
  t.is(proxy.faulted.length, 4, 'tried 4 times');
  t.true(proxy.seen.some((r) => r.method === 'DELETE' && r.url.includes('uploadId=')), 'AbortMultipartUpload sent');
});

test('a part failing once is retried: the dump completes', async (t) => {
  const { res, left, proxy } = await runThroughProxy([{ match: (r) => isPart(r, 2), fault: { kind: 'status', status: 500, code: 'InternalError' }, times: 1 }]);
  t.is(res.code, 0, res.stderr);
  t.is(proxy.faulted.length, 1);
  t.true(left.includes('dump/CHECKSUMS'));
  t.true(left.includes('dump/s3/photos/big.bin'));
});

test('a wrong ETag returned for an upload: ERR_S3_UPLOAD_MISMATCH, nothing left', async (t) => {
  const { res, left } = await runThroughProxy([{ match: (r) => isPutObject(r, 'hello.txt'), fault: { kind: 'wrong-etag' } }]);
  t.is(res.code, 1);
  oneLineError(t, res.stderr, /ERR_S3_UPLOAD_MISMATCH: path s3:\/\/.*\/dump\/s3\/photos\/hello\.txt: PutObject: the server's ETag "0{32}" is not that of the bytes sent \(5d41402abc4b2a76b9719d911017c592\)/);
  t.deepEqual(left, []);
});

test('a connection cut in the middle of a body (every attempt): ERR_S3_REQUEST, the partial object the server kept is deleted', async (t) => {
  const { res, left, proxy } = await runThroughProxy([{ match: (r) => isPutObject(r, 'cat.jpg'), fault: { kind: 'drop-request', afterBytes: 50_000 } }]);
  t.is(res.code, 1);
  oneLineError(t, res.stderr, /ERR_S3_REQUEST: path s3:\/\/.*\/dump\/s3\/photos\/cat\.jpg: PutObject failed/);
  t.true(proxy.faulted.length >= 2, 'retried');
  t.deepEqual(left, []);
});

test('the server stopped mid-run: ERR_S3_REQUEST, and what it holds has no MANIFEST.json or CHECKSUMS', async (t) => {
  const own = await startS3Server();
  const ownClient = testClient(own.endpoint);
  t.teardown(async () => {
    ownClient.destroy();
    await own.stop();
  });
  await createBucket(ownClient, 'stopped');
  let killed = false;
  const proxy = await startFaultProxy(own.port, []);
  t.teardown(() => proxy.close());
  proxy.rules.push({
    match: (r) => {
      if (!killed && isPart(r, 1)) {
        killed = true;
        process.kill(own.pid, 'SIGKILL');
      }
      return false;
    },
    fault: { kind: 'wrong-etag' },
  });
  const dir = tempDir(t);
  const res = await runCli([input, '-o', 's3://stopped/dump', '--s3-endpoint', proxy.endpoint, '--s3-path-style', '--scratch-dir', dir], { env: S3_TEST_ENV });
  t.true(killed);
  t.is(res.code, 1);
  oneLineError(t, res.stderr, /ERR_S3_REQUEST: path s3:\/\/stopped\/dump\/.*failed/);
  const stored = fs.readdirSync(own.dir, { recursive: true, encoding: 'utf8' });
  t.false(stored.some((p) => p.includes('CHECKSUMS') || p.includes('MANIFEST.json')), stored.join('\n'));
  t.deepEqual(fs.readdirSync(dir), [], 'scratch removed');
});

test('SIGINT in the middle of an upload: exit 130, the upload aborted or deleted, nothing left', async (t) => {
  const bucket = await s3.freshBucket();
  let child: ReturnType<typeof spawn> | undefined;
  const proxy = await startFaultProxy(s3.server.port, [
    {
      match: (r) => {
        if (isPart(r, 1) && child?.pid) child.kill('SIGINT');
        return false;
      },
      fault: { kind: 'wrong-etag' },
    },
  ]);
  t.teardown(() => proxy.close());
  child = spawn(process.execPath, [BIN, input, '-o', `s3://${bucket}/dump`, '--s3-endpoint', proxy.endpoint, '--s3-path-style'], { env: { ...process.env, ...S3_TEST_ENV }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((resolve) => child!.on('close', resolve));
  t.is(code, 130, stderr);
  t.regex(stderr, /interrupted by SIGINT/);
  t.deepEqual(await listKeys(s3.client, bucket), []);
  // Depending on where the signal lands the upload is aborted, or completed and then deleted.
  t.true(proxy.seen.some((r) => r.method === 'DELETE' && r.url.includes('big.bin')), proxy.seen.map((r) => `${r.method} ${r.url}`).join('\n'));
});
