import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../lib/errors.js';
import { createKeyClassifier } from '../lib/stages/classify.js';
import type { ClassifiedRecord, SnapshotRecord, Warning } from '../lib/types.js';
import { blobKey, bucketGenKey, bucketMetaKey, chunkblobKey, manifestKey, raw, routeKey, uploadMetaKey } from './helpers/keys.js';

const rec = (key: Buffer, value: Buffer | null = Buffer.from('v'), where = { line: 1 }): SnapshotRecord => ({ key, value, commitTs: 5n, tombstone: value === null, where });

async function classify(records: SnapshotRecord[]): Promise<{ out: ClassifiedRecord[]; warnings: Warning[]; stats: ReturnType<typeof createKeyClassifier>['stats'] }> {
  const warnings: Warning[] = [];
  const c = createKeyClassifier({ onWarning: (w) => warnings.push(w) });
  const out: ClassifiedRecord[] = [];
  await pipeline(
    Readable.from(records),
    c,
    new Writable({ objectMode: true, write: (r: ClassifiedRecord, _e, cb) => (out.push(r), cb()) }),
  );
  return { out, warnings, stats: c.stats };
}

test('SPEC §4: each S3 family becomes its typed record, with the key, commit_ts and origin kept', async (t) => {
  const { out } = await classify([
    rec(bucketMetaKey('b')),
    rec(manifestKey('b', 2, 'o/k')),
    rec(blobKey({ bucket: 'b', generation: 2, object: 'o/k', uploadId: 'u', partNo: 1, chunkNo: 3 })),
    rec(chunkblobKey('AB'.repeat(32))),
    rec(uploadMetaKey('b', 2, 'o/k', 'u')),
  ]);
  t.deepEqual(out.map((r) => r.kind), ['bucket-meta', 'manifest', 'blob', 'chunkblob', 'upload']);
  const blob = out[2]!;
  t.true(blob.kind === 'blob' && blob.addr.chunkNo === 3n && blob.addr.object.toString() === 'o/k' && blob.payload?.toString() === 'v');
  const cb = out[3]!;
  t.true(cb.kind === 'chunkblob' && cb.digest === 'ab'.repeat(32), 'chunkblob hex is lower-cased');
  t.true(out.every((r) => r.commitTs === 5n && r.where.line === 1));
});

test('SPEC §4: ignored families and foreign keys are counted and dropped; an unknown !s3| family is warned once with its count', async (t) => {
  const { out, warnings, stats } = await classify([rec(bucketGenKey('b')), rec(routeKey('b', 1, 'o')), rec(Buffer.from('!redis|x')), rec(raw('!s3|future|', 'a')), rec(raw('!s3|future|', 'b'))]);
  t.deepEqual(out, []);
  t.is(stats.ignored, 2);
  t.is(stats.nonS3, 1);
  t.is(stats.unknownS3, 2);
  t.deepEqual(warnings, [{ event: 's3_unknown_prefix', records: 2 }]);
});

test('SPEC §4: a malformed key of a known family fails the run with ERR_S3_MALFORMED_KEY naming the line', async (t) => {
  const err = await t.throwsAsync(classify([rec(raw('!s3|obj|head|', 'b', 0, 1), Buffer.from('v'), { line: 42 })]));
  t.true(err instanceof DecodeError);
  t.is((err as DecodeError).code, 'ERR_S3_MALFORMED_KEY');
  t.is((err as DecodeError).context.line, 42);
});
