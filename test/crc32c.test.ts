import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Crc32c, crc32c, crc32cJs, crc32cImplementation } from '../lib/core/crc32c.js';
import { testCrc32c } from './helpers/fsm.js';

// RFC 3720 (iSCSI) appendix B.4 and the usual check value.
const vectors: Array<[string, Buffer, number]> = [
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['empty', Buffer.alloc(0), 0],
  ['32 zero bytes', Buffer.alloc(32, 0), 0x8a9136aa],
  ['32 0xFF bytes', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['32 ascending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['32 descending bytes', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
];

for (const [name, data, want] of vectors) {
  test(`known vector ${name}`, (t) => {
    t.is(crc32c(data), want);
    t.is(crc32cJs(data), want);
    t.is(testCrc32c(data), want);
    t.is(new Crc32c().update(data).digest(), want);
  });
}

test('implementation is reported', (t) => {
  t.true(crc32cImplementation() === 'native' || crc32cImplementation() === 'js');
});

test('large buffer: native path, sliced-table path and the test helper agree', (t) => {
  const data = randomBytes(100_003);
  const want = testCrc32c(data);
  t.is(crc32c(data), want);
  t.is(crc32cJs(data), want);
});

test('every length 0..300 and every start alignment agree with the test helper', (t) => {
  const data = randomBytes(340);
  for (let start = 0; start < 20; start++) {
    for (let len = 0; len <= 300; len += start === 0 ? 1 : 37) {
      const part = data.subarray(start, start + len);
      const want = testCrc32c(part);
      t.is(crc32c(data, 0, start, start + len), want);
      t.is(crc32cJs(data, 0, start, start + len), want);
      t.is(crc32c(part), want);
    }
  }
});

test('incremental updates equal the one-shot CRC, at any split', (t) => {
  const data = randomBytes(5000);
  const want = crc32c(data);
  for (const split of [0, 1, 3, 4, 255, 256, 257, 1000, 4999, 5000]) {
    t.is(crc32c(data.subarray(split), crc32c(data.subarray(0, split))), want, `split ${split}`);
    t.is(crc32cJs(data.subarray(split), crc32cJs(data.subarray(0, split))), want, `split ${split} (js)`);
    const c = new Crc32c();
    c.update(data, 0, split).update(data, split);
    t.is(c.digest(), want);
  }
  // Many small pieces.
  const c = new Crc32c();
  for (let i = 0; i < data.length; i += 7) c.update(data.subarray(i, i + 7));
  t.is(c.digest(), want);
});

test('digestBE gives the footer bytes', (t) => {
  const c = new Crc32c().update(Buffer.from('123456789'));
  t.deepEqual(c.digestBE(), Buffer.from([0xe3, 0x06, 0x92, 0x83]));
});
