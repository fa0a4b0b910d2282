import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { decodeSnapshot, type Progress } from '../lib/decode.js';
import { DecodeError } from '../lib/errors.js';
import { spyOnOpen } from './helpers/open-spy.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-decode-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const snap = () => new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('hello'));

test('decodeSnapshot: a byte stream to a directory — the tree appears whole, the summary counts it, progress is reported', async (t) => {
  const out = path.join(tmp(t), 'dump');
  const samples: Progress[] = [];
  const summary = await decodeSnapshot(Readable.from([snap().toFsm({ sort: true, lastCommitTs: 7n })]), { output: out, onProgress: (p) => samples.push(p), sourceName: 'stream' });
  t.is(fs.readFileSync(path.join(out, 's3/b/k'), 'utf8'), 'hello');
  t.is(summary.output, out);
  t.is(summary.format, 'fsm');
  t.is(summary.objects, 1);
  t.is(summary.bodyBytes, 5);
  t.is(summary.records.s3.manifest, 1);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'MANIFEST.json'), 'utf8'));
  t.is(manifest.source.fsm_path, 'stream');
  t.is(manifest.last_commit_ts, 7);
  t.true(samples.length >= 1, 'a last progress sample at the end');
  t.is(samples.at(-1)!.objects, 1);
  t.deepEqual(fs.readdirSync(path.dirname(out)), ['dump'], 'no staging left beside DIR');
});

/** A tar extractor, and the names of the entries it reads once it has read them all. */
function tarNames(): { extract: tar.Extract; names: Promise<string[]> } {
  const extract = tar.extract();
  const seen: string[] = [];
  extract.on('entry', (h, s, next) => {
    seen.push(h.name);
    s.resume();
    s.on('end', next);
  });
  return { extract, names: new Promise<string[]>((resolve) => extract.on('finish', () => resolve(seen))) };
}

test('decodeSnapshot: to a tar stream — the same files as entries, CHECKSUMS last', async (t) => {
  const sink = new PassThrough();
  const { extract, names } = tarNames();
  sink.pipe(extract);
  await decodeSnapshot(Readable.from([snap().toJsonl()]), { tar: sink, scratchDir: tmp(t) });
  t.deepEqual(await names, ['s3', 's3/b', 's3/b/_bucket.json', 's3/b/k', 's3/b/k.elastickv-meta.json', 'MANIFEST.json', 'CHECKSUMS']);
});

test('decodeSnapshot: to a tar stream, the small entries reach the output gathered, not a write each', async (t) => {
  const b = new SnapshotBuilder().bucket('b');
  for (let i = 0; i < 200; i++) b.putObject('b', `k${String(i).padStart(3, '0')}`, Buffer.from(`body ${i}`));
  let writes = 0;
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes++;
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  await decodeSnapshot(Readable.from([b.toJsonl()]), { tar: sink, scratchDir: tmp(t) });
  const tarBytes = Buffer.concat(chunks);
  // 200 objects, each a header and a body, a header and a sidecar: ~800 pieces from tar-stream, ~200 KiB in all.
  t.true(writes <= Math.ceil(tarBytes.length / (64 * 1024)) + 2, `${writes} writes for ${tarBytes.length} bytes`);
  const { extract, names: read } = tarNames();
  extract.end(tarBytes);
  const names = await read;
  t.is(names.filter((n) => /^s3\/b\/k\d{3}$/.test(n)).length, 200);
  t.is(names.at(-1), 'CHECKSUMS');
});

test.serial('decodeSnapshot: a large object is written past the page cache (O_DIRECT) to a directory without verification, where it is published by rename; through it with verification when under 64 MiB (its MD5 is read back), and to a tar stream (which reads it back)', async (t) => {
  const body = Buffer.alloc(200 * 1024 + 3, 'x');
  const fsm = new SnapshotBuilder().bucket('b').putObject('b', 'big', body).toFsm({ sort: true });
  const toDir = spyOnOpen(t);
  const out = path.join(tmp(t), 'dump');
  await decodeSnapshot(Readable.from([fsm]), { output: out, verify: false });
  t.true(fs.readFileSync(path.join(out, 's3/b/big')).equals(body));
  t.true(toDir.get('run-0'));
  const verified = spyOnOpen(t);
  const out2 = path.join(tmp(t), 'dump');
  await decodeSnapshot(Readable.from([fsm]), { output: out2 });
  t.true(fs.readFileSync(path.join(out2, 's3/b/big')).equals(body));
  t.is(verified.get('run-0'), false);
  const toTar = spyOnOpen(t);
  const sink = new PassThrough();
  const { extract, names } = tarNames();
  sink.pipe(extract);
  await decodeSnapshot(Readable.from([fsm]), { tar: sink, scratchDir: tmp(t), verify: false });
  t.true((await names).includes('s3/b/big'));
  t.is(toTar.get('run-0'), false);
});

test('decodeSnapshot: without an output it is ERR_USAGE; a non-empty DIR is ERR_USAGE and stays untouched', async (t) => {
  const err = await t.throwsAsync(decodeSnapshot(Readable.from([snap().toJsonl()]), {}));
  t.true(err instanceof DecodeError && err.code === 'ERR_USAGE');
  const dir = tmp(t);
  fs.writeFileSync(path.join(dir, 'keep'), 'x');
  const busy = await t.throwsAsync(decodeSnapshot(Readable.from([snap().toJsonl()]), { output: dir }));
  t.true(busy instanceof DecodeError && busy.code === 'ERR_USAGE');
  t.deepEqual(fs.readdirSync(dir), ['keep']);
});

test('decodeSnapshot: a data error rejects with its DecodeError and publishes nothing', async (t) => {
  const out = path.join(tmp(t), 'dump');
  const bad = new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('hello'), { etag: '0'.repeat(32) });
  const err = await t.throwsAsync(decodeSnapshot(Readable.from([bad.toJsonl()]), { output: out }));
  t.true(err instanceof DecodeError && err.code === 'ERR_S3_ETAG_MISMATCH', String(err));
  t.deepEqual(fs.readdirSync(path.dirname(out)), []);
});
