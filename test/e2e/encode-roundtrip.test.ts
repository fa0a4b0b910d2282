/**
 * Round-trip properties of ekv-s3-encode (SPEC §12), in process, on random
 * snapshots built with the test SnapshotBuilder (several buckets, nested and
 * non-ASCII keys, file/directory collisions renamed through KEYMAP,
 * multipart and offloaded bodies, metadata):
 *   - the dump D = decode(snap) is a random dump: decode(encode(D)) == D;
 *   - encode(decode(snap)) decodes to the same tree as snap, and encoding
 *     that tree again gives the very same snapshot bytes.
 */
import test from 'ava';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { decodeSnapshot } from '../../lib/decode.js';
import { encodeDump } from '../../lib/encode/encode.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { readTree, tempDir } from './harness.js';

const segment = fc.stringMatching(/^[a-zA-Z0-9 é\u{1F600}._-]{1,6}$/u).filter((s) => s !== '.' && s !== '..' && !s.startsWith('_'));
const objectKey = fc.array(segment, { minLength: 1, maxLength: 3 }).map((segs) => segs.join('/'));
const object = fc.record({
  key: objectKey,
  body: fc.uint8Array({ maxLength: 3000 }),
  parts: fc.integer({ min: 1, max: 3 }),
  chunkSize: fc.integer({ min: 1, max: 1500 }),
  offloaded: fc.boolean(),
  contentType: fc.option(fc.constantFrom('text/plain', 'a<b>&c', 'application/x-\u2028'), { nil: undefined }),
  userMetadata: fc.option(fc.dictionary(fc.stringMatching(/^[a-z\u{1F600}]{1,4}$/u), fc.string({ maxLength: 5 }), { maxKeys: 3 }), { nil: undefined }),
  // HLC 0 (no time), or a time after the epoch: a non-zero HLC of the epoch's
  // millisecond renders as 1970-01-01T00:00:00Z, which restores as 0 (see README).
  lastModifiedHlc: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n << 16n, max: (1n << 47n) << 16n })),
});
const bucket = fc.record({
  name: fc.stringMatching(/^[a-z0-9 .é-]{1,8}$/u).filter((s) => s !== '.' && s !== '..'),
  owner: fc.constantFrom('', 'alice'),
  createdAtHlc: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n << 16n, max: 1n << 56n })),
  objects: fc.uniqueArray(object, { selector: (o) => o.key, maxLength: 6 }),
});
const snapshot = fc.uniqueArray(bucket, { selector: (b) => b.name, minLength: 1, maxLength: 3 });

type BucketSpec = typeof bucket extends fc.Arbitrary<infer B> ? B : never;

function build(buckets: BucketSpec[]): SnapshotBuilder {
  const snap = new SnapshotBuilder();
  for (const b of buckets) {
    snap.bucket(b.name, { owner: b.owner, createdAtHlc: b.createdAtHlc });
    for (const o of b.objects) {
      const body = Buffer.from(o.body);
      // An empty body gets a plain MD5 ETag: elastickv's encoder writes no
      // part for it, so an empty multipart object's H-N cannot verify (see README).
      snap.putObject(b.name, o.key, body, {
        ...(body.length > 0 ? { parts: Math.min(o.parts, body.length) } : {}),
        chunkSize: o.chunkSize,
        offloaded: o.offloaded,
        lastModifiedHlc: o.lastModifiedHlc,
        ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
        ...(o.userMetadata !== undefined ? { userMetadata: o.userMetadata } : {}),
      });
    }
  }
  return snap;
}

const dataFiles = (root: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [p, f] of readTree(root).files) if (p !== 'MANIFEST.json' && p !== 'CHECKSUMS') out[p] = f.data.toString('base64');
  return out;
};

test('decode(encode(dump)) == dump, and encoding is deterministic, for random snapshots', async (t) => {
  const work = tempDir(t);
  let n = 0;
  await fc.assert(
    fc.asyncProperty(snapshot, async (buckets) => {
      const dir = path.join(work, String(n++));
      fs.mkdirSync(dir);
      const snap = build(buckets).toFsm({ sort: true, lastCommitTs: 777n });
      fs.writeFileSync(path.join(dir, 'in.fsm'), snap);
      await decodeSnapshot(path.join(dir, 'in.fsm'), { output: path.join(dir, 'd1'), onWarning: () => {} });
      await encodeDump(path.join(dir, 'd1'), { output: path.join(dir, 'e1.fsm'), scratchDir: dir });
      await decodeSnapshot(path.join(dir, 'e1.fsm'), { output: path.join(dir, 'd2'), onWarning: () => {} });
      t.deepEqual(dataFiles(path.join(dir, 'd2')), dataFiles(path.join(dir, 'd1')));
      // Small memory budget: the same bytes through spilled sorts.
      await encodeDump(path.join(dir, 'd2'), { output: path.join(dir, 'e2.fsm'), scratchDir: dir, memoryBudget: 600, selfTest: false });
      t.true(fs.readFileSync(path.join(dir, 'e2.fsm')).equals(fs.readFileSync(path.join(dir, 'e1.fsm'))), 'encode(decode(encode(D))) == encode(D)');
      fs.rmSync(dir, { recursive: true });
    }),
    { numRuns: 25 },
  );
  t.pass();
});
