/**
 * Reading a dump directory's objects for restore-objects: bucket names from
 * _bucket.json, objects found by their sidecars, KEYMAP renames reversed,
 * the tool's own files and opt-in directories left out.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DecodeError } from '../lib/errors.js';
import { bucketObjects, listDumpBuckets } from '../lib/s3/dump-source.js';

function write(root: string, rel: string, data: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), data);
}

const sidecar = (etag: string, size: number, extra = '') => `{"format_version": 1, "etag": "${etag}", "size_bytes": ${size}${extra}}`;

test('objects by sidecar, original keys from KEYMAP, headers from the sidecar; reserved files and directories skipped', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-dumpsrc-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  write(root, 'MANIFEST.json', '{}');
  write(root, 's3/my%20b/_bucket.json', '{"format_version": 1, "name": "my b"}');
  write(root, 's3/my%20b/x/y.txt', 'hi');
  write(root, 's3/my%20b/x/y.txt.elastickv-meta.json', sidecar('e1', 2, ', "content_type": "text/plain", "cache_control": "no-cache", "user_metadata": {"k": "v"}'));
  write(root, 's3/my%20b/renamed.bin', 'r');
  write(root, 's3/my%20b/renamed.bin.elastickv-meta.json', sidecar('e2', 1));
  // "orig/key" as base64url: b3JpZy9rZXk
  write(root, 's3/my%20b/KEYMAP.jsonl', '{"encoded":"renamed.bin","original":"b3JpZy9rZXk","kind":"leaf-data-suffix"}\n');
  write(root, 's3/my%20b/_orphans/c.bin', 'o');
  write(root, 's3/my%20b/_orphans/c.bin.elastickv-meta.json', sidecar('e3', 1));
  write(root, 's3/my%20b/_skipped.jsonl', '');
  write(root, 's3/my%20b/lonely.elastickv-meta.json', sidecar('e4', 1));
  const buckets = listDumpBuckets(root);
  t.deepEqual(buckets.map((b) => b.name), ['my b']);
  const objs = [...bucketObjects(buckets[0]!)];
  t.deepEqual(
    objs.map((o) => [o.key.toString(), path.relative(root, o.bodyPath), o.sidecar.etag]),
    [
      ['orig/key', 's3/my%20b/renamed.bin', 'e2'],
      ['x/y.txt', 's3/my%20b/x/y.txt', 'e1'],
    ],
  );
  t.deepEqual(objs[1]!.sidecar, { etag: 'e1', size: 2, contentType: 'text/plain', cacheControl: 'no-cache', userMetadata: { k: 'v' } });
});

test('a directory that is not a dump is ERR_USAGE; a bucket without a name is refused', (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-dumpsrc-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const e = t.throws(() => listDumpBuckets(root));
  t.true(e instanceof DecodeError && e.code === 'ERR_USAGE');
  write(root, 'MANIFEST.json', '{}');
  write(root, 's3/b/_bucket.json', '{"format_version": 1}');
  const n = t.throws(() => listDumpBuckets(root));
  t.true(n instanceof DecodeError && n.code === 'ERR_S3_INVALID_BUCKET_META');
});
