/**
 * ekv-s3-verify end to end (SPEC §13): a dump made by the real decoder is
 * clean as a directory, tar, tar.gz and on stdin; each kind of tampering is
 * reported as one line naming the path, exit 1; usage errors exit 2.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { rewriteChecksums } from '../helpers/dump.js';
import { VERIFY_BIN, bytesOf, decode, runCli, tempDir } from './harness.js';

const verify = (args: string[], stdin?: Buffer) => runCli(args, { bin: VERIFY_BIN, ...(stdin ? { stdin } : {}) });

async function cleanDump(t: import('ava').ExecutionContext): Promise<string> {
  const snap = new SnapshotBuilder()
    .bucket('photos', { owner: 'alice' })
    .putObject('photos', 'a/b/c.txt', Buffer.from('hello'))
    .putObject('photos', 'a/b', Buffer.from('leaf'))
    .putObject('photos', 'big.bin', bytesOf('v', 300_000), { parts: 3, chunkSize: 65536 });
  const d = await decode(t, snap, 'fsm');
  t.is(d.code, 0, d.stderr);
  return d.root;
}

test('a clean dump verifies as a directory, a tar, a tar.gz and on stdin', async (t) => {
  const root = await cleanDump(t);
  const work = tempDir(t);
  t.is(spawnSync('tar', ['-cf', path.join(work, 'd.tar'), '-C', root, '.']).status, 0);
  t.is(spawnSync('tar', ['-czf', path.join(work, 'd.tgz'), '-C', root, '.']).status, 0);
  for (const [args, stdin] of [[[root]], [[path.join(work, 'd.tar')]], [[path.join(work, 'd.tgz')]], [['-'], fs.readFileSync(path.join(work, 'd.tgz'))]] as const) {
    const r = await verify([...args], stdin);
    t.is(r.code, 0, `${args.join(' ')}: ${r.stdout.toString()}${r.stderr}`);
    t.is(r.stdout.toString(), '');
    t.regex(r.stderr, /ekv-s3-verify: 10 files checked, no problems/);
  }
});

/** Tampers with a copy of a clean dump; the report must be exactly these lines. */
async function reports(t: import('ava').ExecutionContext, tamper: (root: string) => void, lines: string[]): Promise<void> {
  const root = await cleanDump(t);
  tamper(root);
  const r = await verify([root]);
  t.is(r.code, 1, r.stderr);
  t.deepEqual(r.stdout.toString().split('\n').filter(Boolean), lines);
  t.regex(r.stderr, new RegExp(`${lines.length} problems?`));
}

const p = (root: string, rel: string) => path.join(root, 's3', 'photos', rel);
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

test('a flipped byte', (t) =>
  reports(
    t,
    (r) => {
      fs.writeFileSync(p(r, 'a/b/c.txt'), 'hellp');
    },
    [
      `s3/photos/a/b/c.txt: SHA-256 ${createHash('sha256').update('hellp').digest('hex')} does not match CHECKSUMS (${createHash('sha256').update('hello').digest('hex')})`,
      `s3/photos/a/b/c.txt: MD5 ${md5('hellp')} != sidecar etag ${md5('hello')}`,
    ],
  ));
test('a missing file', (t) =>
  reports(t, (r) => fs.rmSync(p(r, 'a/b/c.txt')), ['s3/photos/a/b/c.txt: listed in CHECKSUMS but missing', 's3/photos/a/b/c.txt: sidecar without body']));
test('an extra file', (t) => reports(t, (r) => fs.writeFileSync(path.join(r, 'notes.txt'), 'x'), ['notes.txt: not listed in CHECKSUMS', 'notes.txt: unexpected file outside s3/<bucket>/']));
test('a sidecar that does not match its body (CHECKSUMS rewritten to hide it)', (t) =>
  reports(
    t,
    (r) => {
      const f = p(r, 'a/b/c.txt.elastickv-meta.json');
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"size_bytes": 5', '"size_bytes": 6'));
      rewriteChecksums(r);
    },
    ['s3/photos/a/b/c.txt: size 5 != sidecar size_bytes 6'],
  ));
test('a symlink', (t) => reports(t, (r) => fs.symlinkSync('/etc/passwd', p(r, 'evil')), ['s3/photos/evil: not a regular file or directory (symlink)']));
test('a hard link', (t) =>
  reports(t, (r) => fs.linkSync(p(r, 'a/b/c.txt'), path.join(r, 'twin')), [
    's3/photos/a/b/c.txt: regular file with 2 hard links',
    's3/photos/a/b/c.txt: sidecar of a body that is not a regular file',
    'twin: regular file with 2 hard links',
  ]));
test('a tampered bucket directory name', (t) =>
  reports(
    t,
    (r) => {
      fs.renameSync(path.join(r, 's3', 'photos'), path.join(r, 's3', 'photoz'));
      rewriteChecksums(r);
    },
    ['s3/photoz/_bucket.json: bucket name "photos" belongs in directory s3/photos, not s3/photoz'],
  ));
test('a KEYMAP target that is gone', (t) =>
  reports(
    t,
    (r) => {
      fs.rmSync(p(r, 'a/b.elastickv-leaf-data'));
      fs.rmSync(p(r, 'a/b.elastickv-leaf-data.elastickv-meta.json'));
      rewriteChecksums(r);
    },
    ['s3/photos/a/b.elastickv-leaf-data: KEYMAP target does not exist'],
  ));
test('no CHECKSUMS: the dump is incomplete', async (t) => {
  const root = await cleanDump(t);
  fs.rmSync(path.join(root, 'CHECKSUMS'));
  const r = await verify([root]);
  t.is(r.code, 1);
  const out = r.stdout.toString();
  t.regex(out, /^CHECKSUMS: CHECKSUMS is missing, empty or not a regular file: the dump is incomplete$/m);
  t.regex(out, /^MANIFEST\.json: not listed in CHECKSUMS$/m);
});

test('usage errors exit 2: no DUMP, s3:// (not supported yet), unknown flag', async (t) => {
  for (const args of [[], ['s3://bucket/dump'], ['--bogus', 'x']]) {
    const r = await verify(args);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, /ERR_USAGE/);
  }
  t.regex((await verify(['s3://b/p'])).stderr, /s3:\/\/ dumps are not supported yet/);
});

test('in a tar: a symlink entry and a flipped byte are reported the same way', async (t) => {
  const root = await cleanDump(t);
  fs.symlinkSync('/etc/passwd', p(root, 'evil'));
  fs.writeFileSync(p(root, 'a/b/c.txt'), 'hellp');
  const tgz = path.join(tempDir(t), 'd.tgz');
  t.is(spawnSync('tar', ['-czf', tgz, '-C', root, '.']).status, 0);
  const r = await verify([tgz]);
  t.is(r.code, 1);
  t.deepEqual(r.stdout.toString().split('\n').filter(Boolean), [
    `s3/photos/a/b/c.txt: SHA-256 ${createHash('sha256').update('hellp').digest('hex')} does not match CHECKSUMS (${createHash('sha256').update('hello').digest('hex')})`,
    `s3/photos/a/b/c.txt: MD5 ${md5('hellp')} != sidecar etag ${md5('hello')}`,
    's3/photos/evil: not a regular file or directory (tar symlink)',
  ]);
});
