import test from 'ava';
import { copyBytes, FILL_FROM } from '../lib/core/copy-bytes.js';
import { piece } from './helpers/pieces.js';

/** piece(n, 3), in shared memory (as the decoder's reads) or not. */
function pattern(n: number, shared: boolean): Buffer {
  if (!shared) return piece(n, 3);
  const b = Buffer.from(new SharedArrayBuffer(n));
  b.set(piece(n, 3));
  return b;
}

for (const shared of [false, true]) {
  for (const n of [0, 1, FILL_FROM - 1, FILL_FROM, FILL_FROM + 1, 3 * FILL_FROM + 5]) {
    test(`copies ${n} bytes ${shared ? 'out of shared memory' : 'out of heap memory'} as Buffer.copy does`, (t) => {
      const src = pattern(n + 10, shared);
      const want = Buffer.alloc(n + 20, 0xee);
      const got = Buffer.alloc(n + 20, 0xee);
      const wantN = src.copy(want, 4, 3, 3 + n);
      t.is(copyBytes(src, 3, 3 + n, got, 4), wantN);
      t.is(wantN, n);
      t.deepEqual(got, want);
    });
  }
}

test('copies no more than fits in the target, as Buffer.copy does', (t) => {
  for (const n of [100, FILL_FROM * 2]) {
    const src = pattern(n, true);
    const got = Buffer.alloc(n / 2 + 3, 0xee);
    t.is(copyBytes(src, 0, n, got, 3), n / 2);
    t.deepEqual(got.subarray(0, 3), Buffer.alloc(3, 0xee));
    t.deepEqual(got.subarray(3), src.subarray(0, n / 2));
  }
});

test('copies no more than the source holds, as Buffer.copy does', (t) => {
  for (const n of [100, FILL_FROM * 2]) {
    const src = pattern(n, true);
    const got = Buffer.alloc(n + 10, 0xee);
    t.is(copyBytes(src, 4, n + 50, got, 0), n - 4);
    t.deepEqual(got.subarray(0, n - 4), src.subarray(4));
    t.deepEqual(got.subarray(n - 4), Buffer.alloc(14, 0xee));
  }
});
