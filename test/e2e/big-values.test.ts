// SPEC §3.2 allows a value of up to 256 MiB + 43 bytes; elastickv's own
// chunks are ~1 MiB, another writer's may be far larger. §9: such a chunk is
// never held whole — it travels in pieces (lib/stages/value-pieces.ts) — and
// the dump holds exactly its bytes, in a directory and in a tar stream.
import test, { type ExecutionContext } from 'ava';
import { createCipheriv, createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import tar from 'tar-stream';
import { fileInput } from '../../lib/cluster/input.js';
import { decodeSnapshot } from '../../lib/decode.js';
import type { Warning } from '../../lib/types.js';
import { blobKey } from '../helpers/keys.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { tempDir } from './harness.js';

const MiB = 1 << 20;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A deterministic body of `n` bytes that never repeats (AES-CTR of zeros: misplaced or repeated pieces change its hash). */
function body(n: number, seed: number): Buffer {
  const key = Buffer.alloc(16, seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/** Every regular file of a tar stream → sha256 of its bytes, hashed as they stream. */
function tarHasher(): { sink: Writable; done: Promise<Map<string, string>> } {
  const extract = tar.extract();
  const sums = new Map<string, string>();
  extract.on('entry', (header, stream, next) => {
    const h = createHash('sha256');
    stream.on('data', (c: unknown) => void h.update(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') sums.set(header.name, h.digest('hex'));
      next();
    });
  });
  const done = new Promise<Map<string, string>>((resolve, reject) => {
    extract.on('finish', () => resolve(sums));
    extract.on('error', reject);
  });
  return { sink: extract as unknown as Writable, done };
}

for (const format of ['fsm', 'jsonl'] as const) {
  test(`${format}: a snapshot whose chunks are several MiB each dumps byte for byte: runs, multipart, offloaded chunks; -o and tar`, async (t) => {
    t.timeout(120_000);
    const dir = tempDir(t, 'ekv-bigv-');
    const bodies: Record<string, Buffer> = {
      'run.bin': body(12 * MiB + 7, 1), // chunks of 5 MiB + 1: one run, every chunk in pieces
      'multi.bin': body(7 * MiB + 3, 2), // two parts of 3 MiB chunks
      'off.bin': body(9 * MiB + 11, 3), // offloaded: chunkblobs of 4 MiB
      'small.txt': Buffer.from('a small one between'),
    };
    const snap = new SnapshotBuilder()
      .bucket('bkt')
      .putObject('bkt', 'run.bin', bodies['run.bin']!, { chunkSize: 5 * MiB + 1 })
      .putObject('bkt', 'multi.bin', bodies['multi.bin']!, { parts: 2, chunkSize: 3 * MiB })
      .putObject('bkt', 'off.bin', bodies['off.bin']!, { offloaded: true, chunkSize: 4 * MiB })
      .putObject('bkt', 'small.txt', bodies['small.txt']!);
    const input = path.join(dir, `big.${format}`);
    // JSON lines shuffled: a chunk may come before its manifest, and the chunks of a body in any order.
    fs.writeFileSync(input, format === 'fsm' ? snap.toFsm({ sort: true, footer: true }) : snap.toJsonl({ shuffle: 5 }));
    const want = Object.fromEntries(Object.entries(bodies).map(([k, v]) => [k, sha256(v)]));

    const out = path.join(dir, 'out');
    const summary = await decodeSnapshot(input, { output: out, scratchDir: dir });
    t.is(summary.objects, 4);
    const got = Object.fromEntries(Object.keys(bodies).map((k) => [k, sha256(fs.readFileSync(path.join(out, 's3', 'bkt', k)))]));
    t.deepEqual(got, want, 'directory dump');

    const { sink, done } = tarHasher();
    await decodeSnapshot(input, { tar: sink, scratchDir: dir });
    const sums = await done;
    t.deepEqual(Object.fromEntries(Object.keys(bodies).map((k) => [k, sums.get(`s3/bkt/${k}`)])), want, 'tar dump');
  });
}

test('big values keep the rules: an older version is superseded, another bucket filtered out, a bad ETag skipped under --keep-going', async (t) => {
  t.timeout(120_000);
  const dir = tempDir(t, 'ekv-bigv-');
  const keep = body(6 * MiB + 1, 11);
  const bad = body(3 * MiB + 1, 12);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'keep.bin', keep, { chunkSize: keep.length })
    // An older version of keep.bin's only chunk, as large and with other bytes.
    .record(blobKey({ bucket: 'bkt', generation: 1, object: 'keep.bin', uploadId: 'up-1', partNo: 1, chunkNo: 0 }), body(keep.length, 13), { commitTs: 50 })
    .putObject('bkt', 'bad.bin', bad, { chunkSize: bad.length, manifestPatch: { etag: 'f'.repeat(32) } })
    .bucket('other')
    .putObject('other', 'x.bin', body(2 * MiB + 1, 14), { chunkSize: 2 * MiB + 1 });
  const input = path.join(dir, 'in.fsm');
  fs.writeFileSync(input, snap.toFsm({ sort: true, footer: true }));
  const out = path.join(dir, 'out');
  const summary = await decodeSnapshot(input, { output: out, scratchDir: dir, keepGoing: true, buckets: ['bkt'] });
  t.is(summary.records.superseded, 1);
  t.true(summary.records.filtered >= 2, `filtered ${summary.records.filtered}`);
  t.is(summary.objects, 1);
  t.is(summary.skipped, 1);
  t.is(sha256(fs.readFileSync(path.join(out, 's3', 'bkt', 'keep.bin'))), sha256(keep));
  t.false(fs.existsSync(path.join(out, 's3', 'bkt', 'bad.bin')));
  t.regex(fs.readFileSync(path.join(out, 's3', 'bkt', '_skipped.jsonl'), 'utf8'), /"reason":"ERR_S3_ETAG_MISMATCH"/);
  t.false(fs.existsSync(path.join(out, 's3', 'other')));
});

for (const format of ['fsm', 'jsonl'] as const) {
  // Serial: only this decode's allocations are seen.
  test.serial(`${format}: a cluster run (two inputs merged) passes big values in pieces too: bodies exact, an identical copy is no conflict, a different one is`, async (t) => {
    t.timeout(120_000);
    const dir = tempDir(t, 'ekv-bigv-');
    const a = body(6 * MiB + 1, 21);
    const b = body(5 * MiB + 3, 22);
    const orphanKey = blobKey({ bucket: 'bkt', generation: 1, object: 'orphan', uploadId: 'up-1', partNo: 1, chunkNo: 0 });
    const g1 = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a.bin', a, { chunkSize: a.length }).record(orphanKey, body(3 * MiB, 23));
    // Group 2 holds an identical copy of a.bin's chunk, b.bin, and another content for the orphan chunk at the same commit_ts.
    const g2 = new SnapshotBuilder()
      .putObject('bkt', 'a.bin', a, { chunkSize: a.length, omitManifest: true })
      .putObject('bkt', 'b.bin', b, { chunkSize: b.length })
      .record(orphanKey, body(3 * MiB, 24));
    const inputs = [g1, g2].map((g, i) => {
      const file = path.join(dir, `g${i + 1}.${format}`);
      fs.writeFileSync(file, format === 'fsm' ? g.toFsm({ sort: true, footer: true }) : g.toJsonl());
      return fileInput(file);
    });
    const warnings: Warning[] = [];
    const out = path.join(dir, 'out');
    let objects = 0;
    const largest = await largestAllocation(async () => void (objects = (await decodeSnapshot(inputs, { output: out, scratchDir: dir, onWarning: (w) => warnings.push(w) })).objects));
    t.true(largest < (format === 'fsm' ? 2 : 8) * MiB, `largest buffer allocated: ${largest} bytes`);
    t.is(objects, 2);
    t.is(sha256(fs.readFileSync(path.join(out, 's3', 'bkt', 'a.bin'))), sha256(a));
    t.is(sha256(fs.readFileSync(path.join(out, 's3', 'bkt', 'b.bin'))), sha256(b));
    const conflicts = warnings.filter((w) => w.event === 's3_group_conflict');
    t.deepEqual(conflicts.map((w) => w.object), ['orphan']);
  });
}

/** A forced full GC (no --expose-gc needed), so memory figures are not noise from earlier garbage. */
function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** Runs `fn` noting the largest buffer that Buffer's allocators hand out meanwhile. */
async function largestAllocation(fn: () => Promise<void>): Promise<number> {
  const spied = ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const;
  const originals = spied.map((name) => Buffer[name]);
  let largest = 0;
  spied.forEach((name, i) => {
    const original = originals[i]! as (size: number, ...rest: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
      largest = Math.max(largest, size);
      return original.call(Buffer, size, ...rest);
    };
  });
  try {
    await fn();
  } finally {
    spied.forEach((name, i) => ((Buffer as unknown as Record<string, unknown>)[name] = originals[i]));
  }
  return largest;
}

// Serial: ava runs serial tests before the concurrent ones, so only this decode's allocations are seen.
test.serial('§9 a 24 MiB chunk is decoded (native input, -o and tar) without any buffer of 2 MiB or more', async (t) => {
  const dir = tempDir(t, 'ekv-bigv-');
  const input = path.join(dir, 'one-chunk.fsm');
  const b = body(24 * MiB + 5, 5);
  fs.writeFileSync(input, new SnapshotBuilder().bucket('bkt').putObject('bkt', 'one.bin', b, { chunkSize: b.length }).toFsm({ sort: true, footer: true }));
  await bothOutputs(t, dir, input, b, 2 * MiB);
});

// A JSON line is framed in one buffer until it is known to be long (2 MiB, growing by doubling: up to 4 MiB).
test.serial('§9 a 24 MiB chunk is decoded from JSON lines (-o and tar) without any buffer of 8 MiB or more (its line is 32 MiB)', async (t) => {
  const dir = tempDir(t, 'ekv-bigv-');
  const input = path.join(dir, 'one-chunk.jsonl');
  const b = body(24 * MiB + 5, 6);
  fs.writeFileSync(input, new SnapshotBuilder().bucket('bkt').putObject('bkt', 'one.bin', b, { chunkSize: b.length }).toJsonl());
  await bothOutputs(t, dir, input, b, 8 * MiB);
});

/** Decodes `input` to a directory and to tar; both hold body `b`, and no allocation reached `bound`. */
async function bothOutputs(t: ExecutionContext, dir: string, input: string, b: Buffer, bound: number): Promise<void> {
  const out = path.join(dir, 'out');
  const toDir = await largestAllocation(async () => void (await decodeSnapshot(input, { output: out, scratchDir: dir })));
  t.is(sha256(fs.readFileSync(path.join(out, 's3', 'bkt', 'one.bin'))), sha256(b));
  t.true(toDir < bound, `largest buffer allocated: ${toDir} bytes`);
  const { sink, done } = tarHasher();
  const toTar = await largestAllocation(() => decodeSnapshot(input, { tar: sink, scratchDir: dir }).then(() => {}));
  t.is((await done).get('s3/bkt/one.bin'), sha256(b));
  t.true(toTar < bound, `largest buffer allocated: ${toTar} bytes`);
}

/** Heavy (a 128 MiB input, ~15–25 s here): run with EKV_SLOW_TESTS=1. */
const slowTest = process.env.EKV_SLOW_TESTS === '1' ? test.serial : test.skip;

slowTest('§9 a 128 MiB chunk is never held whole: array buffers grow by well under its size while it is decoded', async (t) => {
  t.timeout(120_000);
  const dir = tempDir(t, 'ekv-bigv-');
  const input = path.join(dir, 'one-chunk.fsm');
  const size = 128 * MiB;
  let want: string;
  {
    const b = body(size, 4);
    want = sha256(b);
    fs.writeFileSync(input, new SnapshotBuilder().bucket('bkt').putObject('bkt', 'one.bin', b, { chunkSize: size }).toFsm({ sort: true, footer: true }));
  }
  forceGc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  forceGc();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = baseline;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 2);
  const { sink, done } = tarHasher();
  try {
    await decodeSnapshot(input, { tar: sink, scratchDir: dir, onProgress: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), progressIntervalMs: 5 });
  } finally {
    clearInterval(sample);
  }
  t.is((await done).get('s3/bkt/one.bin'), want);
  const grew = peak - baseline;
  t.log(`arrayBuffers grew by ${(grew / MiB).toFixed(1)} MiB while a ${size / MiB} MiB chunk passed`);
  // What any run may hold whatever the value's size — up to 24 free 1 MiB blocks kept for reuse, pieces queued
  // between the stages (two per queue), 8 in the hash workers' hands, the spiller's 8 MiB of writes, the input's
  // read-ahead, the tar queue — came to 36–64 MiB here; a value held whole would add its 128 MiB to that, so the
  // bound sits below the value's size itself, with room above what a run holds anyway.
  t.true(grew < 100 * MiB, `arrayBuffers grew by ${(grew / MiB).toFixed(1)} MiB`);
});
