import test from 'ava';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../lib/errors.js';
import { ObjectList } from '../lib/core/object-store.js';
import { DumpSink } from '../lib/sinks/dump-sink.js';
import type { Target } from '../lib/sinks/target.js';
import { PositionedReader } from '../lib/io/positioned-reader.js';
import type { BucketCollection, ObjectCollection, Warning } from '../lib/types.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const empty = { size: 0, values: () => [][Symbol.iterator]() };

function object(key: string): ObjectCollection {
  return {
    generation: 1n,
    key: Buffer.from(key).toString('latin1'),
    object: Buffer.from(key),
    manifest: { value: Buffer.from('{"parts":[]}'), where: {} },
    blobs: empty,
    refs: empty,
  };
}

test('--keep-going keeps a skipped object as code and detail, not its error (and stack) for the rest of the bucket', async (t) => {
  const errors: Array<WeakRef<DecodeError>> = [];
  let aliveAtBucketEnd = -1;
  const files: Record<string, string> = {};
  const target: Target = {
    async body(_rel, obj) {
      const e = new DecodeError('ERR_S3_ETAG_MISMATCH', `bad ${obj.key.toString()}`, { object: obj.key }, 'object');
      errors.push(new WeakRef(e));
      return e;
    },
    async file(rel, data) {
      files[rel.toString()] = data.toString();
    },
    async fileInPieces() {},
    async endBucket() {
      // A new macrotask, so WeakRef targets are no longer kept for the job that made them.
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      aliveAtBucketEnd = errors.filter((w) => w.deref() !== undefined).length;
    },
    async finish() {},
    async close() {},
  };
  const bucket: BucketCollection = {
    name: Buffer.from('bkt'),
    meta: { value: Buffer.from('{"generation":1}'), where: {} },
    objects: new ObjectList(['a', 'b', 'c'].map(object)),
    uploads: [],
    chunkBlobs: new Map(),
  };
  const warnings: Warning[] = [];
  await pipeline(Readable.from([bucket]), new DumpSink(target, { keepGoing: true, onWarning: (w) => warnings.push(w) }, new PositionedReader()));

  t.is(errors.length, 3);
  t.is(aliveAtBucketEnd, 0, 'no skipped object error is still reachable when the bucket ends');
  const lines = files['s3/bkt/_skipped.jsonl']!.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  t.deepEqual(lines, [
    { object: 'YQ', reason: 'ERR_S3_ETAG_MISMATCH', detail: 'object a: bad a' },
    { object: 'Yg', reason: 'ERR_S3_ETAG_MISMATCH', detail: 'object b: bad b' },
    { object: 'Yw', reason: 'ERR_S3_ETAG_MISMATCH', detail: 'object c: bad c' },
  ]);
  t.deepEqual(
    warnings.filter((w) => w.event === 's3_skipped_object').map((w) => [w.object, w.reason, w.detail]),
    [
      ['a', 'ERR_S3_ETAG_MISMATCH', 'object a: bad a'],
      ['b', 'ERR_S3_ETAG_MISMATCH', 'object b: bad b'],
      ['c', 'ERR_S3_ETAG_MISMATCH', 'object c: bad c'],
    ],
  );
});
