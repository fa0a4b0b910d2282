// A custom pipeline: decode a snapshot, but restore bucket "photos" as
// "photos-restored" and drop every object under "tmp/". The stage between
// the classifier and the spiller is plain through2; any object-mode
// Transform or async generator works there too.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import through2 from 'through2';
import {
  createBlobSpiller,
  createDirectorySink,
  createKeyClassifier,
  createBucketCollector,
  createSnapshotReader,
  createVersionResolver,
  type ClassifiedRecord,
} from '../lib/index.js'; // in your code: from 'ekv-s3-decode'


export async function restoreRenamed(snapshot: string, outDir: string): Promise<void> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'restore-'));
  const from = Buffer.from('photos');
  const to = Buffer.from('photos-restored');
  const rename = (b: Buffer) => (b.equals(from) ? to : b);

  const edit = through2.obj(function (rec: ClassifiedRecord, _enc, done) {
    if (rec.kind === 'blob' || rec.kind === 'chunkref') {
      if (rec.addr.object.subarray(0, 4).toString() === 'tmp/') return done();
      rec.addr.bucket = rename(rec.addr.bucket);
    } else if (rec.kind !== 'chunkblob') {
      if (rec.kind !== 'bucket-meta' && rec.object.subarray(0, 4).toString() === 'tmp/') return done();
      rec.bucket = rename(rec.bucket);
    }
    done(null, rec);
  });

  await pipeline(
    createReadStream(snapshot),
    createSnapshotReader(),
    createVersionResolver(),
    createKeyClassifier(),
    edit,
    createBlobSpiller({ scratchDir: scratch }),
    createBucketCollector(),
    // outDir: an existing empty directory, written in place (decodeSnapshot
    // adds the staging directory and atomic publish around this).
    createDirectorySink({ root: outDir, tmpDir: scratch, manifestInfo: () => ({ source: snapshot }) }),
  );
  await rm(scratch, { recursive: true });
}
