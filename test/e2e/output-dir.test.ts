/**
 * SPEC §2, the output directory: where the dump is staged and what is
 * refused before any work is done.
 */
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { spawnSync } from 'node:child_process';
import { bytesOf, readTree, runCli, tempDir } from './harness.js';

const small = (): SnapshotBuilder => new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a.txt', Buffer.from('hello'));

test('§2 --scratch-dir at or inside DIR (also through a symlink) is a usage error before any work: exit 2, nothing created', async (t) => {
  const work = tempDir(t);
  const input = path.join(work, 'in.jsonl');
  fs.writeFileSync(input, small().toJsonl());
  fs.mkdirSync(path.join(work, 'empty'));
  fs.symlinkSync('empty', path.join(work, 'link'));
  fs.mkdirSync(path.join(work, 'scratch'));
  const cases: Array<[string, string]> = [
    ['empty', 'empty'], // DIR itself
    ['empty', 'link'], // DIR through a symlink
    ['absent', 'absent/scratch'], // inside a DIR still to be made
    ['empty', 'link/deeper/still'],
    ['absent', 'absent/..x'], // a child whose name starts with ".." is still inside
  ];
  const results = await Promise.all(cases.map(([out, scratch]) => runCli([input, '-o', path.join(work, out), '--scratch-dir', path.join(work, scratch)])));
  for (const [i, r] of results.entries()) {
    t.is(r.code, 2, `${cases[i]!.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /ERR_USAGE: --scratch-dir .* is inside the output directory/, cases[i]!.join(' '));
  }
  t.deepEqual(fs.readdirSync(work).sort(), ['empty', 'in.jsonl', 'link', 'scratch']);
  t.deepEqual(fs.readdirSync(path.join(work, 'empty')), []);
  // A sibling of DIR is fine.
  const ok = await runCli([input, '-o', path.join(work, 'out'), '--scratch-dir', path.join(work, 'scratch')]);
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual(fs.readdirSync(path.join(work, 'scratch')), [], 'scratch removed');
});

/** A work dir with in.jsonl of snap and an existing empty DIR `out` of mode 0700; returns paths and DIR's inode. */
function existingDir(t: ExecutionContext, snap: SnapshotBuilder): { work: string; input: string; out: string; ino: number } {
  const work = tempDir(t);
  const input = path.join(work, 'in.jsonl');
  fs.writeFileSync(input, snap.toJsonl());
  const out = path.join(work, 'out');
  fs.mkdirSync(out);
  fs.chmodSync(out, 0o700);
  return { work, input, out, ino: fs.statSync(out).ino };
}

const DUMP_FILES = ['CHECKSUMS', 'MANIFEST.json', 's3/bkt/_bucket.json', 's3/bkt/a.txt', 's3/bkt/a.txt.elastickv-meta.json'];

test('§2 an existing empty DIR (mode 0700) receives the dump in place: same directory, mode kept, nothing staged beside it or left inside', async (t) => {
  const { work, input, out, ino } = existingDir(t, small());
  const r = await runCli([input, '-o', out]);
  t.is(r.code, 0, r.stderr);
  const st = fs.statSync(out);
  t.is(st.ino, ino, 'DIR itself kept, not replaced');
  t.is(st.mode & 0o7777, 0o700, "DIR's mode kept");
  t.deepEqual([...readTree(out).files.keys()].sort(), DUMP_FILES);
  t.deepEqual(fs.readdirSync(out).sort(), ['CHECKSUMS', 'MANIFEST.json', 's3'], 'no staging directory left inside');
  t.deepEqual(fs.readdirSync(work).sort(), ['in.jsonl', 'out']);
  t.is(spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: out }).status, 0);
});

test('§2 -o . from inside an empty directory fills that directory (the shell\'s cwd is not swapped out)', async (t) => {
  const { work, input, out, ino } = existingDir(t, small());
  const r = await runCli([input, '-o', '.'], { cwd: out });
  t.is(r.code, 0, r.stderr);
  t.is(fs.statSync(out).ino, ino);
  t.is(fs.statSync(out).mode & 0o7777, 0o700);
  t.deepEqual([...readTree(out).files.keys()].sort(), DUMP_FILES);
  t.deepEqual(fs.readdirSync(work).sort(), ['in.jsonl', 'out']);
});

test('§2 a failed run into an existing empty DIR leaves it empty, with its mode', async (t) => {
  const bad = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'x', bytesOf('x', 10), { chunkSize: 4, omitChunks: [1] });
  const { work, input, out, ino } = existingDir(t, bad);
  const r = await runCli([input, '-o', out]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /ERR_S3_INCOMPLETE_BLOB_CHUNKS/);
  t.is(fs.statSync(out).ino, ino);
  t.is(fs.statSync(out).mode & 0o7777, 0o700);
  t.deepEqual(fs.readdirSync(out), [], 'DIR left empty (staging removed)');
  t.deepEqual(fs.readdirSync(work).sort(), ['in.jsonl', 'out']);
});
