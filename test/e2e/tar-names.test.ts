/**
 * SPEC §2/§6: the tar stream holds the same bytes as the -o tree, names
 * included — object keys that are not UTF-8 are carried by pax headers with
 * hdrcharset=BINARY, and GNU tar extracts them byte for byte.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { readTree, runCli, tempDir } from './harness.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

test('keys that are not UTF-8 (in a file name, a directory name, a long path) extract from the tar exactly as -o writes them', async (t) => {
  const keys = [latin1('bad\xff.txt'), latin1('dir\xfe\xfd/inside.txt'), latin1(`${'long/'.repeat(30)}\xc3(\x80.bin`), Buffer.from('ünï/ok.txt'), Buffer.from('plain')];
  const snap = new SnapshotBuilder().bucket('b');
  for (const [i, k] of keys.entries()) snap.putObject('b', k, Buffer.from(`body ${i}`));
  const dir = tempDir(t);
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, snap.toFsm({ sort: true, footer: true }));
  const viaDir = await runCli([input, '-o', path.join(dir, 'out'), '-q']);
  t.is(viaDir.code, 0, viaDir.stderr);
  const viaTar = await runCli([input, '-q']);
  t.is(viaTar.code, 0, viaTar.stderr);
  fs.writeFileSync(path.join(dir, 'dump.tar'), viaTar.stdout);
  fs.mkdirSync(path.join(dir, 'x'));
  const x = spawnSync('tar', ['-xf', 'dump.tar', '-C', 'x'], { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  t.is(x.status, 0, x.stderr);
  const got = readTree(path.join(dir, 'x'));
  const want = readTree(path.join(dir, 'out'));
  const names = (tr: typeof got) => [...tr.files.values()].map((f) => f.raw.toString('hex')).sort();
  t.deepEqual(names(got), names(want), 'the same file name bytes');
  for (const k of keys) {
    const p = Buffer.concat([latin1('s3/b/'), k]);
    const g = [...got.files.values()].find((f) => f.raw.equals(p));
    t.truthy(g, `extracted ${p.toString('hex')}`);
  }
  const withoutManifest = (tr: typeof got) => [...tr.files.values()].filter((f) => !f.raw.equals(latin1('MANIFEST.json')) && !f.raw.equals(latin1('CHECKSUMS'))).map((f) => `${f.raw.toString('hex')}:${f.data.toString('hex')}`).sort();
  t.deepEqual(withoutManifest(got), withoutManifest(want), 'the same bodies and sidecars');
  // CHECKSUMS verifies the extracted tree, non-UTF-8 names included.
  const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: path.join(dir, 'x'), encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
});
