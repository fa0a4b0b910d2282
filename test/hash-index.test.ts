import test from 'ava';
import { HashIndex, hashBytes, hashNumber } from '../lib/core/hash-index.js';

test('HashIndex: find, add, replace, and growth', (t) => {
  const keys: string[] = [];
  let probe = '';
  const index = new HashIndex((id) => keys[id] === probe);
  const hash = (k: string) => (k.length * 7919) | 0; // many collisions on purpose
  for (let i = 0; i < 2000; i++) {
    const k = `key-${i}`;
    probe = k;
    t.is(index.find(hash(k)), -1);
    keys.push(k);
    index.add(hash(k), i);
  }
  t.is(index.size, 2000);
  for (let i = 0; i < 2000; i += 13) {
    probe = `key-${i}`;
    t.is(index.find(hash(probe)), i);
  }
  probe = 'key-5';
  keys.push('key-5');
  index.replace(hash(probe), 2000);
  t.is(index.find(hash(probe)), 2000);
});

test('hashBytes and hashNumber are deterministic 32-bit integers that tell inputs apart', (t) => {
  t.is(hashBytes(Buffer.from('abc')), hashBytes(Buffer.from('abc')));
  t.not(hashBytes(Buffer.from('abc')), hashBytes(Buffer.from('abd')));
  t.not(hashBytes(Buffer.alloc(0)), hashBytes(Buffer.from([0])));
  for (const n of [0, 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53]) {
    const h = hashNumber(17, n);
    t.is(h, h | 0);
    t.is(h, hashNumber(17, n));
  }
  t.not(hashNumber(17, 1), hashNumber(17, 2 ** 32 + 1));
});
