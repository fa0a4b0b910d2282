import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DecodeError } from '../lib/errors.js';
import { PositionedReader } from '../lib/io/positioned-reader.js';
import { countingReads } from './helpers/read-count.js';

/** A scratch file of `size` bytes, byte i = (i * 7 + i >> 8) & 0xff (no period a wrong offset could hide in). */
function scratch(t: { teardown(fn: () => void): void }, name: string, size: number): { path: string; bytes: Buffer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-preader-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return { path: p, bytes };
}

test('small reads in file order are served from a window read ahead, not a pread each', (t) => {
  const f = scratch(t, 'pool', 600 * 1024 + 100);
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  const buf = Buffer.alloc(1024);
  let mismatches = 0;
  const reads = countingReads(() => {
    for (let at = 0; at + 1000 <= f.bytes.length; at += 1000) {
      reader.read(f.path, buf, 1000, at);
      if (!buf.subarray(0, 1000).equals(f.bytes.subarray(at, at + 1000))) mismatches++;
    }
  });
  t.is(mismatches, 0);
  // 614 reads: the first alone, then a 256 KiB window per ~262 reads.
  t.true(reads <= 5, `${reads} preads`);
});

test('reads in any other order are exact, one pread each', (t) => {
  const f = scratch(t, 'pool', 300 * 1024);
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  const positions = [5000, 100, 290 * 1024, 64 * 1024 - 3, 7, 200 * 1024 + 11];
  const buf = Buffer.alloc(2048);
  const reads = countingReads(() => {
    for (const at of positions) {
      reader.read(f.path, buf, 2048, at);
      t.true(buf.equals(f.bytes.subarray(at, at + 2048)), `at ${at}`);
    }
  });
  t.is(reads, positions.length);
});

test('a window is never used for another file, and reads switching files stay exact', (t) => {
  const a = scratch(t, 'a', 100 * 1024);
  const b = scratch(t, 'b', 100 * 1024);
  for (let i = 0; i < b.bytes.length; i++) b.bytes[i] = 255 - b.bytes[i]!;
  fs.writeFileSync(b.path, b.bytes);
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  const buf = Buffer.alloc(512);
  for (let at = 0; at + 512 <= 20 * 1024; at += 512) {
    for (const f of [a, b, a]) {
      reader.read(f.path, buf, 512, at);
      t.true(buf.equals(f.bytes.subarray(at, at + 512)), `${path.basename(f.path)} at ${at}`);
    }
  }
});

test('a read past the end of a scratch file is ERR_IO, also when it continues the last read', (t) => {
  const f = scratch(t, 'short', 10 * 1024);
  const reader = new PositionedReader();
  t.teardown(() => reader.close());
  const buf = Buffer.alloc(4096);
  reader.read(f.path, buf, 4096, 0);
  reader.read(f.path, buf, 4096, 4096);
  t.true(buf.equals(f.bytes.subarray(4096, 8192)));
  const err = t.throws(() => reader.read(f.path, buf, 4096, 8192), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_IO');
  t.regex(err?.message ?? '', /unexpected end of scratch file/);
});
