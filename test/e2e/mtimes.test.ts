/**
 * Bodies carry the object's Last-Modified (the manifest's
 * last_modified_hlc, hlc >> 16 milliseconds) as their modification time,
 * in the -o tree and in the tar stream, so rsync and `aws s3 sync` see real
 * times — for every way a body is written: renamed from its spill run,
 * assembled from shuffled chunks, written small (also by the writer thread
 * past the first 2000 files).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { bytesOf, runCli, tempDir } from './harness.js';

const MS_A = Date.UTC(2021, 2, 4, 5, 6, 7, 890); // 2021-03-04T05:06:07.89Z
const MS_B = Date.UTC(2019, 11, 31, 23, 59, 58, 0);
const hlc = (ms: number): bigint => (BigInt(ms) << 16n) | 0x1234n; // the logical counter is not part of the time

function snapshot(smallObjects: number): SnapshotBuilder {
  const snap = new SnapshotBuilder()
    .bucket('b')
    .putObject('b', 'big-run', bytesOf('big', 3 * 65536 + 5), { chunkSize: 65536, lastModifiedHlc: hlc(MS_A) })
    .putObject('b', 'multi', bytesOf('multi', 5 * 65536), { chunkSize: 65536, parts: 2, lastModifiedHlc: hlc(MS_B) })
    .putObject('b', 'small', Buffer.from('small'), { lastModifiedHlc: hlc(MS_A) });
  for (let i = 0; i < smallObjects; i++) snap.putObject('b', `many/${String(i).padStart(5, '0')}`, Buffer.from(`m${i}`), { lastModifiedHlc: hlc(MS_B + i) });
  return snap;
}

const want = (name: string): number => (name === 'big-run' || name === 'small' ? MS_A : name === 'multi' ? MS_B : MS_B + Number(name.slice('many/'.length)));

test('-o: each body has its object\'s Last-Modified as mtime (ms), from a native (in-order) and a shuffled JSONL input', async (t) => {
  const snap = snapshot(1100); // 2200+ files: the writer thread writes some bodies
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'in.fsm'), snap.toFsm({ sort: true, footer: true }));
  fs.writeFileSync(path.join(dir, 'in.jsonl'), snap.toJsonl({ shuffle: 9 }));
  for (const input of ['in.fsm', 'in.jsonl']) {
    const out = path.join(dir, `out-${input}`);
    const r = await runCli([path.join(dir, input), '-o', out, '-q']);
    t.is(r.code, 0, r.stderr);
    for (const name of ['big-run', 'multi', 'small', 'many/00000', 'many/01099']) {
      // To the millisecond: utimes takes a double of seconds, so the nanoseconds may be off by a few.
      t.is(Math.round(fs.statSync(path.join(out, 's3', 'b', name)).mtimeMs), want(name), `${input}: ${name}`);
    }
    const wrong = fs.readdirSync(path.join(out, 's3', 'b', 'many')).filter((n) => !n.endsWith('.json') && Math.round(fs.statSync(path.join(out, 's3', 'b', 'many', n)).mtimeMs) !== want(`many/${n}`));
    t.deepEqual(wrong, [], `${input}: every small body`);
  }
});

test('tar: each body entry has its object\'s Last-Modified (whole seconds, as tar keeps them)', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'in.fsm'), snapshot(3).toFsm({ sort: true, footer: true }));
  const r = await runCli([path.join(dir, 'in.fsm'), '-q']);
  t.is(r.code, 0, r.stderr);
  fs.writeFileSync(path.join(dir, 'dump.tar'), r.stdout);
  fs.mkdirSync(path.join(dir, 'x'));
  const x = spawnSync('tar', ['-xf', 'dump.tar', '-C', 'x'], { cwd: dir, encoding: 'utf8' });
  t.is(x.status, 0, x.stderr);
  for (const name of ['big-run', 'multi', 'small', 'many/00000', 'many/00002']) {
    t.is(fs.statSync(path.join(dir, 'x', 's3', 'b', name)).mtimeMs, Math.floor(want(name) / 1000) * 1000, name);
  }
});
