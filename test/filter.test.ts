import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import { createRecordFilter, recordPredicate } from '../lib/stages/filter.js';
import type { ClassifiedRecord, Warning } from '../lib/types.js';

const base = { where: {}, key: Buffer.from('k'), tombstone: false };
const manifest = (bucket: string, object: string): ClassifiedRecord => ({ kind: 'manifest', bucket: Buffer.from(bucket), generation: 1n, object: Buffer.from(object), value: Buffer.from('{}'), ...base });
const blob = (bucket: string, object: string): ClassifiedRecord => ({
  kind: 'blob',
  addr: { bucket: Buffer.from(bucket), generation: 1n, object: Buffer.from(object), uploadId: Buffer.from('u'), partNo: 1n, chunkNo: 0n, partVersion: 0n },
  payload: Buffer.from('x'),
  ...base,
});
const meta = (bucket: string): ClassifiedRecord => ({ kind: 'bucket-meta', bucket: Buffer.from(bucket), value: Buffer.from('{}'), ...base });
const chunkblob: ClassifiedRecord = { kind: 'chunkblob', digest: '00'.repeat(32), payload: Buffer.from('x'), ...base };

test('--bucket keeps only the named buckets (meta, manifests and chunks)', (t) => {
  const keep = recordPredicate({ buckets: ['a', 'c'] });
  t.deepEqual([meta('a'), meta('b'), manifest('c', 'x'), manifest('b', 'x'), blob('a', 'y'), blob('b', 'y')].map(keep), [true, false, true, false, true, false]);
});

test('--prefix keeps objects whose key starts with the prefix, and every bucket meta', (t) => {
  const keep = recordPredicate({ prefix: 'logs/' });
  t.deepEqual([manifest('b', 'logs/1'), manifest('b', 'logs'), blob('b', 'logs/x'), blob('b', 'img/x'), meta('b')].map(keep), [true, false, true, false, true]);
});

test('--bucket and --prefix combine; offloaded chunkblobs always pass (they belong to no bucket)', (t) => {
  const keep = recordPredicate({ buckets: ['a'], prefix: 'p' });
  t.deepEqual([manifest('a', 'p1'), manifest('a', 'q1'), manifest('b', 'p1'), chunkblob].map(keep), [true, false, false, true]);
});

test('no filter keeps everything', (t) => {
  const keep = recordPredicate({});
  t.true([meta('a'), manifest('b', 'x'), blob('c', 'y'), chunkblob].every(keep));
});

test('filter_matched_nothing: once per --bucket that matched no record, and for a --prefix no object of a kept bucket matched', async (t) => {
  const warnings: Warning[] = [];
  const filter = createRecordFilter({ buckets: ['a', 'typo', 'b'], prefix: 'p', onWarning: (w) => warnings.push(w) });
  // c has an object under the prefix, but c is not a kept bucket.
  const records = [meta('a'), manifest('a', 'q'), meta('b'), manifest('c', 'p1'), chunkblob];
  await pipeline(Readable.from(records), filter, new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }));
  t.deepEqual(warnings, [
    { event: 'filter_matched_nothing', filter: 'bucket', value: 'typo' },
    { event: 'filter_matched_nothing', filter: 'prefix', value: 'p' },
  ]);
  const quiet: Warning[] = [];
  const ok = createRecordFilter({ buckets: ['a'], prefix: 'q', onWarning: (w) => quiet.push(w) });
  await pipeline(Readable.from(records), ok, new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }));
  t.deepEqual(quiet, []);
});
