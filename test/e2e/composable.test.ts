/**
 * Composability: --bucket / --prefix filters, the library stage chain,
 * progress and summary output, --help / --version, and backpressure from a
 * slow tar consumer.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  createBlobSpiller,
  createKeyClassifier,
  createBucketCollector,
  createRecordFilter,
  createSnapshotReader,
  createVersionResolver,
  decodeSnapshot,
} from '../../lib/index.js';
import type { Progress } from '../../lib/decode.js';
import { formatProgress } from '../../lib/cli/progress.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { assertDump, bytesOf, decode, jsonLog, objectFiles, plainBucketJson, runCli, tempDir, type Expected } from './harness.js';

// ---------------------------------------------------------------- filters

const OBJECTS: Array<[string, string, Buffer]> = [
  ['a', 'logs/1.txt', Buffer.from('a-log-1')],
  ['a', 'data/x.bin', bytesOf('a-data', 200_000)],
  ['b', 'logs/2.txt', Buffer.from('b-log-2')],
  ['b', 'img/p.png', bytesOf('b-img', 150_000)],
  ['c', 'logs/deep/3.txt', bytesOf('c-log', 100_000)],
  ['c', 'logsx', Buffer.from('not under logs/')],
];

function threeBuckets(): SnapshotBuilder {
  const snap = new SnapshotBuilder().bucket('a').bucket('b').bucket('c');
  for (const [b, k, body] of OBJECTS) snap.putObject(b, k, body, { chunkSize: 65536 });
  return snap;
}

function expected(buckets: string[], prefix = ''): Expected {
  const want: Expected = {};
  for (const b of buckets) want[`s3/${b}/_bucket.json`] = plainBucketJson(b);
  for (const [b, k, body] of OBJECTS) if (buckets.includes(b) && k.startsWith(prefix)) Object.assign(want, objectFiles(b, k, body));
  return want;
}

function manifestBuckets(d: { tree?: { files: Map<string, { data: Buffer }> } }): unknown {
  const m = JSON.parse(d.tree!.files.get('MANIFEST.json')!.data.toString()) as { adapters?: { s3?: { buckets?: unknown } } };
  return m.adapters?.s3?.buckets;
}

for (const form of ['jsonl', 'fsm'] as const) {
  test(`[${form}] --bucket a keeps only bucket a`, async (t) => {
    const d = await decode(t, threeBuckets(), form, { args: ['--bucket', 'a'] });
    assertDump(t, d, { files: expected(['a']) });
    t.deepEqual(manifestBuckets(d), ['a']);
  });

  test(`[${form}] --bucket a --bucket c`, async (t) => {
    const d = await decode(t, threeBuckets(), form, { args: ['--bucket', 'a', '--bucket', 'c'] });
    assertDump(t, d, { files: expected(['a', 'c']) });
    t.deepEqual(manifestBuckets(d), ['a', 'c']);
  });

  test(`[${form}] --prefix logs/ keeps matching objects and every _bucket.json`, async (t) => {
    const d = await decode(t, threeBuckets(), form, { args: ['--prefix', 'logs/'] });
    assertDump(t, d, { files: expected(['a', 'b', 'c'], 'logs/') });
  });

  test(`[${form}] --bucket c --bucket b --prefix logs/`, async (t) => {
    const d = await decode(t, threeBuckets(), form, { args: ['--bucket', 'c', '--bucket', 'b', '--prefix', 'logs/'] });
    assertDump(t, d, { files: expected(['b', 'c'], 'logs/') });
    t.deepEqual(manifestBuckets(d), ['b', 'c']);
  });
}

test('a filtered run spills no payload of other buckets', async (t) => {
  const scratchDir = tempDir(t);
  const input = threeBuckets().toFsm({ sort: true });
  const spiller = createBlobSpiller({ scratchDir });
  const got: unknown[] = [];
  const collect = new Writable({
    objectMode: true,
    write(chunk, _enc, cb) {
      got.push(chunk);
      cb();
    },
  });
  await pipeline(
    Readable.from([input]),
    createSnapshotReader(),
    createVersionResolver(),
    createKeyClassifier(),
    createRecordFilter({ buckets: ['a'] }),
    spiller,
    createBucketCollector(),
    collect,
  );
  const aBytes = OBJECTS.filter(([b]) => b === 'a').reduce((n, [, , body]) => n + body.length, 0);
  t.is(spiller.stats.runBytes + spiller.stats.poolBytes, aBytes);
  t.true(got.length > 0);
});

// ---------------------------------------------------------------- progress and summary

function writeInput(t: import('ava').ExecutionContext, form: 'jsonl' | 'fsm' = 'fsm'): { dir: string; input: string } {
  const dir = tempDir(t);
  const input = path.join(dir, `in.${form}`);
  // With the CRC32C footer a node writes (without it the run warns snapshot_unverified).
  fs.writeFileSync(input, form === 'fsm' ? threeBuckets().toFsm({ sort: true, footer: true }) : threeBuckets().toJsonl());
  return { dir, input };
}

test('--progress --log-format json: last stderr line is the JSON summary', async (t) => {
  const { dir, input } = writeInput(t);
  const r = await runCli([input, '-o', path.join(dir, 'out'), '--progress', '--log-format', 'json']);
  t.is(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  const last = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
  t.is(last.event, 'summary');
  t.is(last.objects, OBJECTS.length);
  t.is(last.buckets, 3);
  t.is(last.bodyBytes, OBJECTS.reduce((n, [, , b]) => n + b.length, 0));
  // Any progress lines are JSON too.
  for (const l of jsonLog(r.stderr)) t.true(l.event === 'progress' || l.event === 'summary', JSON.stringify(l));
});

test('text summary line; -q prints none', async (t) => {
  const { dir, input } = writeInput(t);
  const r = await runCli([input, '-o', path.join(dir, 'out'), '--progress']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /\d+ objects in \d+ buckets/);
  t.regex(r.stderr, new RegExp(`${OBJECTS.length} objects in 3 buckets`));
  const q = await runCli([input, '-o', path.join(dir, 'out2'), '-q']);
  t.is(q.code, 0, q.stderr);
  t.is(q.stderr, '');
  const qj = await runCli([input, '-o', path.join(dir, 'out3'), '-q', '--log-format', 'json']);
  t.is(qj.code, 0, qj.stderr);
  t.false(jsonLog(qj.stderr).some((l) => l.event === 'summary'));
});

test('decodeSnapshot calls onProgress with the full input read at the end', async (t) => {
  const { dir, input } = writeInput(t);
  const size = fs.statSync(input).size;
  const samples: Progress[] = [];
  await decodeSnapshot(input, { output: path.join(dir, 'out'), onProgress: (p) => samples.push(p), progressIntervalMs: 1 });
  t.true(samples.length >= 1);
  const last = samples[samples.length - 1]!;
  t.is(last.bytesRead, size);
  t.is(last.totalBytes, size);
  t.is(last.objects, OBJECTS.length);
  for (let i = 1; i < samples.length; i++) t.true(samples[i]!.bytesRead >= samples[i - 1]!.bytesRead);
});

test('formatProgress', (t) => {
  const base = { records: 100, objects: 7, bodyBytes: 0, elapsedMs: 2000 };
  const half = formatProgress({ ...base, bytesRead: 5_000_000, totalBytes: 10_000_000 });
  t.regex(half, /read 5\.0\/10\.0 MB \(50\.0%\)/);
  t.regex(half, /50 records\/s/);
  t.regex(half, /7 objects/);
  t.regex(half, /2\.5 MB\/s/);
  t.regex(half, /ETA 2 s/);
  const unknown = formatProgress({ ...base, bytesRead: 5_000_000, totalBytes: undefined });
  t.regex(unknown, /read 5\.0 MB,/);
  t.notRegex(unknown, /%|ETA/);
  const done = formatProgress({ ...base, bytesRead: 10_000_000, totalBytes: 10_000_000 });
  t.regex(done, /\(100\.0%\)/);
  t.notRegex(done, /ETA/);
});

// ---------------------------------------------------------------- help and version

test('--help lists every SPEC §2 option and has Examples; --version', async (t) => {
  const h = await runCli(['--help']);
  t.is(h.code, 0, h.stderr);
  const help = h.stdout.toString();
  for (const opt of [
    '-o',
    '-z',
    '--bucket',
    '--prefix',
    '--scratch-dir',
    '--include-incomplete-uploads',
    '--include-orphans',
    '--rename-collisions',
    '--keep-going',
    '--no-verify',
    '--cluster-id',
    '--snapshot-index',
    '--progress',
    '--no-progress',
    '--log-format',
    '-q',
    '-V',
  ]) {
    t.regex(help, new RegExp(`(^|[\\s,])${opt.replace(/-/g, '\\-')}(?=[\\s,=]|$)`, 'm'), `help mentions ${opt}`);
  }
  t.regex(help, /^Examples:/m);
  const v = await runCli(['--version']);
  t.is(v.code, 0, v.stderr);
  t.regex(v.stdout.toString(), /^ekv-s3-decode \d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\n$/);
  const v2 = await runCli(['-V']);
  t.is(v2.stdout.toString(), v.stdout.toString());
});

// ---------------------------------------------------------------- backpressure

/** A forced full GC (no --expose-gc needed), so memory figures are not noise from earlier garbage. */
function forceGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/**
 * arrayBuffers once the input's buffers are really gone: V8 frees the memory
 * of collected buffers on a background thread, so one figure right after a
 * GC can still count them (a baseline of 189 MiB was seen), which would let
 * any growth pass.
 */
async function settledArrayBuffers(): Promise<number> {
  let last = -1;
  for (let i = 0; i < 20; i++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = process.memoryUsage().arrayBuffers;
    if (now === last) return now;
    last = now;
  }
  return last;
}

const MiB = 1024 * 1024;
const N = 24;

/** Writes ~96 MiB of bodies (24 × 4 MiB, 1 MiB chunks) as an .fsm file, keeping no reference to them. */
function writeBigInput(input: string): number {
  const snap = new SnapshotBuilder().bucket('big');
  let bodyBytes = 0;
  for (let i = 0; i < N; i++) {
    const body = Buffer.alloc(4 * MiB, `body-${i}-`);
    bodyBytes += body.length;
    snap.putObject('big', `obj-${String(i).padStart(2, '0')}`, body, { chunkSize: 1 * MiB });
  }
  fs.writeFileSync(input, snap.toFsm({ sort: true }));
  return bodyBytes;
}

// Serial: ava runs serial tests before the concurrent ones, so no other test's buffers are counted.
test.serial('a slow tar consumer does not make bodies pile up in memory', async (t) => {
  t.timeout(60_000);
  const dir = tempDir(t);
  const input = path.join(dir, 'in.fsm');
  const bodyBytes = writeBigInput(input);
  const baseline = await settledArrayBuffers();

  const bound = 48 * MiB;
  let received = 0;
  let writes = 0;
  let gcs = 0;
  let maxArrayBuffers = 0;
  let maxSettled = 0;
  let maxRss = 0;
  const slow = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      writes++;
      const m = process.memoryUsage();
      maxRss = Math.max(maxRss, m.rss);
      // What counts is what is still referenced (buffered in the pack, the
      // sink or the pipeline), not garbage. Collecting can only lower the
      // figure: one under the bound is taken as it is, one over it only
      // once the garbage is collected and freed (a full GC on every write
      // cost ~10 s of CPU) — until one such figure has failed the test.
      if (m.arrayBuffers - baseline < bound || maxSettled - baseline >= bound) {
        maxArrayBuffers = Math.max(maxArrayBuffers, m.arrayBuffers);
        setImmediate(cb);
        return;
      }
      gcs++;
      void settledArrayBuffers().then((settled) => {
        maxArrayBuffers = Math.max(maxArrayBuffers, settled);
        maxSettled = Math.max(maxSettled, settled);
        cb();
      });
    },
  });
  const started = Date.now();
  const summary = await decodeSnapshot(input, { tar: slow, scratchDir: dir });
  const ms = Date.now() - started;
  t.is(summary.objects, N);
  t.is(summary.bodyBytes, bodyBytes);
  t.true(received >= bodyBytes, `archive ${received} bytes < bodies ${bodyBytes}`);
  t.is(received % 512, 0);
  const grew = maxArrayBuffers - baseline;
  t.log(
    `writes=${writes} (forced GCs ${gcs}) received=${(received / MiB).toFixed(1)} MiB in ${ms} ms; ` +
      `arrayBuffers baseline=${(baseline / MiB).toFixed(1)} max=${(maxArrayBuffers / MiB).toFixed(1)} MiB (+${(grew / MiB).toFixed(1)}), ` +
      `after collecting garbage at most +${(Math.max(0, maxSettled - baseline) / MiB).toFixed(1)} MiB; ` +
      `max rss=${(maxRss / MiB).toFixed(1)} MiB`,
  );
  // What a run may hold whatever the input's size — up to 24 reusable 1 MiB
  // value blocks (lib/io/shared-blocks.ts), the blocks in the hash workers'
  // hands, a 4 MiB read-ahead, the spiller's and the tar queue's 8 MiB
  // budgets — came to 30–37 MiB on a loaded machine: with 48 MiB of bodies
  // that was too close to tell apart from bodies piling up. Twice the bodies
  // keep the bound clear of both.
  t.true(grew < bound, `arrayBuffers grew by ${(grew / MiB).toFixed(1)} MiB during a tar run with ${bodyBytes / MiB} MiB of bodies`);
});
