import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFacts, parseChecksumsLine } from '../../lib/verify/check.js';
import { FactLog, pathRole, type Fact } from '../../lib/verify/facts.js';

const H = (c: string) => c.repeat(64);

test('CHECKSUMS lines: plain and sha256sum-escaped forms', (t) => {
  t.deepEqual(parseChecksumsLine(Buffer.from(`${H('A')}  s3/b/x y`)), { path: Buffer.from('s3/b/x y'), sha256: H('a') });
  t.deepEqual(parseChecksumsLine(Buffer.from(`\\${H('b')}  s3/a\\nb\\\\c\\rd`)), { path: Buffer.from('s3/a\nb\\c\rd'), sha256: H('b') });
  t.is(parseChecksumsLine(Buffer.from(`${H('b')} s3/x`)), 'not a "<sha256>  <path>" line');
  t.is(parseChecksumsLine(Buffer.from(`${H('g')}  s3/x`)), 'the digest is not 64 hex digits');
  t.is(parseChecksumsLine(Buffer.from(`\\${H('b')}  s3/\\x`)), 'invalid escape in the path');
});

test('path roles', (t) => {
  const r = (s: string) => pathRole(Buffer.from(s)).role;
  t.is(r('MANIFEST.json'), 'manifest');
  t.is(r('CHECKSUMS'), 'checksums');
  t.is(r('s3/b'), 'stray');
  t.is(r('other'), 'stray');
  t.is(r('s3/b/_bucket.json'), 'bucket-json');
  t.is(r('s3/b/x/_bucket.json'), 'body');
  t.is(r('s3/b/KEYMAP.jsonl'), 'keymap');
  t.is(r('s3/b/_skipped.jsonl'), 'skipped');
  t.is(r('s3/b/_orphans/o/gen-1/x.bin'), 'orphans');
  t.is(r('s3/b/_incomplete_uploads/records.jsonl'), 'incomplete-uploads');
  t.is(r('s3/b/a.elastickv-meta.json'), 'sidecar');
  t.is(r('s3/b/d/.elastickv-meta.json'), 'body');
  t.deepEqual(pathRole(Buffer.from('s3/b/a/x.elastickv-meta.json')), { role: 'sidecar', bucketDir: 'b', body: Buffer.from('s3/b/a/x') });
});

test('the checks, one path at a time, in path order, through a spilling sort', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-check-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const log = new FactLog(dir, 512);
  const add = (p: string, f: Fact) => log.add(Buffer.from(p), f);
  // A good body with its sidecar.
  await add('s3/b/ok', { t: 'file', size: 1 });
  await add('s3/b/ok', { t: 'hash', size: 1, sha256: H('1'), md5: '0cc175b9c0f1b6a831c399e269772661' });
  await add('s3/b/ok', { t: 'listed', sha256: H('1') });
  await add('s3/b/ok', { t: 'sidecar', size: 1, etag: '"0CC175B9C0F1B6A831C399E269772661"' });
  // Listed twice, wrong hash, wrong size, composite etag (not checked).
  await add('s3/b/bad', { t: 'file', size: 2 });
  await add('s3/b/bad', { t: 'hash', size: 2, sha256: H('2'), md5: H('0').slice(0, 32) });
  await add('s3/b/bad', { t: 'listed', sha256: H('3') });
  await add('s3/b/bad', { t: 'listed', sha256: H('3') });
  await add('s3/b/bad', { t: 'sidecar', size: 3, etag: `${H('0').slice(0, 32)}-2` });
  await add('CHECKSUMS', { t: 'listed', sha256: H('4') });
  await add('s3/b/gone', { t: 'keymap', encodedUtf8Lossy: true });
  const problems: string[] = [];
  await checkFacts(log, (p) => problems.push(`${p.path}: ${p.message}`));
  await log.close();
  t.deepEqual(problems, [
    'CHECKSUMS: CHECKSUMS lists itself',
    's3/b/bad: listed 2 times in CHECKSUMS',
    `s3/b/bad: SHA-256 ${H('2')} does not match CHECKSUMS (${H('3')})`,
    's3/b/bad: size 2 != sidecar size_bytes 3',
    's3/b/gone: KEYMAP names this path but it is not valid UTF-8, so KEYMAP cannot name it losslessly',
  ]);
});
