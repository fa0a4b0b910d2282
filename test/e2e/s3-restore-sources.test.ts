/**
 * ekv-s3-restore-objects SOURCE kinds (SPEC §11) against s3rver: a dump
 * tar, a tar.gz, a native snapshot, a JSON-lines snapshot and an s3://
 * snapshot object restore the same objects as the dump directory; their
 * failures — a damaged body in an archive, a symlink in an archive, a
 * snapshot that fails its CRC or its ETag check, a missing SOURCE — are
 * one-line errors, upload nothing that is not whole, and leave no scratch.
 * And faults of the server during a restore (through the fault proxy): each
 * object that meets one fails alone, and a rerun puts exactly those; a stop
 * signal ends the run with the shell's code and removes the scratch copy.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startFaultProxy, type SeenRequest } from '../helpers/fault-proxy.js';
import { getBytes, listKeys, putBytes, S3_TEST_ENV, sharedS3Server } from '../helpers/s3-server.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { bytesOf, REPO, runCli, tempDir, type RunResult } from './harness.js';

const RESTORE = path.join(REPO, 'bin', 'ekv-s3-restore-objects.js');
const s3 = sharedS3Server(test, 'rs');

const BODIES = { report: bytesOf('report', 20_000), big: bytesOf('big', 60_000) };
const KEYS = ['docs/report.pdf', 'x/big.bin', 'x/big.bin/part'];

function library(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('library')
    .putObject('library', 'docs/report.pdf', BODIES.report, { contentType: 'application/pdf', userMetadata: { owner: 'bob' } })
    .putObject('library', 'x/big.bin', BODIES.big, { chunkSize: 8192, parts: 2 })
    // A key below another object's key: renamed in the dump (KEYMAP), restored at its own key.
    .putObject('library', 'x/big.bin/part', Buffer.from('below'));
}

/** Runs restore-objects with TMPDIR in `tmp`, which must be empty again afterwards. */
async function restore(t: ExecutionContext, tmp: string, args: string[]): Promise<RunResult> {
  const res = await runCli([...args, '--s3-endpoint', s3.server.endpoint, '--s3-path-style'], { bin: RESTORE, env: { ...S3_TEST_ENV, TMPDIR: tmp } });
  t.deepEqual(fs.readdirSync(tmp), [], `scratch removed (stderr: ${res.stderr})`);
  return res;
}

/** The inputs: a snapshot in both forms, and the dump of it as a directory, a tar and a tar.gz. */
async function sources(t: ExecutionContext): Promise<{ dir: string; tmp: string }> {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.writeFileSync(path.join(dir, 'snap.jsonl'), library().toJsonl());
  fs.writeFileSync(path.join(dir, 'snap.fsm'), library().toFsm({ sort: true, header: 'v1', footer: true }));
  for (const [args, out] of [[['-o', path.join(dir, 'dump')], undefined], [[], 'dump.tar'], [['--gzip'], 'dump.tar.gz']] as const) {
    const res = await runCli([path.join(dir, 'snap.jsonl'), ...args, '-q']);
    t.is(res.code, 0, res.stderr);
    if (out) fs.writeFileSync(path.join(dir, out), res.stdout);
  }
  return { dir, tmp: path.join(dir, 'tmp') };
}

async function assertRestored(t: ExecutionContext, bucket: string, label: string): Promise<void> {
  t.deepEqual(await listKeys(s3.client, bucket), KEYS, label);
  t.true((await getBytes(s3.client, bucket, 'docs/report.pdf')).equals(BODIES.report), label);
  t.true((await getBytes(s3.client, bucket, 'x/big.bin')).equals(BODIES.big), label);
  t.is((await getBytes(s3.client, bucket, 'x/big.bin/part')).toString(), 'below', label);
  const h = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'docs/report.pdf' }));
  t.is(h.ContentType, 'application/pdf', label);
  t.deepEqual(h.Metadata, { owner: 'bob' }, label);
}

test('a dump tar, a tar.gz, a native and a JSON-lines snapshot and an s3:// snapshot restore what the dump directory restores', async (t) => {
  const { dir, tmp } = await sources(t);
  const snapBucket = await s3.freshBucket();
  await putBytes(s3.client, snapBucket, 'snaps/library.fsm', fs.readFileSync(path.join(dir, 'snap.fsm')));
  for (const source of ['dump', 'dump.tar', 'dump.tar.gz', 'snap.fsm', 'snap.jsonl', `s3://${snapBucket}/snaps/library.fsm`]) {
    const bucket = await s3.freshBucket();
    const res = await restore(t, tmp, [source.startsWith('s3://') ? source : path.join(dir, source), `s3://${bucket}`]);
    t.is(res.code, 0, `${source}: ${res.stderr}`);
    t.regex(res.stderr, /put 3, skipped 0, failed 0 \(80005 bytes uploaded; 1 with a multipart ETag/, source);
    await assertRestored(t, bucket, source);
  }
});

test('a body altered inside a tar fails alone (ETag mismatch, one line); the others are put', async (t) => {
  const { dir, tmp } = await sources(t);
  const body = path.join(dir, 'dump', 's3', 'library', 'docs', 'report.pdf');
  const altered = Buffer.from(BODIES.report);
  altered[100] = altered[100]! ^ 1;
  fs.writeFileSync(body, altered);
  t.is(spawnSync('tar', ['-C', path.join(dir, 'dump'), '-cf', path.join(dir, 'altered.tar'), '.']).status, 0);
  const bucket = await s3.freshBucket();
  const res = await restore(t, tmp, [path.join(dir, 'altered.tar'), `s3://${bucket}`]);
  t.is(res.code, 1);
  const failures = res.stderr.split('\n').filter((l) => l.includes('failed ERR'));
  t.is(failures.length, 1, res.stderr);
  t.regex(failures[0]!, /failed ERR_S3_ETAG_MISMATCH: bucket library object docs\/report\.pdf: .*body MD5 [0-9a-f]{32} is not its sidecar's ETag/);
  t.regex(res.stderr, /put 2, skipped 0, failed 1/);
  t.deepEqual(await listKeys(s3.client, bucket), ['x/big.bin', 'x/big.bin/part']);
});

test('a symlink in a tar.gz is refused before anything is uploaded', async (t) => {
  const { dir, tmp } = await sources(t);
  fs.symlinkSync('/etc/passwd', path.join(dir, 'dump', 's3', 'library', 'docs', 'link'));
  t.is(spawnSync('tar', ['-C', path.join(dir, 'dump'), '-czf', path.join(dir, 'link.tar.gz'), '.']).status, 0);
  const bucket = await s3.freshBucket();
  const res = await restore(t, tmp, [path.join(dir, 'link.tar.gz'), `s3://${bucket}`]);
  t.is(res.code, 1);
  t.regex(res.stderr, /^ekv-s3-restore-objects: error ERR_DUMP_INVALID: path s3\/library\/docs\/link: tar entry is a symlink, not a regular file or directory: refused\n$/);
  t.deepEqual(await listKeys(s3.client, bucket), []);
});

test('a snapshot that fails decoding (CRC footer, an ETag check) uploads nothing; a missing SOURCE is ERR_IO', async (t) => {
  const { dir, tmp } = await sources(t);
  const bucket = await s3.freshBucket();
  const fsm = fs.readFileSync(path.join(dir, 'snap.fsm'));
  const flipped = Buffer.from(fsm);
  flipped[fsm.length - 10] = flipped[fsm.length - 10]! ^ 0x40;
  fs.writeFileSync(path.join(dir, 'flipped.fsm'), flipped);
  const crc = await restore(t, tmp, [path.join(dir, 'flipped.fsm'), `s3://${bucket}`]);
  t.is(crc.code, 1);
  t.regex(crc.stderr, /^ekv-s3-restore-objects: error ERR_SNAPSHOT_CRC_MISMATCH: /);
  t.is(crc.stderr.trimEnd().split('\n').length, 1, crc.stderr);
  const badEtag = new SnapshotBuilder().bucket('library').putObject('library', 'ok', Buffer.from('fine')).putObject('library', 'liar', Buffer.from('body'), { etag: '0123456789abcdef0123456789abcdef' });
  fs.writeFileSync(path.join(dir, 'bad-etag.jsonl'), badEtag.toJsonl());
  const etag = await restore(t, tmp, [path.join(dir, 'bad-etag.jsonl'), `s3://${bucket}`]);
  t.is(etag.code, 1);
  t.regex(etag.stderr, /ERR_S3_ETAG_MISMATCH: .*liar/);
  const missing = await restore(t, tmp, [path.join(dir, 'absent.tar'), `s3://${bucket}`]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /^ekv-s3-restore-objects: error ERR_IO: .*absent\.tar/);
  t.deepEqual(await listKeys(s3.client, bucket), [], 'nothing uploaded');
});

test('server faults during a restore: 403, a wrong ETag, a body cut off on every attempt each fail their object alone (one line each); a rerun puts what is not whole and skips what is', async (t) => {
  const { dir, tmp } = await sources(t);
  const bucket = await s3.freshBucket();
  const put = (key: string) => (r: SeenRequest) => r.method === 'PUT' && r.url.split('?')[0]!.endsWith(key);
  const proxy = await startFaultProxy(s3.server.port, [
    { match: put('docs/report.pdf'), fault: { kind: 'status', status: 403, code: 'AccessDenied' } },
    { match: put('x/big.bin'), fault: { kind: 'drop-request', afterBytes: 30_000 } },
    { match: put('x/big.bin/part'), fault: { kind: 'wrong-etag' } },
  ]);
  t.teardown(() => proxy.close());
  const args = [path.join(dir, 'dump.tar'), `s3://${bucket}/r`, '--s3-endpoint', proxy.endpoint, '--s3-path-style'];
  const res = await runCli(args, { bin: RESTORE, env: { ...S3_TEST_ENV, TMPDIR: tmp } });
  t.is(res.code, 1);
  const failures = res.stderr.split('\n').filter((l) => l.includes(' failed ERR'));
  t.is(failures.length, 3, res.stderr);
  t.regex(res.stderr, /failed ERR_S3_REQUEST: bucket library object docs\/report\.pdf: .*AccessDenied \(HTTP 403\): access denied/);
  t.regex(res.stderr, /failed ERR_S3_REQUEST: bucket library object x\/big\.bin: .*PutObject failed/);
  t.regex(res.stderr, /failed ERR_S3_UPLOAD_MISMATCH: bucket library object x\/big\.bin\/part: .*the server's ETag "0{32}" is not that of the bytes sent/);
  t.regex(res.stderr, /put 0, skipped 0, failed 3/);
  t.is(proxy.faulted.filter((r) => put('docs/report.pdf')(r)).length, 1, '403 is not retried');
  t.true(proxy.faulted.filter((r) => put('x/big.bin')(r)).length >= 2, 'a cut-off body is retried');
  // Without faults, a rerun puts what is missing or not whole and skips what the server holds whole.
  proxy.rules = [];
  const again = await runCli(args, { bin: RESTORE, env: { ...S3_TEST_ENV, TMPDIR: tmp } });
  t.is(again.code, 0, again.stderr);
  // The wrong-ETag object was stored whole (only the answer was altered): its size and ETag match, so it is skipped.
  t.regex(again.stderr, /put 2, skipped 1, failed 0/);
  t.deepEqual(await listKeys(s3.client, bucket), KEYS.map((k) => `r/${k}`));
  t.true((await getBytes(s3.client, bucket, 'r/x/big.bin')).equals(BODIES.big));
  t.deepEqual(fs.readdirSync(tmp), []);
});

for (const [sig, code] of [['SIGINT', 130], ['SIGHUP', 129], ['SIGTERM', 143], ['SIGQUIT', 131]] as const) {
  test(`${sig} during a restore from a tar: exit ${code}, the scratch copy removed, a rerun completes it`, async (t) => {
    const { dir, tmp } = await sources(t);
    const bucket = await s3.freshBucket();
    let child: ReturnType<typeof spawn> | undefined;
    // The signal arrives with the first upload, while the unpacked tar is in TMPDIR.
    const proxy = await startFaultProxy(s3.server.port, [
      {
        match: (r) => {
          if (r.method === 'PUT' && child?.pid) child.kill(sig);
          return false;
        },
        fault: { kind: 'wrong-etag' },
      },
    ]);
    t.teardown(() => proxy.close());
    const args = [RESTORE, path.join(dir, 'dump.tar'), `s3://${bucket}`, '--s3-endpoint', proxy.endpoint, '--s3-path-style', '--s3-concurrency', '1'];
    child = spawn(process.execPath, args, { env: { ...process.env, ...S3_TEST_ENV, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exit = await new Promise<number | null>((resolve) => child!.on('close', resolve));
    t.is(exit, code, stderr);
    t.regex(stderr, new RegExp(`interrupted by ${sig}: .*a rerun skips what was put`));
    t.deepEqual(fs.readdirSync(tmp), [], 'scratch removed');
    t.true((await listKeys(s3.client, bucket)).length < KEYS.length, 'stopped before the end');
    proxy.rules = [];
    const again = await restore(t, tmp, [path.join(dir, 'dump.tar'), `s3://${bucket}`]);
    t.is(again.code, 0, again.stderr);
    await assertRestored(t, bucket, `after ${sig}`);
  });
}
