import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { removeTree } from '../lib/io/remove-tree.js';
import { spyOnUnlink } from './helpers/unlink-spy.js';

function tmp(t: { teardown: (f: () => void) => void }): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-rmtree-'));
  t.teardown(() => fs.rmSync(base, { recursive: true, force: true }));
  return base;
}

// Serial: the spy replaces process-wide functions.
test.serial('removes a wide and deep tree with non-UTF-8 names, at most 32 unlinks pending at once', async (t) => {
  const root = path.join(tmp(t), 'tree');
  const flat = Buffer.from(`${root}/flat-\xff`, 'latin1');
  fs.mkdirSync(flat, { recursive: true });
  for (let i = 0; i < 500; i++) fs.writeFileSync(Buffer.concat([flat, Buffer.from(`/f\xfe${i}`, 'latin1')]), 'x');
  let deep = root;
  for (let d = 0; d < 6; d++) {
    deep = path.join(deep, `d${d}`);
    fs.mkdirSync(deep);
    for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(deep, `f${i}`), 'y');
  }
  fs.writeFileSync(path.join(root, 'top'), 'z');
  const spy = spyOnUnlink();
  try {
    await removeTree(root);
  } finally {
    spy.restore();
  }
  t.false(fs.existsSync(root));
  t.is(spy.calls(), 500 + 6 * 40 + 1);
  // Node's fs.promises.rm would start all 500 of the flat directory at once.
  t.true(spy.maxPending() <= 32, `${spy.maxPending()} unlinks pending at once`);
});

test('a missing path is not an error; a file is unlinked', async (t) => {
  const base = tmp(t);
  await t.notThrowsAsync(removeTree(path.join(base, 'nothing')));
  fs.writeFileSync(path.join(base, 'file'), 'x');
  await removeTree(path.join(base, 'file'));
  t.false(fs.existsSync(path.join(base, 'file')));
  t.true(fs.existsSync(base));
});
