import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DirectoryTarget, SMALL_BODY_BYTES } from '../lib/sinks/directory.js';
import type { SealedRun, SpillFile } from '../lib/types.js';
import { sameBytes } from './helpers/bytes.js';

function dirs(t: { teardown(fn: () => void): void }) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-directory-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const tmpDir = path.join(base, 'work');
  fs.mkdirSync(root);
  fs.mkdirSync(tmpDir);
  return { base, root, tmpDir };
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

test('putRun renames the run file into place (the same inode: no byte copied), creating parents 0755', async (t) => {
  const { root, tmpDir } = dirs(t);
  const runPath = path.join(tmpDir, 'run-1');
  fs.writeFileSync(runPath, 'run bytes', { mode: 0o600 });
  const ino = fs.statSync(runPath).ino;
  const file: SpillFile = { id: 1, path: runPath, kind: 'run' };
  const run: SealedRun = { file, size: 9, hashes: { sha256: Buffer.alloc(32), parts: [] } };
  const target = new DirectoryTarget({ root, tmpDir });
  t.true(await target.putRun(Buffer.from('s3/b/a/k'), run));
  await target.finish();
  await target.close();
  const dest = path.join(root, 's3/b/a/k');
  t.is(fs.readFileSync(dest, 'utf8'), 'run bytes');
  t.is(fs.statSync(dest).ino, ino);
  t.false(fs.existsSync(runPath));
  t.is(mode(path.join(root, 's3/b/a')), 0o755);
});

for (const size of [5, SMALL_BODY_BYTES + 5]) {
  test(`putSpans (${size > SMALL_BODY_BYTES ? 'large: tmp file' : 'small: in memory'}): the body appears only at commit, 0600; abort leaves nothing`, async (t) => {
    const { root, tmpDir } = dirs(t);
    const target = new DirectoryTarget({ root, tmpDir });
    const body = Buffer.alloc(size, 'x');
    const w = await target.putSpans(Buffer.from('s3/b/ok'), size, []);
    t.true(w.wantsBytes);
    await w.write(body.subarray(0, 3));
    await w.write(body.subarray(3));
    t.false(fs.existsSync(path.join(root, 's3/b/ok')), 'not before commit');
    await w.commit();
    const bad = await target.putSpans(Buffer.from('s3/b/bad'), size, []);
    await bad.write(body);
    await bad.abort();
    await target.finish();
    await target.close();
    sameBytes(t, fs.readFileSync(path.join(root, 's3/b/ok')), body, 's3/b/ok');
    t.is(mode(path.join(root, 's3/b/ok')), 0o600);
    t.false(fs.existsSync(path.join(root, 's3/b/bad')));
    t.deepEqual(fs.readdirSync(tmpDir), [], 'no tmp file left');
  });
}

test('putFile writes its pieces with the mode asked for; an existing file is never overwritten (umask: test/e2e/faults.test.ts)', async (t) => {
  const { root, tmpDir } = dirs(t);
  const target = new DirectoryTarget({ root, tmpDir });
  await target.putFile(Buffer.from('MANIFEST.json'), 6, [Buffer.from('ab'), Buffer.from('cdef')], 0o644);
  await target.finish();
  t.is(fs.readFileSync(path.join(root, 'MANIFEST.json'), 'utf8'), 'abcdef');
  t.is(mode(path.join(root, 'MANIFEST.json')), 0o644);
  await t.throwsAsync(target.putFile(Buffer.from('MANIFEST.json'), 1, [Buffer.from('x')], 0o644), { message: /EEXIST/ });
  await target.close();
});

test('a symbolic link planted in the staging area where a bucket directory goes is not followed: ERR_IO, nothing written through it', async (t) => {
  const { base, root, tmpDir } = dirs(t);
  const outside = path.join(base, 'outside');
  fs.mkdirSync(outside);
  fs.mkdirSync(path.join(root, 's3'));
  fs.symlinkSync(outside, path.join(root, 's3', 'bkt'));
  const target = new DirectoryTarget({ root, tmpDir });
  try {
    await t.throwsAsync(target.putFile(Buffer.from('s3/bkt/_bucket.json'), 2, [Buffer.from('{}')], 0o600), { message: /symbolic link/ });
    await t.throwsAsync(target.putSpans(Buffer.from('s3/bkt/deeper/obj'), 1, []), { message: /symbolic link/ });
  } finally {
    await target.close();
  }
  t.deepEqual(fs.readdirSync(outside), [], 'nothing written through the link');
});
