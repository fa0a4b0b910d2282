import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RunDigest } from '../lib/core/run-digest.js';
import { isDecodeError } from '../lib/errors.js';
import { HashPool } from '../lib/stages/hash-pool.js';
import { tempDir } from './e2e/harness.js';

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

test('RunDigest: md5Only adds the start of a stretch to its MD5 alone: not to the SHA-256, not to the length', (t) => {
  const [a, b, c] = [bytes(11, 900), bytes(12, 50), bytes(13, 70)];
  // The SHA-256 owner saw a without MD5; then a again for the MD5 only, then b with both.
  const owner = new RunDigest(true);
  owner.update(1n, 0n, a, false);
  owner.md5Only(1n, 0n, a);
  owner.update(1n, 0n, b, true);
  owner.update(2n, 0n, c, false);
  t.deepEqual(owner.digest(), {
    sha256: sha256(a, b, c),
    parts: [
      { partNo: 1n, partVersion: 0n, length: 950, md5: md5(a, b) },
      { partNo: 2n, partVersion: 0n, length: 70 },
    ],
  });
  // Another worker that saw nothing of the stretch before.
  const other = new RunDigest(false);
  other.md5Only(1n, 0n, a);
  other.update(1n, 0n, b, true);
  t.deepEqual(other.digest(), { parts: [{ partNo: 1n, partVersion: 0n, length: 50, md5: md5(a, b) }] });
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

/** A run file written as the pool asks: its bytes reach the file only when written() is called, as the spiller's writes land. */
function runFile(dir: string, name: string) {
  const p = path.join(dir, name);
  const handed: Buffer[] = [];
  let writtenCalls = 0;
  /** Bytes handed when the pool said the rest is hashed as written. */
  const asWrittenAt: number[] = [];
  return {
    p,
    hand: (b: Buffer) => handed.push(b),
    file: {
      path: p,
      written: async () => {
        writtenCalls++;
        fs.writeFileSync(p, Buffer.concat(handed));
      },
      hashedAsWritten: () => void asWrittenAt.push(handed.reduce((n, b) => n + b.length, 0)),
    },
    calls: () => writtenCalls,
    asWrittenAt,
  };
}

test('HashPool with run files: MD5s of every stretch from the files once written, for many runs side by side; SHA-256 as before', async (t) => {
  const dir = tempDir(t);
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const runs = Array.from({ length: 18 }, (_, id) => {
    const f = runFile(dir, `run-${id}`);
    const stretches = Array.from({ length: 1 + (id % 3) }, (_, k) => ({ partNo: BigInt(k + 1), partVersion: 0n, bytes: bytes(id * 10 + k, 3000 + 40_000 * k + id) }));
    return { id, f, stretches };
  });
  for (const r of runs) pool.begin(r.id, r.f.file);
  for (const r of runs)
    for (const s of r.stretches) {
      r.f.hand(s.bytes);
      await pool.update(r.id, s.partNo, s.partVersion, s.bytes);
    }
  const sealed = Promise.all(runs.map((r) => pool.seal(r.id)));
  pool.flush();
  const hashes = await sealed;
  runs.forEach((r, i) => {
    const h = hashes[i]!;
    t.deepEqual(h.sha256, sha256(...r.stretches.map((s) => s.bytes)));
    t.deepEqual(
      h.parts.map((p) => [p.partNo, p.length, p.md5]),
      r.stretches.map((s) => [s.partNo, s.bytes.length, md5(s.bytes)]),
    );
    t.true(r.f.calls() >= 1, 'the file is read only after written()');
    t.deepEqual(r.f.asWrittenAt, [], 'every stretch is read back');
  });
});

test('HashPool with run files: a stretch that grows past the inline limit gets its MD5 on a worker after reading its start back; the next stretch from the file again', async (t) => {
  const dir = tempDir(t);
  const pool = new HashPool({ md5: true, inlineMd5From: 1 << 20 });
  t.teardown(() => pool.close());
  const f = runFile(dir, 'run-big');
  pool.begin(1, f.file);
  const big = bytes(40, 3 * (1 << 20) + 5);
  const pieces = [];
  for (let at = 0; at < big.length; at += 300_000) pieces.push(big.subarray(at, at + 300_000));
  for (const p of pieces) {
    f.hand(p);
    await pool.update(1, 1n, 0n, p);
  }
  const tail = bytes(41, 777);
  f.hand(tail);
  await pool.update(1, 2n, 0n, tail);
  const callsBeforeSeal = f.calls();
  const h = await pool.seal(1);
  t.deepEqual(h.sha256, sha256(big, tail));
  t.deepEqual(
    h.parts.map((p) => [p.partNo, p.length, p.md5]),
    [
      [1n, big.length, md5(big)],
      [2n, 777, md5(tail)],
    ],
  );
  t.true(callsBeforeSeal >= 1, 'the start of the long stretch was read back after written()');
  // Told once, with the piece that took the stretch past 1 MiB: 4 pieces of 300 000 bytes.
  t.deepEqual(f.asWrittenAt, [4 * 300_000]);
});

test('HashPool with run files: a run file that cannot be read back fails its seal with an I/O error naming it', async (t) => {
  const dir = tempDir(t);
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const missing = path.join(dir, 'run-gone');
  pool.begin(1, { path: missing, written: async () => {} });
  await pool.update(1, 1n, 0n, bytes(50, 5000));
  pool.flush();
  const err = await t.throwsAsync(pool.seal(1));
  t.true(isDecodeError(err) && err.code === 'ERR_IO' && err.context.path === missing && /cannot read to hash: ENOENT/.test(err.message), String(err));
});

test('HashPool with run files: a run file shorter than what was handed to hashing fails its seal with one clear I/O error naming it', async (t) => {
  const dir = tempDir(t);
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const short = path.join(dir, 'run-short');
  const b = bytes(51, 5000);
  pool.begin(1, { path: short, written: async () => fs.writeFileSync(short, b.subarray(0, 4000)) });
  await pool.update(1, 1n, 0n, b);
  pool.flush();
  const err = await t.throwsAsync(pool.seal(1));
  t.true(isDecodeError(err) && err.code === 'ERR_IO' && err.context.path === short, String(err));
  t.is(isDecodeError(err) ? err.detail : '', 'cannot read to hash: I/O error: unexpected end of scratch file');
});
