/**
 * Md5Files hashes byte ranges of written files on its worker: alone, four
 * side by side, or 8–16 side by side depending on how many wait. Whichever
 * way a range goes, its digest is MD5 of exactly those bytes; a file that
 * cannot be read fails the request with an error naming it.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isDecodeError } from '../lib/errors.js';
import { Md5Files } from '../lib/stages/md5-files.js';
import { tempDir } from './e2e/harness.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** n ranges of lengths around the padding edges and the 1 MiB read, back to back from offset 3. */
function ranges(n: number): Array<{ offset: number; length: number }> {
  const lengths = [0, 1, 55, 56, 64, 1000, (1 << 20) + 1, 70000, 63, 65];
  let offset = 3;
  return Array.from({ length: n }, (_, i) => {
    const length = lengths[i % lengths.length]! + i;
    const r = { offset, length };
    offset += length;
    return r;
  });
}

for (const n of [1, 3, 5, 9, 20]) {
  test(`Md5Files: ${n} range(s) of one file, each digest MD5 of its bytes (alone, 4, 8 or 16 side by side; the rest once idle)`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'run');
    const rs = ranges(n);
    const bytes = randomBytes(rs[rs.length - 1]!.offset + rs[rs.length - 1]!.length + 10);
    fs.writeFileSync(file, bytes);
    const files = new Md5Files();
    t.teardown(() => files.close());
    const got = await files.hash(file, rs);
    t.deepEqual(
      got.map((d) => d.toString('hex')),
      rs.map((r) => md5(bytes.subarray(r.offset, r.offset + r.length))),
    );
  });
}

test('Md5Files: requests for several files at once, flushed, all answered with their own digests', async (t) => {
  const dir = tempDir(t);
  const files = new Md5Files();
  t.teardown(() => files.close());
  const inputs = Array.from({ length: 12 }, (_, i) => {
    const p = path.join(dir, `run-${i}`);
    const b = randomBytes(5000 + 997 * i);
    fs.writeFileSync(p, b);
    return { p, b };
  });
  const pending = inputs.map(({ p, b }) => files.hash(p, [{ offset: 0, length: b.length }, { offset: 7, length: 100 }]));
  files.flush();
  const got = await Promise.all(pending);
  t.deepEqual(
    got.map((ds) => ds.map((d) => d.toString('hex'))),
    inputs.map(({ b }) => [md5(b), md5(b.subarray(7, 107))]),
  );
});

test('Md5Files: a missing file, or one shorter than a range, fails its request with an I/O error naming it; others still answer', async (t) => {
  const dir = tempDir(t);
  const files = new Md5Files();
  t.teardown(() => files.close());
  const missing = path.join(dir, 'gone');
  const short = path.join(dir, 'short');
  fs.writeFileSync(short, randomBytes(100));
  const good = path.join(dir, 'good');
  const b = randomBytes(300);
  fs.writeFileSync(good, b);
  const e1 = await t.throwsAsync(files.hash(missing, [{ offset: 0, length: 10 }]));
  t.true(isDecodeError(e1) && e1.code === 'ERR_IO' && e1.message.includes('ENOENT') && e1.context.path === missing, String(e1));
  const e2 = await t.throwsAsync(files.hash(short, [{ offset: 50, length: 51 }]));
  t.true(isDecodeError(e2) && e2.code === 'ERR_IO' && e2.context.path === short, String(e2));
  t.deepEqual((await files.hash(good, [{ offset: 0, length: 300 }]))[0]!.toString('hex'), md5(b));
});
