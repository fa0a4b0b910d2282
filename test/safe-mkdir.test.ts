import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { DecodeError } from '../lib/errors.js';
import { mkdirsNoFollow } from '../lib/io/safe-mkdir.js';

/** A root (trusted) and an outside directory a planted link points to. */
function dirs(t: ExecutionContext): { root: string; outside: string; rootPrefix: Buffer } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-mkdir-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  return { root, outside, rootPrefix: Buffer.from(`${root}/`) };
}

const opts = () => ({ mode: 0o755, setMode: true, known: new Set<string>() });

test('makes every directory between root and dir, with the mode set through fchmod (not filtered by the umask), and remembers them', (t) => {
  const { root, rootPrefix } = dirs(t);
  // 0777 is what the umask (022 or stricter in any sane environment) would filter: only an explicit chmod gives it.
  const o = { mode: 0o777, setMode: true, known: new Set<string>() };
  mkdirsNoFollow(rootPrefix, Buffer.from('s3/b\xffk/deep', 'latin1'), o);
  for (const rel of ['s3', 's3/b\xffk', 's3/b\xffk/deep']) {
    const st = fs.lstatSync(Buffer.concat([rootPrefix, Buffer.from(rel, 'latin1')]));
    t.true(st.isDirectory(), rel);
    t.is(st.mode & 0o777, 0o777, rel);
  }
  t.deepEqual([...o.known].sort(), ['s3', 's3/b\xffk', 's3/b\xffk/deep']);
  // Existing directories are fine.
  t.notThrows(() => mkdirsNoFollow(rootPrefix, Buffer.from('s3/other'), o));
  t.true(fs.statSync(path.join(root, 's3', 'other')).isDirectory());
});

for (const [label, at] of [
  ['an intermediate component', 's3'],
  ['the last component', 's3/bkt'],
] as const) {
  test(`a symbolic link planted at ${label} is not followed: ERR_IO naming it, nothing made outside`, (t) => {
    const { root, outside, rootPrefix } = dirs(t);
    fs.mkdirSync(path.join(root, 's3'), { recursive: true });
    if (at === 's3') fs.rmdirSync(path.join(root, 's3'));
    fs.symlinkSync(outside, path.join(root, at));
    const err = t.throws(() => mkdirsNoFollow(rootPrefix, Buffer.from('s3/bkt/dir'), opts()));
    t.true(err instanceof DecodeError && err.code === 'ERR_IO', String(err));
    t.true(err?.message.includes(path.join(root, at)), err?.message);
    t.deepEqual(fs.readdirSync(outside), []);
  });
}

test('a file where a directory belongs is ERR_IO', (t) => {
  const { root, rootPrefix } = dirs(t);
  fs.writeFileSync(path.join(root, 's3'), 'x');
  const err = t.throws(() => mkdirsNoFollow(rootPrefix, Buffer.from('s3/bkt'), opts()));
  t.true(err instanceof DecodeError && err.code === 'ERR_IO', String(err));
});
