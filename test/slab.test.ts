import test from 'ava';
import { allocSmall, SLAB_BYTES } from '../lib/core/slab.js';

test('small buffers are cut from one slab, apart and 8-byte aligned', (t) => {
  const sizes = [1, 60, 1024, 7, 300];
  const bufs = sizes.map((n) => allocSmall(n));
  bufs.forEach((b, i) => {
    t.is(b.length, sizes[i]!);
    t.is(b.byteOffset % 8, 0);
  });
  // Filled one after another, none overwrites another.
  bufs.forEach((b, i) => b.fill(i + 1));
  bufs.forEach((b, i) => t.true(b.every((x) => x === i + 1)));
  // They share a slab's memory (two, if one filled up on the way), not Node's 8 KiB pool.
  const slabs = new Set(bufs.map((b) => b.buffer));
  t.true(slabs.size <= 2);
  for (const s of slabs) t.is(s.byteLength, SLAB_BYTES);
});

test('a full slab is left to the buffers cut from it: a new one takes the next, and the old bytes stay', (t) => {
  const first = allocSmall(100).fill(0xaa);
  const rest: Buffer[] = [];
  for (let taken = 0; taken <= SLAB_BYTES; taken += 4096) rest.push(allocSmall(4096).fill(0x55));
  t.true(rest.some((b) => b.buffer !== first.buffer), 'a new slab was started');
  t.true(first.every((x) => x === 0xaa));
  t.is(rest.at(-1)!.buffer.byteLength, SLAB_BYTES);
});

test('buffers larger than an eighth of a slab are not cut from it', (t) => {
  const before = allocSmall(8);
  const big = allocSmall(SLAB_BYTES / 8 + 1);
  const after = allocSmall(8);
  t.is(big.length, SLAB_BYTES / 8 + 1);
  t.not(big.buffer, before.buffer);
  // The slab goes on where it was: the large buffer took none of it (or a new slab began).
  t.true(after.buffer !== before.buffer || after.byteOffset === before.byteOffset + 8);
  t.is(allocSmall(0).length, 0);
});
