/**
 * The finalizing sink against a recording Target: what it asks the target
 * to write, in which order, and what it decides (body source, verification,
 * keep-going, checksums). The records come from the real upstream stages.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../lib/errors.js';
import { createDumpSink, type DumpSinkOptions } from '../lib/sinks/dump-sink.js';
import type { BodyWriter, Target } from '../lib/sinks/target.js';
import { createKeyClassifier } from '../lib/stages/classify.js';
import { createBucketCollector } from '../lib/stages/collect.js';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import { createVersionResolver } from '../lib/stages/resolve-versions.js';
import { createBlobSpiller } from '../lib/stages/spill.js';
import type { SealedRun, Span } from '../lib/types.js';
import { sameBytes } from './helpers/bytes.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

const sha256hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A Target that keeps what it is given, and a log of the calls. */
class RecordingTarget implements Target {
  readonly files = new Map<string, Buffer>();
  readonly log: string[] = [];
  constructor(private readonly opts: { acceptRuns: boolean }) {}

  async putRun(rel: Buffer, run: SealedRun): Promise<boolean> {
    this.log.push(`run ${rel}`);
    if (!this.opts.acceptRuns) return false;
    this.files.set(rel.toString(), fs.readFileSync(run.file.path).subarray(0, run.size));
    return true;
  }

  async putSpans(rel: Buffer, size: number, _spans: readonly Span[]): Promise<BodyWriter> {
    const got: Buffer[] = [];
    return {
      wantsBytes: true,
      write: async (b) => void got.push(Buffer.from(b)),
      commit: async () => {
        const data = Buffer.concat(got);
        if (data.length !== size) throw new Error(`size ${data.length} != ${size}`);
        this.log.push(`spans ${rel}`);
        this.files.set(rel.toString(), data);
      },
      abort: async () => void this.log.push(`abort ${rel}`),
    };
  }

  async putFile(rel: Buffer, size: number, pieces: Iterable<Buffer>): Promise<void> {
    const data = Buffer.concat(Array.from(pieces, (p) => Buffer.from(p))); // a piece may be overwritten by the next
    if (data.length !== size) throw new Error(`size ${data.length} != ${size}`);
    this.log.push(`file ${rel}`);
    this.files.set(rel.toString(), data);
  }

  async endBucket(): Promise<void> {
    this.log.push('endBucket');
  }
  async finish(): Promise<void> {
    this.log.push('finish');
  }
  async close(): Promise<void> {}
}

async function sink(t: { teardown(fn: () => void): void }, snap: SnapshotBuilder, target: RecordingTarget, opts: DumpSinkOptions = {}) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-dump-sink-'));
  t.teardown(() => fs.rmSync(scratch, { recursive: true, force: true }));
  const s = createDumpSink(target, opts);
  await pipeline(Readable.from([snap.toFsm({ sort: true })]), createSnapshotReader(), createVersionResolver(), createKeyClassifier(), createBlobSpiller({ scratchDir: scratch }), createBucketCollector(), s);
  return s;
}

const BIG = Buffer.alloc(200 * 1024, 'B'); // first chunk ≥ 64 KiB: spilled as a run
const SMALL = Buffer.from('small body');

test('a body that is one whole run goes to putRun; a small one through putSpans with its bytes; sidecar after its body; bucket files, then MANIFEST.json and CHECKSUMS last', async (t) => {
  const target = new RecordingTarget({ acceptRuns: true });
  const s = await sink(t, new SnapshotBuilder().bucket('b').putObject('b', 'big', BIG).putObject('b', 'small', SMALL), target);
  t.deepEqual(target.log, [
    'run s3/b/big',
    'file s3/b/big.elastickv-meta.json',
    'spans s3/b/small',
    'file s3/b/small.elastickv-meta.json',
    'file s3/b/_bucket.json',
    'endBucket',
    'file MANIFEST.json',
    'file CHECKSUMS',
    'finish',
  ]);
  sameBytes(t, target.files.get('s3/b/big'), BIG, 's3/b/big');
  sameBytes(t, target.files.get('s3/b/small'), SMALL, 's3/b/small');
  t.is(s.stats.objects, 2);
  t.is(s.stats.bodyBytes, BIG.length + SMALL.length);
  t.is(s.stats.files, 7, 'every file, CHECKSUMS included');
});

test('CHECKSUMS lists the SHA-256 of exactly the bytes each file was given, sorted by path', async (t) => {
  const target = new RecordingTarget({ acceptRuns: true });
  await sink(t, new SnapshotBuilder().bucket('b').putObject('b', 'big', BIG).putObject('b', 'small', SMALL), target);
  const expected = [...target.files.entries()]
    .filter(([p]) => p !== 'CHECKSUMS')
    .sort(([x], [y]) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
    .map(([p, data]) => `${sha256hex(data)}  ${p}\n`)
    .join('');
  t.is(target.files.get('CHECKSUMS')!.toString(), expected);
});

test('a target that cannot take a run whole (putRun → false) gets the same bytes through putSpans', async (t) => {
  const target = new RecordingTarget({ acceptRuns: false });
  await sink(t, new SnapshotBuilder().bucket('b').putObject('b', 'big', BIG), target);
  t.deepEqual(target.log.slice(0, 2), ['run s3/b/big', 'spans s3/b/big']);
  sameBytes(t, target.files.get('s3/b/big'), BIG, 's3/b/big');
});

test('a body failing its ETag check is aborted and fails the run; with keepGoing it is skipped and listed in _skipped.jsonl', async (t) => {
  const snap = () => new SnapshotBuilder().bucket('b').putObject('b', 'bad', SMALL, { etag: '0'.repeat(32) }).putObject('b', 'good', SMALL);
  const strict = new RecordingTarget({ acceptRuns: true });
  const err = await t.throwsAsync(sink(t, snap(), strict));
  t.true(err instanceof DecodeError && err.code === 'ERR_S3_ETAG_MISMATCH', String(err));
  t.deepEqual(strict.log, ['abort s3/b/bad']);

  const lenient = new RecordingTarget({ acceptRuns: true });
  const s = await sink(t, snap(), lenient, { keepGoing: true });
  t.false(lenient.files.has('s3/b/bad'));
  t.true(lenient.files.has('s3/b/good'));
  const line = JSON.parse(lenient.files.get('s3/b/_skipped.jsonl')!.toString());
  t.is(line.object, Buffer.from('bad').toString('base64url'));
  t.is(line.reason, 'ERR_S3_ETAG_MISMATCH');
  t.is(s.stats.skipped, 1);
});

test('with verify off a wrong ETag is written as is', async (t) => {
  const target = new RecordingTarget({ acceptRuns: true });
  await sink(t, new SnapshotBuilder().bucket('b').putObject('b', 'bad', SMALL, { etag: '0'.repeat(32) }), target, { verify: false });
  sameBytes(t, target.files.get('s3/b/bad'), SMALL, 's3/b/bad');
});

/** A RecordingTarget whose bodies fail with errors the test can watch, and that collects garbage when _skipped.jsonl is written. */
class RefusingTarget extends RecordingTarget {
  readonly refused: Array<WeakRef<DecodeError>> = [];
  /** At _skipped.jsonl (the skipped list is alive then): how many refused errors were still reachable. */
  aliveAtSkippedFile = -1;

  override async putSpans(rel: Buffer): Promise<BodyWriter> {
    // A big message and stack: what a kept error would cost per skipped object.
    const err = new DecodeError('ERR_IO', `refused ${rel} ${'x'.repeat(10_000)}`, { object: rel }, 'object');
    this.refused.push(new WeakRef(err));
    throw err;
  }

  override async putFile(rel: Buffer, size: number, pieces: Iterable<Buffer>): Promise<void> {
    if (rel.toString().endsWith('/_skipped.jsonl')) {
      await new Promise((resolve) => setImmediate(resolve)); // WeakRefs made in this job keep their targets until it ends
      gc();
      this.aliveAtSkippedFile = this.refused.filter((r) => r.deref() !== undefined).length;
    }
    await super.putFile(rel, size, pieces);
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

test('--keep-going keeps each skipped object as code and detail only: no error object (with its stack) stays reachable until the bucket ends', async (t) => {
  const snap = new SnapshotBuilder().bucket('b');
  for (let i = 0; i < 50; i++) snap.putObject('b', `k${i}`, Buffer.from(`body ${i}`));
  const target = new RefusingTarget({ acceptRuns: true });
  const s = await sink(t, snap, target, { keepGoing: true });
  t.is(s.stats.skipped, 50);
  t.is(target.refused.length, 50);
  t.is(target.aliveAtSkippedFile, 0, 'every refused error was collectable while _skipped.jsonl was written');
  const lines = target.files.get('s3/b/_skipped.jsonl')!.toString().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.is(lines.length, 50);
  t.deepEqual(Object.keys(lines[0]!).sort(), ['detail', 'object', 'reason']);
  t.regex(String(lines[0]!.detail), /refused s3\/b\/k0 x{10000}/);
});
