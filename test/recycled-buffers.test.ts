import test from 'ava';
import { RecycledBuffers } from '../lib/io/recycled-buffers.js';

test('a buffer handed back is taken again; one still lent is not', (t) => {
  const pool = new RecycledBuffers(1024, 1);
  const a = pool.take(100);
  const b = pool.take(1024);
  t.is(a.length, 100);
  t.not(a.buffer, b.buffer);
  t.true(pool.owns(a) && pool.owns(b));
  pool.giveBack(a);
  t.false(pool.owns(a));
  const c = pool.take(10);
  t.is(c.buffer, a.buffer);
  t.not(c.buffer, b.buffer);
});

test('pieces longer than the pool size or shorter than its minimum, and foreign buffers, are not the pool\'s', (t) => {
  const pool = new RecycledBuffers(1024, 64);
  const big = pool.take(1025);
  t.is(big.length, 1025);
  t.false(pool.owns(big));
  const small = pool.take(63);
  t.is(small.length, 63);
  t.false(pool.owns(small));
  t.true(pool.owns(pool.take(64)));
  const foreign = Buffer.alloc(16);
  pool.giveBack(foreign);
  t.false(pool.owns(foreign));
  t.not(pool.take(16).buffer, foreign.buffer);
});
