/**
 * Library misuse (issue 15 item 19): a malformed record fed into a stage, an
 * object-mode stream into decodeSnapshot or an option of the wrong type
 * rejects the pipeline promise with ERR_USAGE — never an uncaught TypeError —
 * and leaves nothing in the scratch directory.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decodeSnapshot, type DecodeOptions } from '../lib/decode.js';
import { DecodeError } from '../lib/errors.js';
import { createKeyClassifier } from '../lib/stages/classify.js';
import { createBucketCollector } from '../lib/stages/collect.js';
import { createRecordFilter } from '../lib/stages/filter.js';
import { createVersionResolver } from '../lib/stages/resolve-versions.js';
import { createBlobSpiller } from '../lib/stages/spill.js';
import { createDirectorySink } from '../lib/sinks/directory.js';
import { tempDir } from './e2e/harness.js';

const sink = () => new Writable({ objectMode: true, write: (_r, _e, cb) => cb() });
const key = Buffer.from('!s3|bucket|meta|b\x00\x01');

/** Records each stage must refuse: wrong types, missing fields, not an object at all. */
const SNAPSHOT_BAD: unknown[] = [42, 'text', Buffer.from('x'), { key: 'k', value: null, commitTs: 0n, tombstone: false }, { key, value: 'v', commitTs: 0n, tombstone: false }, { key, value: null, commitTs: 0, tombstone: false }, { key, value: null, commitTs: 0n }];
const CLASSIFIED_BAD: unknown[] = [

  { kind: 'nope', key, tombstone: false, where: {} },
  { kind: 'blob', key, tombstone: false, where: {}, addr: { bucket: 'b' }, payload: null },
  { kind: 'blob', key, tombstone: false, where: {}, addr: { bucket: key, object: key, uploadId: key, generation: 1, partNo: 1n, chunkNo: 0n, partVersion: 0n }, payload: null },
  { kind: 'chunkblob', key, tombstone: false, where: {}, digest: 'ab', payload: 'zz' },
  { kind: 'manifest', key, tombstone: false, where: {}, bucket: key, generation: 1n, value: null },
  { kind: 'bucket-meta', key, tombstone: false, bucket: key, value: null },
];

async function rejectsWithUsage(t: import('ava').ExecutionContext, stage: () => Transform | Writable, records: unknown[], dir?: string): Promise<void> {
  for (const rec of records) {
    const s = stage();
    const err = await t.throwsAsync(pipeline(Readable.from([rec], { objectMode: true }), s, ...(s instanceof Writable && !('push' in s) ? [] : [sink()])), { instanceOf: DecodeError }, String(JSON.stringify(rec, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))));
    t.is(err?.code, 'ERR_USAGE');
    if (dir) t.deepEqual(fs.readdirSync(dir), [], 'nothing left in scratch');
  }
}

test('version resolver and key classifier: a malformed SnapshotRecord rejects the pipeline with ERR_USAGE', async (t) => {
  await rejectsWithUsage(t, createVersionResolver, SNAPSHOT_BAD);
  await rejectsWithUsage(t, createKeyClassifier, SNAPSHOT_BAD);
});

test('record filter and blob spiller: a malformed classified record rejects with ERR_USAGE, scratch left empty', async (t) => {
  await rejectsWithUsage(t, () => createRecordFilter({}), CLASSIFIED_BAD);
  const dir = tempDir(t, 'ekv-shape-');
  await rejectsWithUsage(t, () => createBlobSpiller({ scratchDir: dir }), CLASSIFIED_BAD, dir);
});

test('bucket collector: a malformed spilled record rejects with ERR_USAGE', async (t) => {
  const spilled = { kind: 'blob', key, tombstone: false, where: {}, addr: { bucket: key, object: key, uploadId: key, generation: 1n, partNo: 1n, chunkNo: 0n, partVersion: 0n } };
  await rejectsWithUsage(t, createBucketCollector, [...CLASSIFIED_BAD, { ...spilled, span: { offset: 1 } }, spilled]);
});

test('dump sink: a malformed BucketCollection rejects with ERR_USAGE', async (t) => {
  const root = tempDir(t, 'ekv-shape-');
  const tmp = path.join(root, '.work');
  fs.mkdirSync(tmp);
  for (const b of [42, { name: 'b' }, { name: Buffer.from('b'), objects: [], uploads: [], chunkBlobs: new Map() }]) {
    const err = await t.throwsAsync(pipeline(Readable.from([b], { objectMode: true }), createDirectorySink({ root, tmpDir: tmp })), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_USAGE');
  }
  t.deepEqual(fs.readdirSync(tmp), []);
});

test('decodeSnapshot: an object-mode input stream or a bad option shape rejects with ERR_USAGE, creating nothing', async (t) => {
  const work = tempDir(t, 'ekv-shape-');
  const out = path.join(work, 'out');
  const scratch = path.join(work, 'scratch');
  fs.mkdirSync(scratch);
  const cases: Array<[unknown, unknown]> = [
    [42, { output: out }],
    ['-', null],
    ['-', { output: 7 }],
    ['-', { output: out, buckets: 'b' }],
    ['-', { output: out, verify: 'yes' }],
    ['-', { output: out, inputFormat: 'xml' }],
    ['-', { tar: {} }],
  ];
  for (const [input, options] of cases) {
    const err = await t.throwsAsync(decodeSnapshot(input as string, options as DecodeOptions), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_USAGE', String(err?.message));
  }
  t.deepEqual(fs.readdirSync(work).sort(), ['scratch']);
  // An object-mode input of other things than bytes: rejected once read, its staging and scratch removed.
  const err = await t.throwsAsync(decodeSnapshot(Readable.from([{ key: 'k' }]), { output: out, scratchDir: scratch }), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_USAGE');
  t.deepEqual(fs.readdirSync(work).sort(), ['scratch']);
  t.deepEqual(fs.readdirSync(scratch), []);
  // An object-mode stream of Buffers is bytes all the same.
  const ok = await decodeSnapshot(Readable.from([Buffer.from('{"key":"eA==","value":"eQ=="}\n')]), { output: out });
  t.is(ok.records.nonS3, 1);
});
