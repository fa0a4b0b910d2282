/** BlockColumn: a growable column of numbers with the semantics of its typed array. */
import test from 'ava';
import { BlockColumn } from '../lib/core/block-column.js';
import { arrayBufferBytes } from './helpers/retained.js';

test('values come back by index across many blocks (8192 entries each); unset entries read 0', (t) => {
  const c = new BlockColumn(Float64Array);
  const n = 50_000;
  for (let k = 0; k < n; k += 3) c.set(k, k * 1.5 + 2 ** 40);
  let bad = 0;
  for (let k = 0; k < n; k++) if (c.get(k) !== (k % 3 === 0 ? k * 1.5 + 2 ** 40 : 0)) bad++;
  t.is(bad, 0);
  t.is(c.get(10 * n), 0); // never set, beyond every block
});

test('a column stores as its typed array does: Uint8 wraps at 256, Uint16 at 65536, Uint32 at 2^32', (t) => {
  const u8 = new BlockColumn(Uint8Array);
  const u16 = new BlockColumn(Uint16Array);
  const u32 = new BlockColumn(Uint32Array);
  u8.set(20_000, 257);
  u16.set(20_000, 0o100644);
  u32.set(20_000, 2 ** 32 + 5);
  t.is(u8.get(20_000), 1);
  t.is(u16.get(20_000), 0o100644 % 65536);
  t.is(u32.get(20_000), 5);
});

test('a column starts small and grows its first block by doubling, keeping its values', (t) => {
  const c = new BlockColumn(Float64Array);
  c.set(0, 1.5);
  t.true(arrayBufferBytes(c) <= 1024, `${arrayBufferBytes(c)} bytes`);
  for (let k = 1; k < 20_000; k++) c.set(k, k);
  t.is(c.get(0), 1.5);
  t.is(c.get(8191), 8191);
  t.is(c.get(8192), 8192);
  t.is(c.get(19_999), 19_999);
  // Setting far ahead first also works.
  const d = new BlockColumn(Uint32Array);
  d.set(3, 7);
  d.set(20_000, 9);
  t.is(d.get(3), 7);
  t.is(d.get(20_000), 9);
  t.is(d.get(10), 0);
});

test('the first entry set may be any entry: a value set past the first block\'s start size before any other is kept', (t) => {
  for (const k of [16, 2729, 8191, 8192, 20000]) {
    const c = new BlockColumn(Float64Array);
    c.set(k, 518);
    t.is(c.get(k), 518, `entry ${k}`);
    t.is(c.get(0), 0);
  }
});
