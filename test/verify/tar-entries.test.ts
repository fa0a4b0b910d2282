import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forEachTarEntry, unsafeTarPath } from '../../lib/verify/tar-entries.js';

test('unsafe tar paths', (t) => {
  t.is(unsafeTarPath('s3/b/x'), undefined);
  t.is(unsafeTarPath('/etc/passwd'), 'absolute path');
  t.is(unsafeTarPath('s3/../x'), "path segment '..'");
  t.is(unsafeTarPath('s3//x'), "path segment ''");
  t.is(unsafeTarPath('a\\b'), 'backslash in path');
});

test('entries of a tar and a tar.gz alike: ./ and trailing / removed, types kept, bytes streamed', async (t) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-tar-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  fs.mkdirSync(path.join(d, 'src', 's3', 'b'), { recursive: true });
  fs.writeFileSync(path.join(d, 'src', 's3', 'b', 'x'), 'hello');
  fs.symlinkSync('x', path.join(d, 'src', 's3', 'b', 'l'));
  for (const [name, flags] of [['a.tar', '-cf'], ['a.tgz', '-czf']] as const) {
    t.is(spawnSync('tar', [flags, path.join(d, name), '-C', path.join(d, 'src'), '.']).status, 0);
    const seen: string[] = [];
    await forEachTarEntry(fs.createReadStream(path.join(d, name)), async (e) => {
      let text = '';
      for await (const c of e.stream) text += (c as Buffer).toString();
      seen.push(`${e.type} ${e.path.toString()} ${text}`);
    });
    t.deepEqual(seen.sort(), ['directory s3 ', 'directory s3/b ', 'file s3/b/x hello', 'symlink s3/b/l '], name);
  }
});
