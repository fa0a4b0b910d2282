/**
 * Tar output (SPEC §2): without -o the dump is a POSIX tar stream on stdout
 * whose extraction is exactly the tree -o writes, modes included, entries in
 * CHECKSUMS order with MANIFEST.json and CHECKSUMS last.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { sameBytes } from '../helpers/bytes.js';
import { BIN, bytesOf, readTree, runCli, tempDir, type ReadTree } from './harness.js';

function sample(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('photos')
    .bucket('a-b')
    .bucket('a')
    .putObject('photos', '2026/cat.jpg', bytesOf('cat', 300_000), { chunkSize: 65536 })
    .putObject('photos', 'multi.bin', bytesOf('multi', 200_000), { chunkSize: 32768, parts: 3 })
    .putObject('photos', `deep/${'x'.repeat(120)}/${'y'.repeat(90)}.txt`, Buffer.from('long name'))
    .putObject('photos', 'ünïcödé/ファイル.txt', Buffer.from('non-ASCII name'))
    .putObject('photos', 'a/b', Buffer.from('leaf'))
    .putObject('photos', 'a/b/c', Buffer.from('child'))
    .putObject('a-b', 'empty', Buffer.alloc(0))
    .putObject('a', 'z', Buffer.from('zzz'));
}

/** Compares two trees, ignoring MANIFEST.json's wall time and the CHECKSUMS line that hashes it. */
function sameTree(t: import('ava').ExecutionContext, got: ReadTree, want: ReadTree): void {
  t.deepEqual([...got.files.keys()].sort(), [...want.files.keys()].sort());
  t.deepEqual([...got.dirs.entries()].sort(), [...want.dirs.entries()].sort());
  // MANIFEST.json and CHECKSUMS as text without what depends on the wall time; undefined for the files compared as bytes.
  const volatile = (p: string, b: Buffer): string | undefined =>
    p === 'MANIFEST.json' ? b.toString().replace(/"wall_time_iso": "[^"]*"/, '') : p === 'CHECKSUMS' ? b.toString().replace(/^.*  MANIFEST.json\n/m, '') : undefined;
  for (const [p, f] of want.files) {
    const g = got.files.get(p);
    const text = volatile(p, f.data);
    if (text === undefined) sameBytes(t, g!.data, f.data, p);
    else t.is(volatile(p, g!.data), text, p);
    t.is(g!.mode, f.mode, `mode of ${p}`);
  }
}

/** Decodes `snapshot` with -o into DIR/out and as a tar stream extracted (modes kept) into DIR/x. */
async function decodeBothWays(t: import('ava').ExecutionContext, snapshot: Buffer): Promise<{ dir: string; out: string; x: string }> {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, snapshot);
  const viaDir = await runCli([input, '-o', path.join(dir, 'out'), '-q']);
  t.is(viaDir.code, 0, viaDir.stderr);
  const viaTar = await runCli([input, '-q']);
  t.is(viaTar.code, 0, viaTar.stderr);
  fs.writeFileSync(path.join(dir, 'dump.tar'), viaTar.stdout);
  fs.mkdirSync(path.join(dir, 'x'));
  const x = spawnSync('tar', ['-xpf', 'dump.tar', '-C', 'x'], { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  t.is(x.status, 0, x.stderr);
  fs.chmodSync(path.join(dir, 'x'), 0o755);
  return { dir, out: path.join(dir, 'out'), x: path.join(dir, 'x') };
}

test('extracting the tar stream gives exactly the -o tree, modes included', async (t) => {
  const { out, x } = await decodeBothWays(t, sample().toFsm({ sort: true, footer: true }));
  sameTree(t, readTree(x), readTree(out));
});

test('keys that are not UTF-8 (in a file name, a directory name, a long path) are carried by pax hdrcharset=BINARY: the tar extracts to the -o bytes', async (t) => {
  const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
  const keys = [latin1('bad\xff.txt'), latin1('dir\xfe\xfd/inside.txt'), latin1(`${'long/'.repeat(30)}\xc3(\x80.bin`), Buffer.from('ünï/ok.txt'), Buffer.from('plain')];
  const snap = new SnapshotBuilder().bucket('b');
  for (const [i, k] of keys.entries()) snap.putObject('b', k, Buffer.from(`body ${i}`));
  const { out, x } = await decodeBothWays(t, snap.toFsm({ sort: true, footer: true }));
  const got = readTree(x);
  sameTree(t, got, readTree(out));
  for (const k of keys) {
    const p = Buffer.concat([latin1('s3/b/'), k]);
    t.truthy([...got.files.values()].find((f) => f.raw.equals(p)), `extracted ${p.toString('hex')}`);
  }
  // CHECKSUMS verifies the extracted tree, names that are not UTF-8 included.
  const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: x, encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
});

test('tar entries follow CHECKSUMS order, MANIFEST.json and CHECKSUMS last', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.jsonl');
  fs.writeFileSync(input, sample().toJsonl({ shuffle: 3 }));
  const res = await runCli([input, '-q']);
  t.is(res.code, 0, res.stderr);
  fs.writeFileSync(path.join(dir, 'dump.tar'), res.stdout);
  fs.mkdirSync(path.join(dir, 'x'));
  spawnSync('tar', ['-xf', 'dump.tar', '-C', 'x'], { cwd: dir });
  const entries = spawnSync('tar', ['-tf', 'dump.tar'], { cwd: dir, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  const list = entries.filter((p) => fs.statSync(path.join(dir, 'x', p)).isFile());
  const sums = fs.readFileSync(path.join(dir, 'x', 'CHECKSUMS'), 'utf8').split('\n').filter(Boolean).map((l) => l.slice(66));
  const files = list.filter((p) => p !== 'MANIFEST.json' && p !== 'CHECKSUMS');
  t.deepEqual(files, sums.filter((p) => p !== 'MANIFEST.json'));
  t.deepEqual(list.slice(-2), ['MANIFEST.json', 'CHECKSUMS']);
  const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: path.join(dir, 'x'), encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
});

test('-z gzips the tar stream', async (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, sample().toFsm({ sort: true }));
  const plain = await runCli([input, '-q']);
  const gz = await runCli([input, '-q', '-z']);
  t.is(gz.code, 0, gz.stderr);
  t.deepEqual(gz.stdout.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
  const unzipped = gunzipSync(gz.stdout);
  t.is(unzipped.length, plain.stdout.length);
  fs.writeFileSync(path.join(dir, 'a.tar'), unzipped);
  fs.mkdirSync(path.join(dir, 'a'));
  t.is(spawnSync('tar', ['-xf', 'a.tar', '-C', 'a'], { cwd: dir }).status, 0);
  sameBytes(t, fs.readFileSync(path.join(dir, 'a/s3/photos/2026/cat.jpg')), bytesOf('cat', 300_000), 'cat.jpg');
});

test('a real shell pipeline: cat x.jsonl | ekv-s3-decode | tar -x', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'x.jsonl'), sample().toJsonl());
  fs.mkdirSync(path.join(dir, 'd'));
  const res = spawnSync('bash', ['-c', `set -o pipefail; cat x.jsonl | "${process.execPath}" "${BIN}" -q | tar -x -C d`], { cwd: dir, encoding: 'utf8' });
  t.is(res.status, 0, res.stderr);
  sameBytes(t, fs.readFileSync(path.join(dir, 'd/s3/photos/multi.bin')), bytesOf('multi', 200_000), 'multi.bin');
  t.is(fs.readFileSync(path.join(dir, 'd/s3/photos/a/b.elastickv-leaf-data'), 'utf8'), 'leaf');
  const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: path.join(dir, 'd'), encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
});

test('a pipe read slowly still gets every byte: the buffers of bodies read back are used again only once written', (t) => {
  const dir = tempDir(t);
  const b = new SnapshotBuilder().bucket('big');
  for (let i = 0; i < 4; i++) b.putObject('big', `o${i}.bin`, bytesOf(`o${i}`, 3_000_000 + i), { chunkSize: 1 << 20 });
  fs.writeFileSync(path.join(dir, 'in.fsm'), b.toFsm({ sort: true }));
  fs.mkdirSync(path.join(dir, 'd'));
  // The reader starts a second late: the pipe fills and the CLI's writes wait.
  const res = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" in.fsm -q | (sleep 1; tar -x -C d)`], { cwd: dir, encoding: 'utf8' });
  t.is(res.status, 0, res.stderr);
  for (let i = 0; i < 4; i++) sameBytes(t, fs.readFileSync(path.join(dir, `d/s3/big/o${i}.bin`)), bytesOf(`o${i}`, 3_000_000 + i), `o${i}.bin`);
  const check = spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: path.join(dir, 'd'), encoding: 'utf8' });
  t.is(check.status, 0, check.stdout + check.stderr);
});

test('a terminal as standard output is refused with exit 2', (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'x.jsonl'), sample().toJsonl());
  // script(1) gives the command a pseudo-terminal as stdout.
  const res = spawnSync('script', ['-qec', `"${process.execPath}" "${BIN}" x.jsonl`, '/dev/null'], { cwd: dir, encoding: 'utf8' });
  if (res.error) {
    t.log(`script(1) unavailable: ${res.error.message}`);
    t.pass();
    return;
  }
  t.is(res.status, 2);
  t.regex(res.stdout, /ERR_USAGE.*terminal/);
});

test('a failed tar run exits 1 and leaves no scratch in TMPDIR', async (t) => {
  const dir = tempDir(t);
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp);
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, sample().putObject('photos', 'bad', Buffer.from('abc'), { etag: '0'.repeat(32) }).toFsm({ sort: true }));
  const res = await runCli([input, '-q'], { env: { TMPDIR: tmp } });
  t.is(res.code, 1);
  t.regex(res.stderr, /ERR_S3_ETAG_MISMATCH/);
  t.deepEqual(fs.readdirSync(tmp), []);
});
