/**
 * SPEC §5.8 end to end: path safety, reserved suffix, leaf-data renames,
 * long segments, reserved first segments, path conflicts, and raw
 * (non-ASCII, non-UTF-8) key bytes as path bytes — through the real CLI,
 * JSONL and native input.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import {
  assertDump,
  assertFailure,
  bytesOf,
  dataFiles,
  decode,
  decodeBoth,
  FORMS,
  keymapLine,
  objectFiles,
  plainBucketJson,
  showPath,
  sidecar,
  skippedEntries,
  sortKeys,
  type Expected,
} from './harness.js';

const BKT = plainBucketJson('bkt');
const body = (key: string | Buffer): Buffer => bytesOf(Buffer.from(key).toString('hex'), 8);
const sha32 = (s: Buffer | string): string => createHash('sha256').update(s).digest('hex').slice(0, 32);

/** A bucket "bkt" holding these objects (body = body(key)). */
function bucketWith(keys: Array<string | Buffer>): SnapshotBuilder {
  const snap = new SnapshotBuilder().bucket('bkt');
  for (const k of keys) snap.putObject('bkt', k, body(k));
  return snap;
}

// ------------------------------------------------------------ §5.8 step 3

const UNSAFE: Array<[string, string]> = [
  ['../x', 'dot-dot segment first'],
  ['a/../b', 'dot-dot segment inside'],
  ['a//b', 'doubled slash'],
  ['/a', 'leading slash'],
  ['a/', 'trailing slash'],
  ['a\\b', 'backslash'],
  ['a\0b', 'NUL byte'],
  ['.', 'dot'],
  ['..', 'dot-dot'],
  ['a/./b', 'dot segment inside'],
  ['', 'empty key'],
];

for (const [key, what] of UNSAFE) {
  test(`§5.8 path safety: ${JSON.stringify(key)} (${what}) fails with ERR_S3_MALFORMED_KEY`, async (t) => {
    const snap = bucketWith(['good.txt', key]);
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_MALFORMED_KEY');
  });
}

test('§5.8 path safety: --keep-going skips every unsafe key, lists them in _skipped.jsonl sorted by key bytes, exit 3', async (t) => {
  const snap = bucketWith(['good.txt', ...UNSAFE.map(([k]) => k)]);
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const files = dataFiles(d);
    const skipped = files['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, {
      code: 3,
      files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'good.txt', body('good.txt')), 's3/bkt/_skipped.jsonl': skipped ?? '' },
      warnings: UNSAFE.map(() => 's3_skipped_object'),
    });
    const entries = skippedEntries(t, skipped);
    t.deepEqual(
      entries,
      sortKeys(UNSAFE.map(([k]) => k)).map((k) => [k, 'ERR_S3_MALFORMED_KEY']),
      `[${d.form}] _skipped.jsonl objects and order`,
    );
    const warned = d.log.filter((l) => l.event === 's3_skipped_object');
    t.true(
      warned.every((w) => w.bucket === 'bkt' && w.reason === 'ERR_S3_MALFORMED_KEY' && typeof w.object === 'string'),
      `[${d.form}] s3_skipped_object fields: ${JSON.stringify(warned)}`,
    );
  }
});

// ------------------------------------------------------------ §5.8 step 1

test('§5.8 reserved suffix: a key ending in .elastickv-meta.json fails with ERR_S3_META_SUFFIX_COLLISION', async (t) => {
  const snap = bucketWith(['file.txt', 'notes.elastickv-meta.json']);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_META_SUFFIX_COLLISION');
});

test('§5.8 reserved suffix: --rename-collisions writes key.user-data with a meta-suffix-rename KEYMAP record', async (t) => {
  const keys = ['file.txt', 'notes.elastickv-meta.json', 'dir/x.elastickv-meta.json'];
  const snap = bucketWith(keys);
  for (const d of await decodeBoth(t, snap, { args: ['--rename-collisions'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'file.txt', body('file.txt')),
        ...objectFiles('bkt', 'notes.elastickv-meta.json.user-data', body('notes.elastickv-meta.json')),
        ...objectFiles('bkt', 'dir/x.elastickv-meta.json.user-data', body('dir/x.elastickv-meta.json')),
        // Sorted by "encoded"; original = base64url (no padding) of the key.
        's3/bkt/KEYMAP.jsonl':
          '{"encoded":"dir/x.elastickv-meta.json.user-data","original":"ZGlyL3guZWxhc3RpY2t2LW1ldGEuanNvbg","kind":"meta-suffix-rename"}\n' +
          '{"encoded":"notes.elastickv-meta.json.user-data","original":"bm90ZXMuZWxhc3RpY2t2LW1ldGEuanNvbg","kind":"meta-suffix-rename"}\n',
      },
    });
  }
});

test('§5.8 reserved suffix: rename target that is itself an object key fails with ERR_S3_META_SUFFIX_COLLISION', async (t) => {
  const keys = ['n.elastickv-meta.json', 'n.elastickv-meta.json.user-data', 'ok'];
  const snap = bucketWith(keys);
  for (const d of await decodeBoth(t, snap, { args: ['--rename-collisions'] })) assertFailure(t, d, 'ERR_S3_META_SUFFIX_COLLISION');
  // --keep-going: only the renamed object is skipped; the other keeps its own path.
  for (const d of await decodeBoth(t, snap, { args: ['--rename-collisions', '--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, {
      code: 3,
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'n.elastickv-meta.json.user-data', body('n.elastickv-meta.json.user-data')),
        ...objectFiles('bkt', 'ok', body('ok')),
        's3/bkt/_skipped.jsonl': skipped ?? '',
      },
      warnings: ['s3_skipped_object'],
    });
    t.deepEqual(skippedEntries(t, skipped), [['n.elastickv-meta.json', 'ERR_S3_META_SUFFIX_COLLISION']]);
  }
});

// ------------------------------------------------------------ §5.8 step 2

test('§5.8 leaf data: a, a/b, a/b/c → a.elastickv-leaf-data, a/b.elastickv-leaf-data, a/b/c with s3-leaf-data KEYMAP', async (t) => {
  const snap = bucketWith(['a/b/c', 'a', 'a/b']);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'a.elastickv-leaf-data', body('a')),
        ...objectFiles('bkt', 'a/b.elastickv-leaf-data', body('a/b')),
        ...objectFiles('bkt', 'a/b/c', body('a/b/c')),
        's3/bkt/KEYMAP.jsonl':
          '{"encoded":"a.elastickv-leaf-data","original":"YQ","kind":"s3-leaf-data"}\n' +
          '{"encoded":"a/b.elastickv-leaf-data","original":"YS9i","kind":"s3-leaf-data"}\n',
      },
    });
  }
});

test('§5.8 leaf data: a rename target that is an object key fails with ERR_S3_META_SUFFIX_COLLISION', async (t) => {
  const snap = bucketWith(['a', 'a/b', 'a.elastickv-leaf-data']);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_META_SUFFIX_COLLISION');
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, {
      code: 3,
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'a/b', body('a/b')),
        ...objectFiles('bkt', 'a.elastickv-leaf-data', body('a.elastickv-leaf-data')),
        's3/bkt/_skipped.jsonl': skipped ?? '',
      },
      warnings: ['s3_skipped_object'],
    });
    t.deepEqual(skippedEntries(t, skipped), [['a', 'ERR_S3_META_SUFFIX_COLLISION']]);
  }
});

test('§5.8 leaf data: keys that are later skipped still count; manifest-less orphans and stale generations do not', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt', { generation: 2 });
  for (const k of ['p', 'p//q', 'm', 'g']) snap.putObject('bkt', k, body(k));
  snap.putObject('bkt', 'm/n', body('m/n'), { omitManifest: true }); // orphan chunks only
  snap.putObject('bkt', 'g/h', body('g/h'), { generation: 1 }); // stale generation
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, {
      code: 3,
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'p.elastickv-leaf-data', body('p')),
        ...objectFiles('bkt', 'm', body('m')),
        ...objectFiles('bkt', 'g', body('g')),
        's3/bkt/KEYMAP.jsonl': keymapLine('p.elastickv-leaf-data', 'p', 's3-leaf-data'),
        's3/bkt/_skipped.jsonl': skipped ?? '',
      },
      warnings: ['s3_orphan_chunks', 's3_skipped_object', 's3_stale_generation_objects'],
    });
    t.deepEqual(skippedEntries(t, skipped), [['p//q', 'ERR_S3_MALFORMED_KEY']]);
  }
});

// ------------------------------------------------------------ §5.8 step 4

test('§5.8 long segments: sha-fallback names (directory > 255, last + sidecar suffix > 255) with KEYMAP records; boundaries kept', async (t) => {
  const d300 = 'd'.repeat(300);
  const e300 = 'é'.repeat(150); // 300 bytes, enc = %C3%A9 × 150
  const keys = [
    `${d300}/file.txt`,
    `${d300}/other.txt`,
    `${'e'.repeat(255)}/kept-dir.txt`, // a 255-byte directory segment is fine
    'x'.repeat(235), // 235 + 20 = 255: fits
    'y'.repeat(236), // 236 + 20 = 256: falls back
    `${e300}/z`,
  ];
  const snap = bucketWith(keys);
  const dSeg = `${sha32(d300)}__${'d'.repeat(94)}`; // 32 + 2 + 94 = 128 bytes
  const ySeg = `${sha32('y'.repeat(236))}__${'y'.repeat(94)}`;
  const eSeg = `${sha32(e300)}__${'%C3%A9'.repeat(15)}%C3`; // never split a %HH: 34 + 93 = 127 bytes
  const keymap = [
    [`${dSeg}/file.txt`, keys[0]!],
    [`${dSeg}/other.txt`, keys[1]!],
    [ySeg, keys[4]!],
    [`${eSeg}/z`, keys[5]!],
  ]
    .sort((a, b) => Buffer.compare(Buffer.from(a[0]!), Buffer.from(b[0]!)))
    .map(([enc, orig]) => keymapLine(enc!, orig!, 'sha-fallback'))
    .join('');
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', `${dSeg}/file.txt`, body(keys[0]!)),
        ...objectFiles('bkt', `${dSeg}/other.txt`, body(keys[1]!)),
        ...objectFiles('bkt', keys[2]!, body(keys[2]!)),
        ...objectFiles('bkt', keys[3]!, body(keys[3]!)),
        ...objectFiles('bkt', ySeg, body(keys[4]!)),
        ...objectFiles('bkt', `${eSeg}/z`, body(keys[5]!)),
        's3/bkt/KEYMAP.jsonl': keymap,
      },
    });
  }
});

test('§5.8 long segments: sha-fallback wins over a leaf-data rename (one KEYMAP record, kind sha-fallback)', async (t) => {
  const long = 'w'.repeat(230); // 230 + 21 (.elastickv-leaf-data) + 20 > 255
  const snap = bucketWith([long, `${long}/c`]);
  for (const d of await decodeBoth(t, snap)) {
    t.is(d.code, 0, d.stderr);
    const files = dataFiles(d);
    const lines = (files['s3/bkt/KEYMAP.jsonl'] ?? Buffer.alloc(0)).toString('utf8').split('\n').filter(Boolean);
    t.is(lines.length, 1, `[${d.form}] KEYMAP: ${lines.join(' | ')}`);
    const rec = JSON.parse(lines[0] ?? '{}') as { encoded?: string; original?: string; kind?: string };
    t.is(rec.kind, 'sha-fallback');
    t.is(rec.original, Buffer.from(long).toString('base64url'));
    t.true(rec.encoded?.startsWith(`${sha32(long)}__`), `[${d.form}] encoded ${rec.encoded}`);
    t.deepEqual(files[`s3/bkt/${rec.encoded}`], body(long), `[${d.form}] body at the KEYMAP path`);
    t.deepEqual(files[`s3/bkt/${long}/c`], body(`${long}/c`));
  }
});

// ------------------------------------------------------------ §5.8 step 5

const RESERVED = ['_bucket.json', 'KEYMAP.jsonl', '_skipped.jsonl', '_orphans/x', '_orphans', '_incomplete_uploads/records.jsonl'];

for (const key of RESERVED) {
  test(`§5.8 reserved names: key ${JSON.stringify(key)} fails with ERR_S3_RESERVED_NAME`, async (t) => {
    const snap = bucketWith(['ok', key]);
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_RESERVED_NAME');
  });
}

test('§5.8 reserved names: --keep-going skips them and leaves the dump files intact; deeper or longer names are fine', async (t) => {
  const fine = ['sub/_bucket.json', '_bucket.jsonx', 'KEYMAP.jsonl.txt', '_orphansx/y'];
  const snap = bucketWith([...RESERVED, ...fine]);
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    const files: Expected = {
      's3/bkt/_bucket.json': BKT,
      's3/bkt/_skipped.jsonl': skipped ?? '',
      // "_orphans" is a directory prefix of "_orphans/x" (an object key even though it is skipped):
      // step 2 renames it, and "_orphans.elastickv-leaf-data" is not a reserved first segment.
      ...objectFiles('bkt', '_orphans.elastickv-leaf-data', body('_orphans')),
      's3/bkt/KEYMAP.jsonl': keymapLine('_orphans.elastickv-leaf-data', '_orphans', 's3-leaf-data'),
    };
    for (const k of fine) Object.assign(files, objectFiles('bkt', k, body(k)));
    const rejected = RESERVED.filter((k) => k !== '_orphans');
    assertDump(t, d, { code: 3, files, warnings: rejected.map(() => 's3_skipped_object') });
    t.deepEqual(
      skippedEntries(t, skipped),
      sortKeys(rejected).map((k) => [k, 'ERR_S3_RESERVED_NAME']),
    );
  }
});

// ------------------------------------------------------------ §5.8 step 6

test('§5.8 path conflicts: a parent that is a sidecar file fails with ERR_S3_PATH_CONFLICT', async (t) => {
  const snap = bucketWith(['k', 'k.elastickv-meta.json/x']);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_PATH_CONFLICT');
  // --keep-going: only the object below the file is skipped; the sidecar's owner is written.
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    t.is(d.code, 3, d.stderr);
    const files = dataFiles(d);
    t.deepEqual(files['s3/bkt/k'], body('k'), `[${d.form}] the sidecar's owner is written`);
    t.deepEqual(skippedEntries(t, files['s3/bkt/_skipped.jsonl']), [['k.elastickv-meta.json/x', 'ERR_S3_PATH_CONFLICT']]);
  }
});

test('§5.8 path conflicts: a sha-fallback path equal to a literal key fails with ERR_S3_PATH_CONFLICT', async (t) => {
  const d300 = 'd'.repeat(300);
  const literal = `${sha32(d300)}__${'d'.repeat(94)}/f`;
  const snap = bucketWith([`${d300}/f`, literal]);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_PATH_CONFLICT');
  // --keep-going: the conflict is reported as such (which of the two is skipped is the tool's choice).
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    t.is(d.code, 3, d.stderr);
    const entries = skippedEntries(t, dataFiles(d)['s3/bkt/_skipped.jsonl']);
    t.true(entries.length >= 1 && entries.every(([k, r]) => r === 'ERR_S3_PATH_CONFLICT' && [`${d300}/f`, literal].includes(k)), JSON.stringify(entries));
  }
});

test('§5.8 path conflicts: a sha-fallback file that is the parent of another key fails with ERR_S3_PATH_CONFLICT', async (t) => {
  const long = 'y'.repeat(236);
  const snap = bucketWith([long, `${sha32(long)}__${'y'.repeat(94)}/child`]);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_PATH_CONFLICT');
});

// ------------------------------------------------------------ raw key bytes

test('§5.8 non-ASCII and non-UTF-8 keys: key bytes are the path bytes exactly', async (t) => {
  const keys: Buffer[] = [
    Buffer.from('日本語/ファイル.txt'),
    Buffer.from('emoji/😀.bin'),
    Buffer.from('café.txt'), // UTF-8
    Buffer.from('caf\xe9.bin', 'latin1'), // latin1, invalid UTF-8
    Buffer.from([0xff, 0xfe, 0x2f, 0x80, 0xc3]), // invalid UTF-8 directory and file name
    Buffer.from('space name.txt'),
    Buffer.from('percent%41.txt'),
    Buffer.from('tab\there'),
  ];
  const snap = new SnapshotBuilder().bucket('bkt');
  for (const k of keys) snap.putObject('bkt', k, body(k));
  const files: Expected = { 's3/bkt/_bucket.json': BKT };
  for (const k of keys) {
    files[showPath(Buffer.concat([Buffer.from('s3/bkt/'), k]))] = body(k);
    files[showPath(Buffer.concat([Buffer.from('s3/bkt/'), k, Buffer.from('.elastickv-meta.json')]))] = sidecar(body(k));
  }
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files });
    // Check the raw names on disk too.
    const names = fs.readdirSync(path.join(d.root, 's3', 'bkt'), { encoding: 'buffer' });
    t.true(names.some((n) => n.equals(Buffer.from('caf\xe9.bin', 'latin1'))), `[${d.form}] raw latin1 name on disk`);
    t.true(names.some((n) => n.equals(Buffer.from([0xff, 0xfe]))), `[${d.form}] raw 0xff 0xfe directory on disk`);
    const inner = fs.readdirSync(Buffer.concat([Buffer.from(path.join(d.root, 's3', 'bkt') + '/'), Buffer.from([0xff, 0xfe])]), { encoding: 'buffer' });
    t.deepEqual(
      inner.map((n) => n.toString('hex')).sort(),
      [Buffer.from([0x80, 0xc3]), Buffer.from([0x80, 0xc3, ...Buffer.from('.elastickv-meta.json')])].map((n) => n.toString('hex')).sort(),
    );
  }
});

test('§6 bucket directories: enc() of non-ASCII and invalid UTF-8 bucket names; _bucket.json name from the key', async (t) => {
  const weird = Buffer.from([0x62, 0xff]); // "b" + invalid byte
  const snap = new SnapshotBuilder()
    .bucket('My Bucket/ü~', { owner: 'bob' })
    .putObject('My Bucket/ü~', 'k', body('k'))
    .bucket(weird)
    .putObject(weird, 'w', body('w'))
    .bucket('real', { bucketName: 'fake' })
    .putObject('real', 'r', body('r'));
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/My%20Bucket%2F%C3%BC%7E/_bucket.json': '{\n  "format_version": 1,\n  "name": "My Bucket/ü~",\n  "owner": "bob"\n}',
        ...objectFiles('My%20Bucket%2F%C3%BC%7E', 'k', body('k')),
        // The invalid byte becomes the six characters \ufffd.
        's3/b%FF/_bucket.json': '{\n  "format_version": 1,\n  "name": "b\\ufffd"\n}',
        ...objectFiles('b%FF', 'w', body('w')),
        's3/real/_bucket.json': plainBucketJson('real'),
        ...objectFiles('real', 'r', body('r')),
      },
    });
  }
});

test('§6 CHECKSUMS: keys with \\n and \\r use the escaped sha256sum form and `sha256sum -c` accepts them', async (t) => {
  const keys = ['line\nbreak.txt', 'cr\rhere', 'dir\n/x'];
  const snap = bucketWith(keys);
  for (const form of FORMS) {
    const d = await decode(t, snap, form);
    const files: Expected = { 's3/bkt/_bucket.json': BKT };
    for (const k of keys) Object.assign(files, objectFiles('bkt', k, body(k)));
    assertDump(t, d, { files }); // decode() compared CHECKSUMS with the escaped form and ran sha256sum -c
    const sums = d.tree?.files.get('CHECKSUMS')?.data.toString('utf8') ?? '';
    t.regex(sums, /^\\[0-9a-f]{64} {2}s3\/bkt\/line\\nbreak\.txt\n/m);
    t.regex(sums, /^\\[0-9a-f]{64} {2}s3\/bkt\/cr\\rhere\n/m);
  }
});

// ------------------------------------------------------------ more edges

test('§5.8 names that only look unsafe or reserved are written as-is', async (t) => {
  const keys = ['a..b', '...', '.hidden', 'x/.y', 'x/..y', 'x/...', '_BUCKET.json', 'keymap.jsonl', '_orphans_/z', ' lead space', 'q~!$*()'];
  const snap = bucketWith(keys);
  const files: Expected = { 's3/bkt/_bucket.json': BKT };
  for (const k of keys) Object.assign(files, objectFiles('bkt', k, body(k)));
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files });
});

test('§5.8 reserved suffix and leaf data together: step 1 applies, the key stays a directory for its child', async (t) => {
  const keys = ['notes', 'notes.elastickv-meta.json', 'm.elastickv-meta.json', 'm.elastickv-meta.json/child'];
  const snap = bucketWith(keys);
  for (const d of await decodeBoth(t, snap, { args: ['--rename-collisions'] })) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        // "notes" has its sidecar at notes.elastickv-meta.json; the renamed object lands beside it.
        ...objectFiles('bkt', 'notes', body('notes')),
        ...objectFiles('bkt', 'notes.elastickv-meta.json.user-data', body('notes.elastickv-meta.json')),
        ...objectFiles('bkt', 'm.elastickv-meta.json.user-data', body('m.elastickv-meta.json')),
        ...objectFiles('bkt', 'm.elastickv-meta.json/child', body('m.elastickv-meta.json/child')),
        's3/bkt/KEYMAP.jsonl':
          keymapLine('m.elastickv-meta.json.user-data', 'm.elastickv-meta.json', 'meta-suffix-rename') +
          keymapLine('notes.elastickv-meta.json.user-data', 'notes.elastickv-meta.json', 'meta-suffix-rename'),
      },
    });
  }
});

test('§5.8 leaf data: a deeper descendant alone makes a key a directory prefix', async (t) => {
  const snap = bucketWith(['q', 'q/r/s']);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'q.elastickv-leaf-data', body('q')),
        ...objectFiles('bkt', 'q/r/s', body('q/r/s')),
        's3/bkt/KEYMAP.jsonl': keymapLine('q.elastickv-leaf-data', 'q', 's3-leaf-data'),
      },
    });
  }
});

test('§6 KEYMAP.jsonl escaping: <>& raw, U+2028 escaped, invalid UTF-8 as \\ufffd; original is base64url of the raw key', async (t) => {
  const ff = Buffer.from([0xff]);
  const keys: Buffer[] = [
    Buffer.from('a<&>'),
    Buffer.from('a<&>/b'),
    Buffer.from('l\u2028'),
    Buffer.from('l\u2028/c'),
    ff,
    Buffer.concat([ff, Buffer.from('/a')]),
  ];
  const snap = new SnapshotBuilder().bucket('bkt');
  for (const k of keys) snap.putObject('bkt', k, body(k));
  const files: Expected = { 's3/bkt/_bucket.json': BKT };
  const leaf = (k: Buffer): Buffer => Buffer.concat([k, Buffer.from('.elastickv-leaf-data')]);
  const at = (rel: Buffer, k: Buffer): void => {
    files[showPath(Buffer.concat([Buffer.from('s3/bkt/'), rel]))] = body(k);
    files[showPath(Buffer.concat([Buffer.from('s3/bkt/'), rel, Buffer.from('.elastickv-meta.json')]))] = sidecar(body(k));
  };
  for (const [i, k] of keys.entries()) at(i % 2 === 0 ? leaf(k) : k, k);
  // Sorted by the encoded path bytes: "a<&>…" < "l\u2028…" < 0xff….
  const keymap =
    '{"encoded":"a<&>.elastickv-leaf-data","original":"YTwmPg","kind":"s3-leaf-data"}\n' +
    '{"encoded":"l\\u2028.elastickv-leaf-data","original":"bOKAqA","kind":"s3-leaf-data"}\n' +
    '{"encoded":"\\ufffd.elastickv-leaf-data","original":"_w","kind":"s3-leaf-data"}\n';
  files['s3/bkt/KEYMAP.jsonl'] = keymap;
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files });
});

test('§5.8 long segments: a long directory segment plus a leaf-data rename gives sha-fallback records only', async (t) => {
  const d300 = 'd'.repeat(300);
  const k214 = 'k'.repeat(214); // 214 + 21 + 20 = 255: the leaf-data name still fits
  const keys = [`${d300}/a`, `${d300}/a/b`, k214, `${k214}/c`];
  const snap = bucketWith(keys);
  const dSeg = `${sha32(d300)}__${'d'.repeat(94)}`;
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', `${dSeg}/a.elastickv-leaf-data`, body(keys[0]!)),
        ...objectFiles('bkt', `${dSeg}/a/b`, body(keys[1]!)),
        ...objectFiles('bkt', `${k214}.elastickv-leaf-data`, body(k214)),
        ...objectFiles('bkt', `${k214}/c`, body(`${k214}/c`)),
        's3/bkt/KEYMAP.jsonl':
          keymapLine(`${dSeg}/a.elastickv-leaf-data`, keys[0]!, 'sha-fallback') +
          keymapLine(`${dSeg}/a/b`, keys[1]!, 'sha-fallback') +
          keymapLine(`${k214}.elastickv-leaf-data`, k214, 's3-leaf-data'),
      },
    });
  }
});

test('§6 enc() SHA fallback for bucket directories: > 240 bytes, encoding > 240, hex32__ look-alikes, b64. prefix', async (t) => {
  const buckets = ['b64.data', `${'0123456789abcdef'.repeat(2)}__x`, `${'0123456789ABCDEF'.repeat(2)}__`, 'é'.repeat(100), 'n'.repeat(241), 'n'.repeat(240)];
  const fallback = (name: string, enc64: string): string => `${createHash('sha256').update(name).digest('hex').slice(0, 32)}__${enc64}`;
  const dirs = [
    fallback(buckets[0]!, 'b64.data'),
    fallback(buckets[1]!, `${'0123456789abcdef'.repeat(2)}__x`),
    fallback(buckets[2]!, `${'0123456789ABCDEF'.repeat(2)}__`),
    fallback(buckets[3]!, '%C3%A9'.repeat(32)), // 200 bytes, but the encoding is 600 > 240
    fallback(buckets[4]!, 'n'.repeat(64)),
    'n'.repeat(240), // exactly 240: kept
  ];
  const snap = new SnapshotBuilder();
  for (const b of buckets) snap.bucket(b).putObject(b, 'k', body(b));
  const files: Expected = {};
  buckets.forEach((b, i) => {
    files[`s3/${dirs[i]}/_bucket.json`] = plainBucketJson(b);
    Object.assign(files, objectFiles(dirs[i]!, 'k', body(b)));
  });
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files });
});

test('§5.8 path conflicts: a leaf-data target that another key needs as a directory fails with ERR_S3_PATH_CONFLICT', async (t) => {
  const snap = bucketWith(['a', 'a/b', 'a.elastickv-leaf-data/x']);
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_PATH_CONFLICT');
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    t.is(d.code, 3, d.stderr);
    const files = dataFiles(d);
    t.deepEqual(files['s3/bkt/a/b'], body('a/b'), `[${d.form}] the uninvolved object is written`);
    t.deepEqual(files['s3/bkt/a.elastickv-leaf-data'], body('a'), `[${d.form}] the renamed file's owner is written`);
    t.deepEqual(skippedEntries(t, files['s3/bkt/_skipped.jsonl']), [['a.elastickv-leaf-data/x', 'ERR_S3_PATH_CONFLICT']]);
  }
});
