import test from 'ava';
import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DecodeError } from '../lib/errors.js';
import { sortedArray } from '../lib/core/sorted-keys.js';
import { SortedKeyList } from '../lib/io/sorted-key-list.js';
import {
  assignObjectPaths,
  assignPathsOfSortedKeys,
  bucketDirName,
  enc,
  keymapOriginal,
  objectKeyId,
  orphanChunkPath,
  sidecarPath,
  type ObjectPathResult,
} from '../lib/core/names.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const u = (s: string): Buffer => Buffer.from(s, 'utf8');
const rep = (s: string, n: number): string => s.repeat(n);

// ------------------------------------------------------------------ enc()

test('enc: unreserved bytes pass through, others become uppercase %HH', (t) => {
  t.is(enc(b('AZaz09._-')), 'AZaz09._-');
  t.is(enc(u('My Bucket/ü~')), 'My%20Bucket%2F%C3%BC%7E');
  t.is(enc(b('a+b%c:d*e')), 'a%2Bb%25c%3Ad%2Ae');
  t.is(enc(Buffer.from([0x00, 0x0a, 0x7f, 0x80, 0xff])), '%00%0A%7F%80%FF');
  t.is(enc(b('')), '');
  t.is(enc(b('.')), '.');
  t.is(enc(b('..')), '..');
});

test('enc: non-UTF-8 bytes are encoded byte by byte', (t) => {
  t.is(enc(Buffer.from([0xc3, 0x28, 0xa0, 0xa1])), '%C3%28%A0%A1');
});

test('enc: 240 bytes pass, 241 fall back', (t) => {
  t.is(enc(b(rep('a', 240))), rep('a', 240));
  t.is(enc(b(rep('a', 241))), 'ec6e326ef29fe322b62111584194c54e__' + rep('a', 64));
});

test('enc: an encoding of exactly 240 passes, of 243 falls back', (t) => {
  t.is(enc(Buffer.alloc(80, 0xff)), rep('%FF', 80));
  t.is(enc(Buffer.alloc(81, 0xff)), 'b1d97d7cbbb586b86d0e71c9fd48d8aa__' + rep('%FF', 64));
});

test('enc: names that look like a fallback or b64. name fall back', (t) => {
  t.is(enc(b('0123456789abcdef0123456789ABCDEF__x')), '0a1ebe5eba653863220d4fc80ba87050__0123456789abcdef0123456789ABCDEF__x');
  t.is(enc(b('b64.x')), '261e3e281e06e9789437999358e26046__b64.x');
  // Near misses pass through.
  t.is(enc(b('0123456789abcdef0123456789abcde__x')), '0123456789abcdef0123456789abcde__x');
  t.is(enc(b('0123456789abcdef0123456789abcdef_x')), '0123456789abcdef0123456789abcdef_x');
  t.is(enc(b('0123456789abcdef0123456789abcdeg__x')), '0123456789abcdef0123456789abcdeg__x');
  t.is(enc(b('xb64.x')), 'xb64.x');
  t.is(enc(b('b64')), 'b64');
  t.is(enc(b('B64.x')), 'B64.x');
  // The trigger looks at the encoding: %-escapes are not hex digits.
  t.is(enc(b('b64 x')), 'b64%20x');
});

test('enc: long bucket name (conformance long_bucket_name)', (t) => {
  t.is(enc(b('long-' + rep('n', 295))), '6fb36a66eebdaf79e95f4d981ca4da96__long-' + rep('n', 59));
});

test('bucketDirName: enc, rejecting "", "." and ".."', (t) => {
  t.is(bucketDirName(b('bkt')), 'bkt');
  t.is(bucketDirName(u('My Bucket/ü~')), 'My%20Bucket%2F%C3%BC%7E');
  t.is(bucketDirName(b('...')), '...');
  for (const [name, detail] of [
    ['', 'bucket name is empty'],
    ['.', "bucket name is '.'"],
    ['..', "bucket name is '..'"],
  ] as const) {
    const err = t.throws(() => bucketDirName(b(name)), { instanceOf: DecodeError });
    t.is(err.code, 'ERR_S3_MALFORMED_KEY');
    t.is(err.level, 'run');
    t.is(err.detail, detail);
  }
});

test('keymapOriginal: base64url without padding', (t) => {
  t.is(keymapOriginal(b('a/b')), 'YS9i');
  t.is(keymapOriginal(b('notes.elastickv-meta.json')), 'bm90ZXMuZWxhc3RpY2t2LW1ldGEuanNvbg');
  t.is(keymapOriginal(Buffer.from([0xfb, 0xff, 0xfe])), '-__-');
  t.is(keymapOriginal(b('')), '');
});

test('sidecarPath', (t) => {
  t.deepEqual(sidecarPath(b('a/b')), b('a/b.elastickv-meta.json'));
});

// ---------------------------------------------------------------- orphans

const orphan = {
  bucket: b('bkt'),
  generation: 1n,
  object: b('lost.bin'),
  uploadId: b('up-x'),
  partNo: 1n,
  chunkNo: 0n,
  partVersion: 0n,
};

test('orphanChunkPath (conformance orphan_chunks_included_public)', (t) => {
  t.deepEqual(orphanChunkPath(orphan), b('_orphans/lost.bin/gen-1/up-x_0000000000000001_0000000000000000_0000000000000000.bin'));
});

test('orphanChunkPath: enc() names, decimal generation, 16-hex numbers', (t) => {
  const max = 0xffffffffffffffffn;
  t.deepEqual(
    orphanChunkPath({ ...orphan, object: b('a/b c'), uploadId: b('u/1'), generation: max, partNo: 10n, chunkNo: 255n, partVersion: max }),
    b('_orphans/a%2Fb%20c/gen-18446744073709551615/u%2F1_000000000000000a_00000000000000ff_ffffffffffffffff.bin'),
  );
  t.deepEqual(orphanChunkPath({ ...orphan, uploadId: b('') }), b('_orphans/lost.bin/gen-1/_0000000000000001_0000000000000000_0000000000000000.bin'));
  t.deepEqual(orphanChunkPath({ ...orphan, object: b('../x'), uploadId: b('.') }), b('_orphans/..%2Fx/gen-1/._0000000000000001_0000000000000000_0000000000000000.bin'));
  t.deepEqual(
    orphanChunkPath({ ...orphan, object: b('long-' + rep('n', 295)) }),
    b('_orphans/6fb36a66eebdaf79e95f4d981ca4da96__long-' + rep('n', 59) + '/gen-1/up-x_0000000000000001_0000000000000000_0000000000000000.bin'),
  );
});

test('orphanChunkPath: object "", "." or ".." is malformed (object level)', (t) => {
  for (const o of ['', '.', '..']) {
    const err = t.throws(() => orphanChunkPath({ ...orphan, object: b(o) }), { instanceOf: DecodeError });
    t.is(err.code, 'ERR_S3_MALFORMED_KEY');
    t.is(err.level, 'object');
    t.deepEqual(err.context.bucket, b('bkt'));
    t.deepEqual(err.context.object, b(o));
  }
});

// ----------------------------------------------------------- object paths

type Expect = string | { path: string; kind: 'meta-suffix-rename' | 's3-leaf-data' | 'sha-fallback' } | { code: string; detail?: string | RegExp };

/** Runs assignObjectPaths over keys (latin1 strings) and checks every expectation. */
function check(t: ExecutionContext, expected: Record<string, Expect>, renameCollisions = false): Map<string, ObjectPathResult> {
  const keys = Object.keys(expected);
  const res = assignObjectPaths(keys.map(b), { renameCollisions, bucket: b('bkt') });
  t.is(res.size, keys.length);
  for (const k of keys) {
    const want = expected[k]!;
    const got = res.get(k);
    if (got === undefined) {
      t.fail(`no result for ${k}`);
      continue;
    }
    if (typeof want === 'string' || 'path' in want) {
      if (got instanceof DecodeError) {
        t.fail(`${k}: ${got.code} ${got.message}`);
        continue;
      }
      const path = typeof want === 'string' ? want : want.path;
      t.is(got.path.toString('latin1'), path, k);
      if (typeof want === 'string') t.is(got.keymap, undefined, k);
      else t.deepEqual(got.keymap, { kind: want.kind, encoded: b(path) }, k);
    } else {
      if (!(got instanceof DecodeError)) {
        t.fail(`${k}: expected ${want.code}, got path ${got.path.toString('latin1')}`);
        continue;
      }
      t.is(got.code, want.code as DecodeError['code'], k);
      t.is(got.level, 'object');
      t.deepEqual(got.context.object, b(k));
      t.deepEqual(got.context.bucket, b('bkt'));
      if (typeof want.detail === 'string') t.is(got.detail, want.detail, k);
      else if (want.detail) t.regex(got.detail, want.detail, k);
    }
  }
  return res;
}

const MALFORMED_SEG = { code: 'ERR_S3_MALFORMED_KEY', detail: "object key has an empty, '.' or '..' segment" };
const MALFORMED_CHARS = { code: 'ERR_S3_MALFORMED_KEY', detail: 'object key contains NUL or backslash' };

test('plain keys map to themselves', (t) => {
  check(t, { 'file.txt': 'file.txt', 'dir/x': 'dir/x', 'space name.txt': 'space name.txt', 'percent%41.txt': 'percent%41.txt', '...': '...', 'a/.b/..c': 'a/.b/..c' });
});

test('non-UTF-8 and UTF-8 keys are used as raw path bytes', (t) => {
  const key = Buffer.from([0xff, 0xfe, 0x2f, 0x80, 0x00 + 0x41]);
  const res = assignObjectPaths([key, u('日本語/ファイル.txt')], { renameCollisions: false });
  t.deepEqual(res.get(objectKeyId(key)), { path: key });
  t.deepEqual(res.get(objectKeyId(u('日本語/ファイル.txt'))), { path: u('日本語/ファイル.txt') });
  t.is(objectKeyId(key), '\xff\xfe/\x80A');
});

test('adversarial keys are malformed (step 3)', (t) => {
  check(t, {
    '../x': MALFORMED_SEG,
    '../escape': MALFORMED_SEG,
    'a//b': MALFORMED_SEG,
    '/a': MALFORMED_SEG,
    'a/': MALFORMED_SEG,
    '/': MALFORMED_SEG,
    '.': MALFORMED_SEG,
    '..': MALFORMED_SEG,
    'x/./y': MALFORMED_SEG,
    'x/..': MALFORMED_SEG,
    'a\\b': MALFORMED_CHARS,
    '..\\x': MALFORMED_CHARS,
    'a\0b': MALFORMED_CHARS,
    '': { code: 'ERR_S3_MALFORMED_KEY', detail: 'object key is empty' },
    // A directory prefix of "a/" and "a//b", though those fail.
    a: { path: 'a.elastickv-leaf-data', kind: 's3-leaf-data' },
    good: 'good',
  });
});

test('the error message names bucket and object (as _skipped.jsonl details do)', (t) => {
  const res = assignObjectPaths([b('../escape'), b('good.txt')], { renameCollisions: false, bucket: b('bkt') });
  const r = res.get('../escape');
  t.true(r instanceof DecodeError && r.message === "bucket bkt object ../escape: object key has an empty, '.' or '..' segment");
  // Without a bucket, only the object is named.
  const r2 = assignObjectPaths([b('a\\b')], { renameCollisions: false }).get('a\\b');
  t.true(r2 instanceof DecodeError && r2.message === 'object a\\\\b: object key contains NUL or backslash');
});

test('reserved sidecar suffix: rejected without --rename-collisions', (t) => {
  check(t, {
    'notes.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION', detail: /collides with reserved sidecar suffix \.elastickv-meta\.json/ },
    'dir/x.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION' },
    '.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION' },
    'file.txt': 'file.txt',
    'x.elastickv-meta.jsonx': 'x.elastickv-meta.jsonx',
  });
});

test('reserved sidecar suffix: renamed with --rename-collisions (conformance reserved_suffix_renamed)', (t) => {
  check(
    t,
    {
      'notes.elastickv-meta.json': { path: 'notes.elastickv-meta.json.user-data', kind: 'meta-suffix-rename' },
      'dir/x.elastickv-meta.json': { path: 'dir/x.elastickv-meta.json.user-data', kind: 'meta-suffix-rename' },
      'file.txt': 'file.txt',
    },
    true,
  );
});

test('reserved sidecar suffix: rename target is also a key', (t) => {
  check(
    t,
    {
      'n.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION', detail: 'rename target n.elastickv-meta.json.user-data is also an object key' },
      'n.elastickv-meta.json.user-data': 'n.elastickv-meta.json.user-data',
    },
    true,
  );
});

test('step 1 wins over step 2 for a suffixed key that is also a directory', (t) => {
  check(t, { 'x.elastickv-meta.json': { path: 'x.elastickv-meta.json.user-data', kind: 'meta-suffix-rename' }, 'x.elastickv-meta.json/y': 'x.elastickv-meta.json/y' }, true);
  check(t, { 'x.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION' }, 'x.elastickv-meta.json/y': 'x.elastickv-meta.json/y' });
});

test('step 1 comes before the safety check', (t) => {
  check(t, { '../x.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION' } });
  check(t, { '../x.elastickv-meta.json': MALFORMED_SEG }, true);
});

test('leaf data: a/b and a/b/c (conformance leaf_data_two_level)', (t) => {
  check(t, { 'a/b': { path: 'a/b.elastickv-leaf-data', kind: 's3-leaf-data' }, 'a/b/c': 'a/b/c' });
});

test('leaf data: a, a/b, a/b/c', (t) => {
  check(t, {
    a: { path: 'a.elastickv-leaf-data', kind: 's3-leaf-data' },
    'a/b': { path: 'a/b.elastickv-leaf-data', kind: 's3-leaf-data' },
    'a/b/c': 'a/b/c',
  });
});

test('leaf data: only proper directory prefixes count', (t) => {
  // Keys that sort between "a" and "a/" ('!', '-', '.' are below '/') must not hide or fake a child.
  check(t, { a: 'a', 'a!': 'a!', 'a-/x': 'a-/x', 'a.b': 'a.b', 'a0/z': 'a0/z', 'ab/c': 'ab/c' });
  check(t, { b: { path: 'b.elastickv-leaf-data', kind: 's3-leaf-data' }, 'b!': 'b!', 'b-': 'b-', 'b.x': 'b.x', 'b/c': 'b/c', 'b0': 'b0' });
});

test('leaf data: target is also a key', (t) => {
  check(t, {
    a: { code: 'ERR_S3_META_SUFFIX_COLLISION', detail: 'leaf-data rename target a.elastickv-leaf-data is also an object key' },
    'a/b': 'a/b',
    'a.elastickv-leaf-data': 'a.elastickv-leaf-data',
  });
});

test('leaf data: renamed path needed as a directory is a conflict for the object below it only', (t) => {
  check(t, {
    a: { path: 'a.elastickv-leaf-data', kind: 's3-leaf-data' },
    'a/b': 'a/b',
    'a.elastickv-leaf-data/x': { code: 'ERR_S3_PATH_CONFLICT', detail: 'parent directory a.elastickv-leaf-data of path a.elastickv-leaf-data/x is the file of object a' },
  });
});

// Long segments.

const Y250 = rep('y', 250);
const X300 = rep('x', 300);

test('long segments (conformance long_segment_sha_fallback)', (t) => {
  check(t, {
    [Y250]: { path: '27d6177e2e701ed36f7b1df5be8b4f3c__' + rep('y', 94), kind: 'sha-fallback' },
    [`deep/${X300}/file.txt`]: { path: `deep/0d4e2ca9e9cbced7a7a5380eb29e1a37__${rep('x', 94)}/file.txt`, kind: 'sha-fallback' },
  });
});

test('long segments: directory segment of 255 stays, 256 falls back', (t) => {
  check(t, {
    [`${rep('d', 255)}/f`]: `${rep('d', 255)}/f`,
    [`p/${rep('d', 256)}/f`]: { path: `p/241c5a1d1c66d891f96a933d1e1d82eb__${rep('d', 94)}/f`, kind: 'sha-fallback' },
  });
});

test('long segments: last segment of 235 stays (235 + 20 = 255), 236 falls back', (t) => {
  check(t, {
    [rep('z', 235)]: rep('z', 235),
    [`d/${rep('z', 236)}`]: { path: `d/d947b4a0d635c9f782949b04d0670dd0__${rep('z', 94)}`, kind: 'sha-fallback' },
  });
});

test('long segments: the leaf-data suffix counts, and is kept after the fallback name', (t) => {
  check(t, {
    [rep('z', 215)]: { path: rep('z', 215) + '.elastickv-leaf-data', kind: 's3-leaf-data' },
    [`${rep('z', 215)}/c`]: `${rep('z', 215)}/c`,
    [rep('z', 216)]: { path: 'cd4f0447eac8e78c125de806333c8e43__' + rep('z', 94) + '.elastickv-leaf-data', kind: 'sha-fallback' },
    [`${rep('z', 216)}/c`]: `${rep('z', 216)}/c`,
  });
});

test('long segments: a long directory and its long leaf stay apart', (t) => {
  const L = rep('L', 300);
  const fb = '10bf7a12272b807eaaeddab8c6d7b5f8__' + rep('L', 94);
  check(t, {
    [L]: { path: fb + '.elastickv-leaf-data', kind: 'sha-fallback' },
    [`${L}/c`]: { path: `${fb}/c`, kind: 'sha-fallback' },
  });
});

test('long segments: the .user-data suffix counts, and is kept after the fallback name', (t) => {
  const q205 = rep('q', 205) + '.elastickv-meta.json'; // 225 + 10 + 20 = 255
  const q206 = rep('q', 206) + '.elastickv-meta.json';
  check(
    t,
    {
      [q205]: { path: q205 + '.user-data', kind: 'meta-suffix-rename' },
      [q206]: { path: 'ff1a39d3cf8ef8e0b4f901f29e11e172__' + rep('q', 94) + '.user-data', kind: 'sha-fallback' },
    },
    true,
  );
});

test('long segments: the fallback never splits a %HH', (t) => {
  check(t, {
    // 31 escapes = 93 bytes; a 32nd would need 96 > 94.
    [Buffer.from(rep('\u00e9', 150), 'utf8').toString('latin1')]: { path: 'cb1fa3158102cb16edae890e78baadd9__' + rep('%C3%A9', 15) + '%C3', kind: 'sha-fallback' },
    // 1 + 31 * 3 = 94: fits exactly (128 bytes).
    ['a' + rep('\xff', 300)]: { path: '95e6ee38712dc57ab05eaa60b804612e__a' + rep('%FF', 31), kind: 'sha-fallback' },
    // 2 + 30 * 3 = 92; the next %FF would need 95.
    ['ab' + rep('\xff', 300)]: { path: '70b4de579c095307a4a27651a0bac5d2__ab' + rep('%FF', 30), kind: 'sha-fallback' },
  });
});

test('long segments: fallback name equal to a real key is a conflict', (t) => {
  const literal = '27d6177e2e701ed36f7b1df5be8b4f3c__' + rep('y', 94);
  check(t, {
    [Y250]: { code: 'ERR_S3_PATH_CONFLICT', detail: `path ${literal} is also the path of object ${literal}` },
    [literal]: { code: 'ERR_S3_PATH_CONFLICT', detail: `path ${literal} is also the path of object ${Y250}` },
    other: 'other',
  });
});

test('long segments: a fallback body at another object\'s sidecar path is a conflict', (t) => {
  const seg = rep('z', 74) + '.elastickv-meta.json' + rep('q', 200);
  const short = 'a37275923b4e6b0663f80ad3c301ede9__' + rep('z', 74);
  check(t, {
    [seg]: { code: 'ERR_S3_PATH_CONFLICT', detail: `path ${short}.elastickv-meta.json is the metadata sidecar of object ${short}` },
    [short]: { code: 'ERR_S3_PATH_CONFLICT', detail: `sidecar path ${short}.elastickv-meta.json is the path of object ${seg}` },
  });
});

// Reserved names.

test('reserved first segments (step 5)', (t) => {
  const reserved = { code: 'ERR_S3_RESERVED_NAME' };
  check(t, {
    '_bucket.json': { code: 'ERR_S3_RESERVED_NAME', detail: "path _bucket.json would overwrite the dump's own _bucket.json" },
    'KEYMAP.jsonl': reserved,
    '_skipped.jsonl': reserved,
    '_orphans/x': { code: 'ERR_S3_RESERVED_NAME', detail: "path _orphans/x would overwrite the dump's own _orphans" },
    '_incomplete_uploads/y': reserved,
    '_incomplete_uploads/records.jsonl': reserved,
    'x/_bucket.json': 'x/_bucket.json',
    '_bucket.jsonx': '_bucket.jsonx',
    '_orphans2/x': '_orphans2/x',
    'keymap.jsonl': 'keymap.jsonl',
  });
});

test('reserved names apply to the resulting path', (t) => {
  check(t, {
    '_bucket.json': { path: '_bucket.json.elastickv-leaf-data', kind: 's3-leaf-data' },
    '_bucket.json/x': { code: 'ERR_S3_RESERVED_NAME' },
  });
  check(t, { 'KEYMAP.jsonl.elastickv-meta.json': { path: 'KEYMAP.jsonl.elastickv-meta.json.user-data', kind: 'meta-suffix-rename' } }, true);
});

// Conflicts.

test('a sidecar needed as a directory is a conflict for the object below it only: the sidecar owner is written', (t) => {
  check(t, {
    k: 'k',
    'k.elastickv-meta.json/x': {
      code: 'ERR_S3_PATH_CONFLICT',
      detail: 'parent directory k.elastickv-meta.json of path k.elastickv-meta.json/x is the metadata sidecar of object k',
    },
    'k2': 'k2',
  });
});

test('a renamed body needed as a directory is a conflict for the object below it only', (t) => {
  check(
    t,
    {
      'k.elastickv-meta.json': { path: 'k.elastickv-meta.json.user-data', kind: 'meta-suffix-rename' },
      'k.elastickv-meta.json.user-data/z': { code: 'ERR_S3_PATH_CONFLICT', detail: /is the file of object k\.elastickv-meta\.json$/ },
    },
    true,
  );
});

test('objects failing earlier steps take no part in conflicts', (t) => {
  // The first fails step 1 (no --rename-collisions), so no file occupies the
  // path the second needs as a directory.
  check(t, { 'k.elastickv-meta.json': { code: 'ERR_S3_META_SUFFIX_COLLISION' }, 'k.elastickv-meta.json/x': 'k.elastickv-meta.json/x' });
  // "_orphans" fails step 5; "_orphans.elastickv-leaf-data" is not taken.
  check(t, { _orphans: { code: 'ERR_S3_RESERVED_NAME' }, 'x/_orphans': 'x/_orphans' });
  check(t, { _orphans: { path: '_orphans.elastickv-leaf-data', kind: 's3-leaf-data' }, '_orphans/x': { code: 'ERR_S3_RESERVED_NAME' } });
});

test('a conflict names the bytewise smallest other key', (t) => {
  check(t, {
    p: { path: 'p.elastickv-leaf-data', kind: 's3-leaf-data' },
    'p/q': 'p/q',
    'p.elastickv-leaf-data/b': { code: 'ERR_S3_PATH_CONFLICT', detail: /is the file of object p$/ },
    'p.elastickv-leaf-data/a': { code: 'ERR_S3_PATH_CONFLICT', detail: /is the file of object p$/ },
  });
});

test('duplicate keys in the input give one result', (t) => {
  const res = assignObjectPaths([b('a'), b('a'), b('b')], { renameCollisions: false });
  t.is(res.size, 2);
  t.deepEqual(res.get('a'), { path: b('a') });
});

test('many keys: results are independent of input order', (t) => {
  const keys: string[] = [];
  for (let i = 0; i < 300; i++) keys.push(`d${i % 7}/f${i}`, `d${i % 7}`, `e/${i}/x`, `e/${i}`);
  const one = assignObjectPaths(keys.map(b), { renameCollisions: false });
  const two = assignObjectPaths([...keys].reverse().map(b), { renameCollisions: false });
  t.deepEqual([...one.entries()].sort(), [...two.entries()].sort());
  t.deepEqual(one.get('d3'), { path: b('d3.elastickv-leaf-data'), keymap: { kind: 's3-leaf-data', encoded: b('d3.elastickv-leaf-data') } });
  t.deepEqual(one.get('e/5/x'), { path: b('e/5/x') });
});

test('assignPathsOfSortedKeys without plain entries: exactly the full result minus the keys written at themselves; the same with the keys in a scratch file', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-names-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let seed = 5;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const long = 'L'.repeat(300);
  const fallback = assignObjectPaths([b(long + '/z')], { renameCollisions: false }).get(long + '/z') as { path: Buffer };
  const segs = ['a', 'a.elastickv-meta.json', 'a.user-data', 'a.elastickv-leaf-data', 'b', long, fallback.path.toString('latin1').split('/')[0]!, '_orphans', '..'];
  let conflicts = 0;
  for (let i = 0; i < 3000; i++) {
    const keys = Array.from({ length: 1 + rnd(7) }, () => Array.from({ length: 1 + rnd(3) }, () => segs[rnd(segs.length)]).join('/'));
    const sorted = [...new Set(keys)].sort();
    for (const renameCollisions of [false, true]) {
      const full = assignPathsOfSortedKeys(sortedArray(sorted), { renameCollisions }, true);
      const compact = assignPathsOfSortedKeys(sortedArray(sorted), { renameCollisions }, false);
      // On disk in blocks of 2 keys (the last one, or two, held), so searches cross blocks.
      const list = new SortedKeyList(dir, 1, 2);
      for (const k of sorted) list.add(k);
      t.true(list.onDisk);
      t.deepEqual([...list], sorted);
      t.deepEqual(assignPathsOfSortedKeys(list, { renameCollisions }, false), compact);
      list.close();
      for (const k of sorted) {
        const f = full.get(k)!;
        if (f instanceof DecodeError && f.code === 'ERR_S3_PATH_CONFLICT') conflicts++;
        const plainOk = !(f instanceof DecodeError) && f.keymap === undefined && f.path.equals(b(k));
        if (plainOk) t.false(compact.has(k));
        else t.deepEqual(compact.get(k), f);
      }
      t.deepEqual(full, assignObjectPaths(keys.map(b), { renameCollisions }));
    }
  }
  t.true(conflicts > 0);
});
