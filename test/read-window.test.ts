/**
 * ReadWindow: a read that continues the last one and is shorter than
 * SMALL_READ fills the window; reads inside it are copies; anything else is
 * the owner's to read.
 */
import test from 'ava';
import { ReadWindow, SMALL_READ, WINDOW_BYTES } from '../lib/io/read-window.js';

/** A "file" of size bytes, byte i = (i * 5 + (i >> 9)) & 0xff, and a fill that counts its calls. */
function file(size: number): { bytes: Buffer; fills: number[]; fill: (buf: Buffer, position: number) => number } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 5 + (i >> 9)) & 0xff;
  const fills: number[] = [];
  return {
    bytes,
    fills,
    fill: (buf, position) => {
      fills.push(position);
      return bytes.copy(buf, 0, position, Math.min(size, position + buf.length));
    },
  };
}

test('the first read is the owner\'s; the next one, continuing it, fills the window from its start', (t) => {
  const f = file(1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(100);
  t.false(w.copy(dst, 0, 100, 0, f.fill));
  t.deepEqual(f.fills, []);
  t.true(w.copy(dst, 0, 100, 100, f.fill));
  t.deepEqual(f.fills, [100]);
  t.deepEqual(dst, f.bytes.subarray(100, 200));
});

test('reads in order are copies until the window ends, then it is read again from there', (t) => {
  const f = file(1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(1000);
  let wrong = 0;
  for (let at = 0; at + 1000 <= f.bytes.length; at += 1000) {
    const served = w.copy(dst, 0, 1000, at, f.fill);
    if (served && !dst.equals(f.bytes.subarray(at, at + 1000))) wrong++;
  }
  t.is(wrong, 0);
  // 1 048 reads: a window per ~262 of them.
  t.is(f.fills.length, Math.ceil((f.bytes.length - 1000) / WINDOW_BYTES));
});

test('a read out of order, or of SMALL_READ bytes or more, is left to the owner; one inside the window is still served', (t) => {
  const f = file(1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(SMALL_READ);
  w.copy(dst, 0, 10, 0, f.fill);
  t.true(w.copy(dst, 0, 10, 10, f.fill)); // window [10, 10 + WINDOW_BYTES)
  t.false(w.copy(dst, 0, 10, 500_000, f.fill)); // elsewhere
  t.true(w.copy(dst, 0, 10, 50, f.fill)); // back inside
  t.deepEqual(dst.subarray(0, 10), f.bytes.subarray(50, 60));
  t.false(w.copy(dst, 0, SMALL_READ, 60, f.fill)); // too long, though it continues
  t.is(f.fills.length, 1);
});

test('at the end of the file the window is shorter; a read past it is the owner\'s', (t) => {
  const f = file(5000);
  const w = new ReadWindow();
  const dst = Buffer.alloc(3000);
  w.copy(dst, 0, 1000, 0, f.fill);
  t.true(w.copy(dst, 0, 1000, 1000, f.fill)); // window [1000, 5000)
  t.true(w.copy(dst, 0, 3000, 2000, f.fill));
  t.deepEqual(dst, f.bytes.subarray(2000, 5000));
  t.false(w.copy(dst, 0, 10, 5000, f.fill)); // continues, but the fill finds nothing
});

test('forget(): the window is not used again, and the next read does not count as continuing', (t) => {
  const f = file(1 << 20);
  const w = new ReadWindow();
  const dst = Buffer.alloc(10);
  w.copy(dst, 0, 10, 0, f.fill);
  w.copy(dst, 0, 10, 10, f.fill);
  w.forget();
  t.false(w.copy(dst, 0, 10, 20, f.fill));
  t.is(f.fills.length, 1);
});
