/**
 * ScratchFile: bytes appended are read back at the offsets append() gave,
 * once flushed; rewind() empties the file, close() removes it.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ScratchFile } from '../lib/io/scratch-file.js';
import { tempDir } from './e2e/harness.js';
import { countingReads } from './helpers/read-count.js';

test('appends are read back at their offsets, across write batches (1 MiB)', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  t.teardown(() => f.close());
  const items: Array<{ at: number; bytes: Buffer }> = [];
  let expectedAt = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = Buffer.from(`${i}:${'z'.repeat(i % 700)}`);
    const at = f.append(bytes);
    t.is(at, expectedAt); // offsets are consecutive
    expectedAt += bytes.length;
    items.push({ at, bytes });
  }
  f.flush();
  for (const { at, bytes } of items) t.true(f.read(at, bytes.length).equals(bytes));
  const [name] = fs.readdirSync(dir);
  t.is(fs.statSync(path.join(dir, name!)).size, expectedAt);
});

test('rewind(): the file is emptied and offsets start again at 0; close() removes it', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  f.append(Buffer.alloc(3000, 1));
  f.flush();
  const [name] = fs.readdirSync(dir);
  f.rewind();
  t.is(fs.statSync(path.join(dir, name!)).size, 0);
  t.is(f.append(Buffer.from('again')), 0);
  f.flush();
  t.is(f.read(0, 5).toString(), 'again');
  f.close();
  t.deepEqual(fs.readdirSync(dir), []);
  f.close(); // again: nothing to do
});

test('nothing is created until there are bytes to write', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  f.append(Buffer.alloc(0));
  f.flush();
  t.deepEqual(fs.readdirSync(dir), []);
  t.is(f.read(0, 0).length, 0);
  f.close();
});

test('a read past what was written is an ERR_IO error naming the file', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  t.teardown(() => f.close());
  f.append(Buffer.from('abc'));
  f.flush();
  const err = t.throws(() => f.read(1, 10));
  t.is((err as { code?: string }).code, 'ERR_IO');
  t.regex(err!.message, /unexpected end of scratch file/);
});

test('a piece longer than a batch is written whole, between the batched pieces around it', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir, { batchBytes: 4096 });
  t.teardown(() => f.close());
  const small = Buffer.from('head');
  const long = Buffer.alloc(10_000);
  for (let i = 0; i < long.length; i++) long[i] = i % 251;
  t.is(f.append(small), 0);
  t.is(f.append(long), 4);
  t.is(f.append(Buffer.from('tail')), 10_004);
  t.is(f.size, 10_008);
  f.flush();
  t.true(f.read(0, 4).equals(small));
  t.true(f.read(4, 10_000).equals(long));
  const dst = Buffer.alloc(6, 0x2e);
  f.readInto(dst, 1, 4, 10_004);
  t.is(dst.toString(), '.tail.');
});

test('anonymous: the name is gone once open() has created the file; the bytes stay readable', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir, { name: 'values-', anonymous: true });
  f.open();
  t.deepEqual(fs.readdirSync(dir), []);
  f.append(Buffer.from('kept'));
  f.flush();
  t.is(f.read(0, 4).toString(), 'kept');
  f.close();
  t.deepEqual(fs.readdirSync(dir), []);
});

test('background: full batches are written while appends go on; after settle() and flush() every piece reads back', async (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir, { batchBytes: 4096, background: true, anonymous: true });
  t.teardown(() => f.close());
  const items: Array<{ at: number; bytes: Buffer }> = [];
  let expectedAt = 0;
  for (let i = 0; i < 3000; i++) {
    const bytes = Buffer.alloc(i % 300 === 0 ? 5000 : i % 200, i % 256); // some longer than a batch
    const at = f.append(bytes);
    t.is(at, expectedAt);
    expectedAt += bytes.length;
    items.push({ at, bytes });
  }
  await f.settle();
  f.flush();
  t.is(f.size, expectedAt);
  for (const { at, bytes } of items) t.true(f.read(at, bytes.length).equals(bytes));
});

/** Piece i: its number and (i * 13) % 900 bytes of a letter that changes with i and with the round. */
const piece = (i: number, round: string): Buffer => Buffer.from(`${round}${i}:${String.fromCharCode(97 + (i % 26)).repeat((i * 13) % 900)}|`);

test('small pieces read back in append order come from a window read ahead, not a pread each', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  t.teardown(() => f.close());
  const items = Array.from({ length: 3000 }, (_, i) => piece(i, 'a'));
  const at = items.map((b) => f.append(b));
  f.flush();
  let wrong = 0;
  const reads = countingReads(() => {
    items.forEach((b, i) => {
      if (!f.read(at[i]!, b.length).equals(b)) wrong++;
    });
  });
  t.is(wrong, 0);
  // ~1.4 MB in 3 000 pieces: the first read alone, then a 256 KiB window per ~550 pieces.
  t.true(reads <= 8, `${reads} preads`);
});

test('reads while the file grows, and after a rewind, see the bytes appended last', (t) => {
  const dir = tempDir(t, 'ekv-scratch-file-');
  const f = new ScratchFile(dir);
  t.teardown(() => f.close());
  const check = (round: string, from: number, to: number, at: number[], items: Buffer[]): void => {
    for (let i = from; i < to; i++) t.true(f.read(at[i]!, items[i]!.length).equals(items[i]!), `${round} piece ${i}`);
  };
  // Read back while appending: each read continues the last, and what
  // follows it was appended after the window was read.
  const items = Array.from({ length: 400 }, (_, i) => piece(i, 'b'));
  const at: number[] = [];
  for (let i = 0; i < items.length; i++) {
    at.push(f.append(items[i]!));
    f.flush();
    check('growing', i, i + 1, at, items);
  }
  // After a rewind the same offsets hold other bytes: a window read from
  // the start of the old bytes must not serve the new ones.
  t.true(f.read(at[0]!, items[0]!.length).equals(items[0]!));
  t.true(f.read(at[1]!, items[1]!.length).equals(items[1]!));
  f.rewind();
  const again = Array.from({ length: 400 }, (_, i) => piece(i, 'c'));
  const at2 = again.map((b) => f.append(b));
  f.flush();
  t.is(at2[0], 0);
  check('after rewind', 0, again.length, at2, again);
});
