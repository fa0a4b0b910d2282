/**
 * The MD5 queue of a hash worker hashes byte ranges of written files:
 * alone, four side by side, or 8–16 side by side depending on how many
 * wait. Whichever way a range goes, its digest is MD5 of exactly those
 * bytes; a file that cannot be read fails its request (and Md5Files turns
 * that into an I/O error naming the file: test/hash-pool.test.ts).
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Md5FilesQueue, type Md5FilesRange, type Md5FilesReply } from '../lib/stages/md5-files-queue.js';
import { tempDir } from './e2e/harness.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** A queue as a hash worker has one, in this thread: each request's reply as a promise. */
function queue() {
  const waiting = new Map<number, (r: Md5FilesReply) => void>();
  const q = new Md5FilesQueue((r) => waiting.get(r.id)!(r));
  let nextId = 0;
  return {
    hash(path: string, ranges: Md5FilesRange[]): Promise<Md5FilesReply> {
      const id = nextId++;
      const p = new Promise<Md5FilesReply>((resolve) => waiting.set(id, resolve));
      q.add({ id, path, ranges });
      return p;
    },
    flush: () => q.flush(),
  };
}

const hex = (r: Md5FilesReply) => ('md5s' in r ? r.md5s.map((d) => Buffer.from(d).toString('hex')) : r.failed);

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
  test(`md5 files queue: ${n} range(s) of one file, each digest MD5 of its bytes (alone, 4, 8 or 16 side by side; the rest once idle)`, async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'run');
    const rs = ranges(n);
    const bytes = randomBytes(rs[rs.length - 1]!.offset + rs[rs.length - 1]!.length + 10);
    fs.writeFileSync(file, bytes);
    const got = await queue().hash(file, rs);
    t.deepEqual(
      hex(got),
      rs.map((r) => md5(bytes.subarray(r.offset, r.offset + r.length))),
    );
  });
}

test('md5 files queue: requests for several files at once, flushed, all answered with their own digests', async (t) => {
  const dir = tempDir(t);
  const files = queue();
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
    got.map(hex),
    inputs.map(({ b }) => [md5(b), md5(b.subarray(7, 107))]),
  );
});

test('md5 files queue: a missing file, or one shorter than a range, fails its request with the error; others still answer', async (t) => {
  const dir = tempDir(t);
  const files = queue();
  const missing = path.join(dir, 'gone');
  const short = path.join(dir, 'short');
  fs.writeFileSync(short, randomBytes(100));
  const good = path.join(dir, 'good');
  const b = randomBytes(300);
  fs.writeFileSync(good, b);
  const [gone, cut, fine] = await Promise.all([files.hash(missing, [{ offset: 0, length: 10 }]), files.hash(short, [{ offset: 50, length: 51 }]), files.hash(good, [{ offset: 0, length: 300 }])]);
  t.like(hex(gone), { code: 'ENOENT' });
  t.like(hex(cut), { message: 'I/O error: unexpected end of scratch file' });
  t.deepEqual(hex(fine), [md5(b)]);
});
