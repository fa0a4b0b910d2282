import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { assertDump, decodeBoth, objectFiles, plainBucketJson } from './harness.js';

test('smoke', async (t) => {
  const body = Buffer.from('hello');
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a.txt', body);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'a.txt', body) } });
  }
});
