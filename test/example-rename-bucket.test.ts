import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restoreRenamed } from '../examples/rename-bucket.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

function listFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(root, rel));
    else out.push(rel);
  }
  return out.sort();
}

test('README custom pipeline: a through2 stage renames a bucket and drops tmp/ objects', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'example-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const photo = Buffer.from('JPEG bytes '.repeat(100));
  const doc = Buffer.from('a document');
  const snap = new SnapshotBuilder()
    .bucket('photos')
    .bucket('docs')
    .putObject('photos', 'a.jpg', photo, { chunkSize: 256 })
    .putObject('photos', 'tmp/x', Buffer.from('scratch'))
    .putObject('docs', 'readme.txt', doc);
  const input = path.join(tmp, 'snap.fsm');
  fs.writeFileSync(input, snap.toFsm());
  const out = path.join(tmp, 'out');
  fs.mkdirSync(out);

  await restoreRenamed(input, out);

  t.deepEqual(listFiles(out), [
    'CHECKSUMS',
    'MANIFEST.json',
    's3/docs/_bucket.json',
    's3/docs/readme.txt',
    's3/docs/readme.txt.elastickv-meta.json',
    's3/photos-restored/_bucket.json',
    's3/photos-restored/a.jpg',
    's3/photos-restored/a.jpg.elastickv-meta.json',
  ]);
  t.deepEqual(fs.readFileSync(path.join(out, 's3/photos-restored/a.jpg')), photo);
  t.deepEqual(fs.readFileSync(path.join(out, 's3/docs/readme.txt')), doc);
  t.regex(fs.readFileSync(path.join(out, 's3/photos-restored/_bucket.json'), 'utf8'), /"name": "photos-restored"/);
  const sha = createHash('sha256').update(photo).digest('hex');
  t.true(fs.readFileSync(path.join(out, 'CHECKSUMS'), 'utf8').includes(`${sha}  s3/photos-restored/a.jpg\n`));
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'MANIFEST.json'), 'utf8'));
  t.deepEqual(manifest.adapters.s3.buckets, ['docs', 'photos-restored']);
});
