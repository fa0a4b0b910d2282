import test from 'ava';
import fc from 'fast-check';
import { encodedKey, readEncodedTs, writeEncodedTs } from '../lib/core/encoded-key.js';

const MAX64 = 0xffffffffffffffffn;

test('encodedKey is the key followed by the bitwise NOT of the timestamp, big-endian', (t) => {
  t.deepEqual(encodedKey(Buffer.from('ab'), 0n), Buffer.from([0x61, 0x62, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
  t.deepEqual(encodedKey(Buffer.from('ab'), 1n), Buffer.from([0x61, 0x62, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]));
  t.deepEqual(encodedKey(Buffer.alloc(0), 0x0102030405060708n), Buffer.from([0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7]));
  t.deepEqual(encodedKey(Buffer.from([7]), MAX64), Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 0]));
});

test('encodedKey refuses timestamps outside uint64', (t) => {
  t.throws(() => encodedKey(Buffer.from('k'), -1n), { instanceOf: RangeError });
  t.throws(() => encodedKey(Buffer.from('k'), MAX64 + 1n), { instanceOf: RangeError });
});

test('the fast (below 2^53) and BigInt paths agree with 64-bit NOT at their boundary', (t) => {
  const safe = BigInt(Number.MAX_SAFE_INTEGER);
  for (const ts of [0n, 1n, 0xffffffffn, 0x100000000n, safe - 1n, safe, safe + 1n, MAX64 - 1n, MAX64]) {
    const b = Buffer.alloc(10, 0xaa);
    writeEncodedTs(b, 1, ts);
    const want = Buffer.alloc(8);
    want.writeBigUInt64BE(MAX64 - ts);
    t.deepEqual(b.subarray(1, 9), want, `ts ${ts}`);
    t.is(b[0], 0xaa);
    t.is(b[9], 0xaa);
    t.is(readEncodedTs(b, 1), ts);
  }
});

test('readEncodedTs inverts writeEncodedTs for every uint64', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: MAX64 }), (ts) => {
      const b = Buffer.alloc(8);
      writeEncodedTs(b, 0, ts);
      return readEncodedTs(b, 0) === ts && b.readBigUInt64BE(0) === MAX64 - ts;
    }),
  );
  t.pass();
});
