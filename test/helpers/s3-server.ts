/**
 * A real S3-compatible server for tests: s3rver (npm) in a child node
 * process on 127.0.0.1, on a free port, its data in a temp dir; stopped by
 * its pid. Node 20 needs --openssl-legacy-provider for s3rver's paged
 * listings (it hashes continuation tokens with an algorithm OpenSSL 3
 * dropped). s3rver checks no signature and no Content-MD5: what it cannot
 * do (faults) the fault proxy (./fault-proxy.ts) does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

/** The environment every S3 test run gets: s3rver's default credentials, no AWS metadata lookups. */
export const S3_TEST_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  // No profile file of the machine's user may change the tests' configuration.
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

// The SDK's warning about its future Node versions, in the test process itself.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A running server. */
export interface S3Server {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** Its data directory. */
  dir: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL) and removes its data. */
  stop(): Promise<void>;
}

const S3RVER_BIN = path.join(path.dirname(createRequire(import.meta.url).resolve('s3rver/package.json')), 'bin', 's3rver.js');

/** Starts s3rver with the given buckets already made. */
export async function startS3Server(buckets: string[] = []): Promise<S3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-s3rver-'));
  const args = ['--openssl-legacy-provider', S3RVER_BIN, '-d', dir, '-a', '127.0.0.1', '-p', '0', ...buckets.flatMap((b) => ['--configure-bucket', b])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${out}`)), 90_000);
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}): ${out}`));
    });
  });
  // Keep draining its log so it never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir,
    pid: child.pid!,
    stop: () => stop(child, dir),
  };
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid!, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A client for checks made by the tests themselves (path style, the test credentials, no checksums the server does not know). */
export function testClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every key under prefix, sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of out.Contents ?? []) keys.push(o.Key!);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** An object's bytes. */
export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Stores bytes at key. */
export async function putBytes(client: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Makes a bucket. */
export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** One server for a test file: started before its tests, stopped after them; a fresh bucket per test. */
export interface SharedS3 {
  server: S3Server;
  client: S3Client;
  /** A new, empty bucket named `<tag>-<pid>-<n>`. */
  freshBucket(): Promise<string>;
}

/** Registers before/after hooks on test that run one s3rver for the file; its fields are set once the before hook ran. */
export function sharedS3Server(test: { before: (fn: () => Promise<void>) => void; after: { always: (fn: () => Promise<void>) => void } }, tag: string): SharedS3 {
  let n = 0;
  const shared = {
    freshBucket: async () => {
      const b = `${tag}-${process.pid}-${n++}`;
      await createBucket(shared.client, b);
      return b;
    },
  } as SharedS3;
  test.before(async () => {
    shared.server = await startS3Server();
    shared.client = testClient(shared.server.endpoint);
  });
  test.after.always(async () => {
    shared.client?.destroy();
    await shared.server?.stop();
  });
  return shared;
}
