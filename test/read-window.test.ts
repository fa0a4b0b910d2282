/**
 * ReadWindow: a read that continues the last one and is shorter than
 * SMALL_READ fills the window; reads inside it are copies; any other read is
 * a pread of its own.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { DecodeError } from '../lib/errors.js';
import { ReadWindow, SMALL_READ, WINDOW_BYTES } from '../lib/io/read-window.js';
import { tempDir } from './e2e/harness.js';
import { recordingReads } from './helpers/read-count.js';

/** A scratch file of size bytes, byte i = (i * 5 + (i >> 9)) & 0xff, open for reading. */
function file(t: Parameters<typeof tempDir>[0], size: number): { bytes: Buffer; path: string; fd: number } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 5 + (i >> 9)) & 0xff;
  const p = path.join(tempDir(t, 'ekv-read-window-'), 'scratch');
  fs.writeFileSync(p, bytes);
  const fd = fs.openSync(p, 'r');
  t.teardown(() => fs.closeSync(fd));
  return { bytes, path: p, fd };
}

test("the first read is a pread of its own; the next one, continuing it, fills the window from its start", (t) => {
  const f = file(t, 1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(100);
  let first = true;
  let second = false;
  const reads = recordingReads(() => {
    first = w.read(f.fd, f.path, dst, 0, 100, 0);
    t.deepEqual(dst, f.bytes.subarray(0, 100));
    second = w.read(f.fd, f.path, dst, 0, 100, 100);
  });
  t.false(first);
  t.true(second);
  t.deepEqual(reads, [0, 100]);
  t.deepEqual(dst, f.bytes.subarray(100, 200));
});

test('reads in order are copies until the window ends, then it is read again from there', (t) => {
  const f = file(t, 1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(1000);
  let wrong = 0;
  const reads = recordingReads(() => {
    for (let at = 0; at + 1000 <= f.bytes.length; at += 1000) {
      w.read(f.fd, f.path, dst, 0, 1000, at);
      if (!dst.equals(f.bytes.subarray(at, at + 1000))) wrong++;
    }
  });
  t.is(wrong, 0);
  // 1 048 reads: the first alone, then a window per ~262 of them.
  t.is(reads.length - 1, Math.ceil((f.bytes.length - 1000) / WINDOW_BYTES));
});

test('a read out of order, or of SMALL_READ bytes or more, is a pread of its own; one inside the window is still served', (t) => {
  const f = file(t, 1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(SMALL_READ);
  w.read(f.fd, f.path, dst, 0, 10, 0);
  t.true(w.read(f.fd, f.path, dst, 0, 10, 10)); // window [10, 10 + WINDOW_BYTES)
  t.false(w.read(f.fd, f.path, dst, 0, 10, 500_000)); // elsewhere
  t.deepEqual(dst.subarray(0, 10), f.bytes.subarray(500_000, 500_010));
  const reads = recordingReads(() => {
    t.true(w.read(f.fd, f.path, dst, 0, 10, 50)); // back inside
    t.deepEqual(dst.subarray(0, 10), f.bytes.subarray(50, 60));
    t.false(w.read(f.fd, f.path, dst, 0, SMALL_READ, 60)); // too long, though it continues
    t.deepEqual(dst, f.bytes.subarray(60, 60 + SMALL_READ));
  });
  t.deepEqual(reads, [60]);
});

test("at the end of the file the window is shorter; a read past it fails naming the file", (t) => {
  const f = file(t, 5000);
  const w = new ReadWindow();
  const dst = Buffer.alloc(3000);
  w.read(f.fd, f.path, dst, 0, 1000, 0);
  t.true(w.read(f.fd, f.path, dst, 0, 1000, 1000)); // window [1000, 5000)
  t.true(w.read(f.fd, f.path, dst, 0, 3000, 2000));
  t.deepEqual(dst, f.bytes.subarray(2000, 5000));
  const err = t.throws(() => w.read(f.fd, f.path, dst, 0, 10, 5000)); // continues, but the file has ended
  t.true(err instanceof DecodeError && err.code === 'ERR_IO' && err.message.includes(f.path), err?.message);
});

test('forget(): the window is not used again, and the next read does not count as continuing', (t) => {
  const f = file(t, 1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(10);
  w.read(f.fd, f.path, dst, 0, 10, 0);
  w.read(f.fd, f.path, dst, 0, 10, 10);
  w.forget();
  const reads = recordingReads(() => {
    t.false(w.read(f.fd, f.path, dst, 0, 10, 20));
  });
  t.deepEqual(reads, [20]);
  t.deepEqual(dst, f.bytes.subarray(20, 30));
});

test('mayFill false: a read continuing the last one does not read ahead', (t) => {
  const f = file(t, 1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(10);
  w.read(f.fd, f.path, dst, 0, 10, 0);
  const reads = recordingReads(() => {
    t.false(w.read(f.fd, f.path, dst, 0, 10, 10, false));
  });
  t.deepEqual(reads, [10]);
  t.deepEqual(dst, f.bytes.subarray(10, 20));
});
