/**
 * MD5 of many streams side by side (lib/core/md5-lanes.ts) checks ETags,
 * so its digests must be MD5's: the RFC's test suite, and every stream's
 * digest equal to node:crypto's whatever the lengths (around the 55/56-byte
 * padding edge, the 64-byte block, the 1 MiB read), the number of streams
 * against the number of lanes, and the interleaved sets.
 */
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { Md5Lanes, type Md5Stream } from '../lib/core/md5-lanes.js';

const MiB = 1 << 20;

function streamOf(bytes: Buffer): Md5Stream {
  return { length: bytes.length, read: (into, position) => void bytes.copy(into, 0, position, position + into.length) };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

test('md5 lanes: the RFC 1321 test suite', (t) => {
  // RFC 1321 §A.5, digests as printed there.
  const suite: Array<[string, string]> = [
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', '57edf4a22be3c955ac49da2e2107b67a'],
  ];
  const got = new Md5Lanes(1).hash(suite.map(([s]) => streamOf(Buffer.from(s, 'latin1'))));
  t.deepEqual(
    got.map((d) => d.toString('hex')),
    suite.map(([, want]) => want),
  );
});

for (const sets of [1, 2, 4]) {
  test(`md5 lanes, ${sets} set(s): every stream's digest is node:crypto's, lengths at every padding and read edge, more streams than lanes`, (t) => {
    const lengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, MiB - 9, MiB - 8, MiB, MiB + 1, 3 * MiB + 7, 2 * MiB];
    const data = lengths.map((n) => randomBytes(n));
    const got = new Md5Lanes(sets).hash(data.map(streamOf));
    t.deepEqual(
      got.map((d) => d.toString('hex')),
      data.map(md5),
    );
  });
}

test('md5 lanes: random stream lengths and counts (property)', (t) => {
  const engine = new Md5Lanes(2);
  t.notThrows(() =>
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 5000 }), { minLength: 0, maxLength: 20 }), (lengths) => {
      const data = lengths.map((n) => randomBytes(n));
      const got = engine.hash(data.map(streamOf)).map((d) => d.toString('hex'));
        return got.length === data.length && got.every((d, i) => d === md5(data[i]!));
      }),
      { numRuns: 60 },
    ),
  );
});
