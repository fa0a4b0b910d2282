import test from 'ava';
import { createHash } from 'node:crypto';
import { RunDigest } from '../lib/core/run-digest.js';
import { HashPool } from '../lib/stages/hash-pool.js';

const md5 = (...b: Buffer[]) => b.reduce((h, x) => h.update(x), createHash('md5')).digest();
const sha256 = (...b: Buffer[]) => b.reduce((h, x) => h.update(x), createHash('sha256')).digest();
const bytes = (seed: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff));

test('RunDigest: SHA-256 of all, MD5 per (part, version) stretch, no second MD5 stream for the whole run', (t) => {
  const [a, b, c] = [bytes(1, 1000), bytes(2, 10), bytes(3, 333)];
  const d = new RunDigest(true);
  d.update(1n, 0n, a, true);
  d.update(1n, 0n, b, true);
  d.update(2n, 5n, c, true);
  const r = d.digest();
  t.deepEqual(r, {
    sha256: sha256(a, b, c),
    parts: [
      { partNo: 1n, partVersion: 0n, length: 1010, md5: md5(a, b) },
      { partNo: 2n, partVersion: 5n, length: 333, md5: md5(c) },
    ],
  });
});

test('RunDigest: a new partVersion of the same part starts a new stretch; MD5 only of the stretches asked for; no SHA-256 when not its owner', (t) => {
  const [a, b] = [bytes(4, 5000), bytes(5, 7)];
  const one = new RunDigest(false);
  one.update(1n, 0n, a, true);
  one.update(1n, 1n, b, true);
  t.deepEqual(one.digest(), {
    parts: [
      { partNo: 1n, partVersion: 0n, length: 5000, md5: md5(a) },
      { partNo: 1n, partVersion: 1n, length: 7, md5: md5(b) },
    ],
  });
  const some = new RunDigest(true);
  some.update(1n, 0n, a, false);
  some.update(2n, 0n, b, true);
  t.deepEqual(some.digest(), {
    sha256: sha256(a, b),
    parts: [
      { partNo: 1n, partVersion: 0n, length: 5000 },
      { partNo: 2n, partVersion: 0n, length: 7, md5: md5(b) },
    ],
  });
});

test('HashPool: worker threads give the same hashes, for interleaved runs and payloads larger than a slot', async (t) => {
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const big = bytes(5, 3 * (1 << 20) + 17); // spans four 1 MiB slots
  const [x, y] = [bytes(6, 4096), bytes(7, 100)];
  pool.begin(1);
  pool.begin(2);
  await pool.update(1, 1n, 0n, big);
  await pool.update(2, 1n, 0n, x);
  await pool.update(1, 2n, 0n, y);
  await pool.update(2, 1n, 0n, Buffer.alloc(0));
  const [h1, h2] = await Promise.all([pool.seal(1), pool.seal(2)]);
  t.deepEqual(h1.sha256, sha256(big, y));
  t.deepEqual(h1.parts.map((p) => [p.partNo, p.length, p.md5]), [[1n, big.length, md5(big)], [2n, 100, md5(y)]]);
  t.true(Buffer.isBuffer(h1.sha256) && Buffer.isBuffer(h1.parts[0]!.md5));
  t.deepEqual(h2.sha256, sha256(x));
  t.deepEqual(h2.parts.map((p) => p.md5), [md5(x)]);
});

test('HashPool without MD5 (--no-verify) computes SHA-256 only', async (t) => {
  const pool = new HashPool({ md5: false });
  t.teardown(() => pool.close());
  const a = bytes(8, 70000);
  pool.begin(9);
  await pool.update(9, 1n, 0n, a);
  const h = await pool.seal(9);
  t.deepEqual(h.sha256, sha256(a));
  t.deepEqual(h.parts.map((p) => p.md5), [undefined]);
});
