/**
 * SPEC §5.2–§5.6 end to end: which chunks make a body (upload ids, part
 * versions, zero-chunk parts), set-based chunk verification, zero-byte
 * objects, offloaded parts (chunkref + chunkblob), size and ETag
 * verification — through the real CLI, JSONL and native input.
 */
import test from 'ava';
import * as K from '../helpers/keys.js';
import {
  chunkrefValue,
  compositeEtag,
  DEFAULT_LAST_MODIFIED_HLC,
  md5hex,
  sha256,
  SnapshotBuilder,
  toJson,
  type JsonValue,
  type PutObjectOptions,
} from '../helpers/snapshot.js';
import {
  assertDump,
  assertFailure,
  bytesOf,
  dataFiles,
  decodeBoth,
  hasPrefix,
  objectFiles,
  plainBucketJson,
  rebuild,
  skippedEntries,
  type Expected,
} from './harness.js';

const BKT = plainBucketJson('bkt');
const junk = (n: number, seed = 'junk'): Buffer => bytesOf(seed, n);

/** A bucket with one object "obj" (plus a healthy "ok.txt"). */
function one(body: Buffer, opts: PutObjectOptions): SnapshotBuilder {
  return new SnapshotBuilder().bucket('bkt').putObject('bkt', 'ok.txt', Buffer.from('fine')).putObject('bkt', 'obj', body, opts);
}
const okFiles: Expected = { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'ok.txt', Buffer.from('fine')) };

// ------------------------------------------------------------ §5.3 upload ids

test('§5.3 stale upload ids: chunks of another upload are ignored', async (t) => {
  const live = bytesOf('live', 10);
  const snap = one(live, {
    uploadId: 'up-2',
    chunkSize: 4,
    extraChunks: [
      { partNo: 1, chunkNo: 0, data: junk(4), uploadId: 'up-1' },
      { partNo: 1, chunkNo: 1, data: junk(4, 'j2'), uploadId: 'up-1' },
      { partNo: 1, chunkNo: 7, data: junk(4, 'j3'), uploadId: 'up-1' }, // an index the live upload lacks
    ],
  });
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', live) } });
});

test('§5.3 empty upload_id: no filter — chunks of any upload are used; two uploads for one index are ERR_S3_INCOMPLETE_BLOB_CHUNKS', async (t) => {
  const live = bytesOf('live', 10);
  const snap = one(live, { uploadId: 'up-x', chunkSize: 4, manifestPatch: { upload_id: '' } });
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', live) } });

  const dup = one(live, {
    uploadId: 'up-x',
    chunkSize: 4,
    manifestPatch: { upload_id: '' },
    extraChunks: [{ partNo: 1, chunkNo: 1, data: live.subarray(4, 8), uploadId: 'up-y' }],
  });
  for (const d of await decodeBoth(t, dup)) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
});

// ------------------------------------------------------------ §5.3 part versions

test('§5.3 stale part versions: chunks of other part versions are ignored', async (t) => {
  const single = bytesOf('single', 10);
  const multi = bytesOf('multi', 15);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'single', single, {
      chunkSize: 4,
      partVersion: 5,
      extraChunks: [
        { partNo: 1, chunkNo: 0, partVersion: 3, data: junk(4) }, // older version
        { partNo: 1, chunkNo: 1, partVersion: 0, data: junk(4, 'j0') }, // unversioned
        { partNo: 1, chunkNo: 3, partVersion: 4, data: junk(2, 'j4') }, // index beyond the live count
      ],
    })
    .putObject('bkt', 'multi', multi, {
      parts: 3,
      chunkSize: 2,
      partVersion: [2, 0, 9],
      extraChunks: [
        { partNo: 1, chunkNo: 0, partVersion: 1, data: junk(2) },
        { partNo: 2, chunkNo: 0, partVersion: 1, data: junk(2, 'x') },
        { partNo: 3, chunkNo: 2, partVersion: 8, data: junk(1, 'y') },
      ],
    });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'single', single),
        ...objectFiles('bkt', 'multi', multi, { etag: compositeEtag([multi.subarray(0, 5), multi.subarray(5, 10), multi.subarray(10)]) }),
      },
    });
  }
});

// ------------------------------------------------------------ §5.5 completeness

test('§5.5 missing chunk index fails with ERR_S3_INCOMPLETE_BLOB_CHUNKS (also with --no-verify)', async (t) => {
  const b = bytesOf('b', 12);
  for (const omit of [[1], [2], [0, 1, 2]]) {
    const snap = one(b, { chunkSize: 4, omitChunks: omit });
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  }
  const mp = one(b, { parts: 2, chunkSize: 4, omitChunks: [{ partNo: 2, chunkNo: 0 }] });
  for (const d of await decodeBoth(t, mp, { args: ['--no-verify'] })) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
});

test('§5.5 extra chunk index fails with ERR_S3_INCOMPLETE_BLOB_CHUNKS (also with --no-verify)', async (t) => {
  const b = bytesOf('b', 12);
  const snap = one(b, { chunkSize: 4, extraChunks: [{ partNo: 1, chunkNo: 3, data: junk(4) }] });
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  for (const d of await decodeBoth(t, snap, { args: ['--no-verify'] })) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  // --keep-going: the object is skipped, its neighbour written.
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, { code: 3, files: { ...okFiles, 's3/bkt/_skipped.jsonl': skipped ?? '' }, warnings: ['s3_skipped_object'] });
    t.deepEqual(skippedEntries(t, skipped), [['obj', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS']]);
  }
});

test('§5.3 zero-chunk parts: stray blob and chunkref chunks of a chunk_count-0 part are ignored; its empty MD5 counts in H-N', async (t) => {
  const b = bytesOf('gap', 11);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'gap', b, {
      parts: [0, 6, 5],
      chunkSize: 4,
      extraChunks: [
        { partNo: 1, chunkNo: 0, data: junk(4) },
        { partNo: 1, chunkNo: 1, data: junk(3, 'j1') },
      ],
    })
    .putObject('bkt', 'gap-off', b, { parts: [6, 0, 5], chunkSize: 4, offloaded: true });
  // A stray chunkref (and its chunkblob) for the empty offloaded part 2.
  const stray = junk(4, 'stray');
  snap.record(K.chunkrefKey({ bucket: 'bkt', generation: 1, object: 'gap-off', uploadId: 'up-1', partNo: 2, chunkNo: 0 }), chunkrefValue(stray));
  snap.record(K.chunkblobKey(sha256(stray)), stray);
  const etag = compositeEtag([Buffer.alloc(0), b.subarray(0, 6), b.subarray(6)]);
  const etagOff = compositeEtag([b.subarray(0, 6), Buffer.alloc(0), b.subarray(6)]);
  t.is(etag.endsWith('-3'), true);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'gap', b, { etag }), ...objectFiles('bkt', 'gap-off', b, { etag: etagOff }) },
    });
  }
});

test('§5.3 zero-byte objects: empty body file plus sidecar (no parts, and one empty part)', async (t) => {
  const empty = Buffer.alloc(0);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'empty', empty)
    .putObject('bkt', 'empty-with-meta', empty, { contentType: '', userMetadata: { k: 'v' } })
    .putObject('bkt', 'empty-mp', empty, { parts: [0] });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt"\n}',
        's3/bkt/empty': '',
        's3/bkt/empty.elastickv-meta.json':
          '{\n  "format_version": 1,\n  "etag": "d41d8cd98f00b204e9800998ecf8427e",\n  "size_bytes": 0,\n' +
          '  "last_modified": "2024-04-29T12:34:56.123Z",\n  "content_type": "application/octet-stream"\n}',
        's3/bkt/empty-with-meta': '',
        's3/bkt/empty-with-meta.elastickv-meta.json':
          '{\n  "format_version": 1,\n  "etag": "d41d8cd98f00b204e9800998ecf8427e",\n  "size_bytes": 0,\n' +
          '  "last_modified": "2024-04-29T12:34:56.123Z",\n  "user_metadata": {\n    "k": "v"\n  }\n}',
        ...objectFiles('bkt', 'empty-mp', empty, { etag: compositeEtag([empty]) }),
      },
    });
  }
});

// ------------------------------------------------------------ §5.4 offloaded parts

/** A version-2 chunkref value (SPEC §5.4) with replicas. */
function chunkrefV2(payload: Buffer, replicas: Array<[string, string]>, peer = 'n1'): Buffer {
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return b;
  };
  const str = (s: string): Buffer => Buffer.concat([u16(Buffer.byteLength(s)), Buffer.from(s)]);
  const size = Buffer.alloc(8);
  size.writeBigUInt64BE(BigInt(payload.length));
  return Buffer.concat([Buffer.from([2]), sha256(payload), size, str(peer), u16(replicas.length), ...replicas.flatMap(([id, addr]) => [str(id), str(addr)])]);
}

test('§5.4 offloaded parts: chunkref + chunkblob bodies (v1, v2 refs, chunk_ref_version, upper-case hex, mixed with blob parts)', async (t) => {
  const off = bytesOf('off', 10);
  const offV = bytesOf('offv', 9);
  const offMp = bytesOf('offmp', 13);
  const v2 = bytesOf('v2', 7);
  const upper = bytesOf('upper', 6);
  let snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'off', off, { offloaded: true, chunkSize: 4 })
    .putObject('bkt', 'off-versioned', offV, { offloaded: true, chunkSize: 4, partVersion: 7 })
    .putObject('bkt', 'off-multipart', offMp, { offloaded: true, chunkSize: 3, parts: 2 })
    .putObject('bkt', 'v2', v2, { offloaded: true, chunkSize: 4, uploadId: 'up-v2' })
    .putObject('bkt', 'upper', upper, { offloaded: true, chunkSize: 4, uploadId: 'up-upper' });
  const v2Ref = (k: Buffer): boolean => hasPrefix(k, '!s3|chunkref|') && k.includes(Buffer.from('up-v2'));
  const upperBlobs = new Set([upper.subarray(0, 4), upper.subarray(4)].map((c) => sha256(c).toString('hex')));
  snap = rebuild(snap, (e) => {
    if (v2Ref(e.key) && e.value) {
      // Same payload digest/size; a v2 value with two replicas.
      const digest = e.value.subarray(1, 33).toString('hex');
      const payload = [v2.subarray(0, 4), v2.subarray(4)].find((c) => sha256(c).toString('hex') === digest)!;
      return { ...e, value: chunkrefV2(payload, [['node-2', '10.0.0.2:7000'], ['node-3', '[::1]:7001']]) };
    }
    if (hasPrefix(e.key, '!s3|chunkblob|')) {
      const hex = e.key.subarray('!s3|chunkblob|'.length).toString('latin1');
      if (upperBlobs.has(hex)) return { ...e, key: K.chunkblobKey(hex.toUpperCase()) };
    }
    return e;
  });

  // A mixed object: part 1 as blob chunks, part 2 offloaded; a stray blob chunk for the offloaded part is ignored.
  const p1 = bytesOf('mixed-1', 6);
  const p2 = bytesOf('mixed-2', 5);
  const addr = (partNo: number, chunkNo: number): K.ChunkKeyParts => ({ bucket: 'bkt', generation: 1, object: 'mixed', uploadId: 'up-m', partNo, chunkNo });
  snap.record(K.blobKey(addr(1, 0)), p1.subarray(0, 4)).record(K.blobKey(addr(1, 1)), p1.subarray(4));
  for (const [i, c] of [p2.subarray(0, 4), p2.subarray(4)].entries()) {
    snap.record(K.chunkrefKey(addr(2, i)), chunkrefValue(c)).record(K.chunkblobKey(sha256(c)), c);
  }
  snap.record(K.blobKey(addr(2, 0)), junk(4));
  const mixed = Buffer.concat([p1, p2]);
  snap.record(
    K.manifestKey('bkt', 1, 'mixed'),
    toJson({
      upload_id: 'up-m',
      etag: compositeEtag([p1, p2]),
      size_bytes: 11,
      last_modified_hlc: DEFAULT_LAST_MODIFIED_HLC,
      content_type: 'application/octet-stream',
      parts: [
        { part_no: 1, etag: md5hex(p1), size_bytes: 6, chunk_count: 2, chunk_sizes: [4, 2] },
        { part_no: 2, etag: md5hex(p2), size_bytes: 5, chunk_count: 2, chunk_sizes: [4, 1], offloaded: true },
      ],
    }),
  );

  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'off', off),
        ...objectFiles('bkt', 'off-versioned', offV),
        ...objectFiles('bkt', 'off-multipart', offMp, { etag: compositeEtag([offMp.subarray(0, 7), offMp.subarray(7)]) }),
        ...objectFiles('bkt', 'v2', v2),
        ...objectFiles('bkt', 'upper', upper),
        ...objectFiles('bkt', 'mixed', mixed, { etag: compositeEtag([p1, p2]) }),
      },
    });
  }
});

test('§5.4 offloaded: a chunkblob that does not hash to its key fails with ERR_S3_CHUNKBLOB_HASH_MISMATCH, even unreferenced and with --keep-going', async (t) => {
  const b = bytesOf('off', 10);
  const referenced = rebuild(one(b, { offloaded: true, chunkSize: 4 }), (e) =>
    hasPrefix(e.key, '!s3|chunkblob|') && e.value?.equals(b.subarray(4, 8)) ? { ...e, value: junk(4) } : e,
  );
  const unreferenced = one(b, {}).record(K.chunkblobKey(sha256(Buffer.from('something'))), Buffer.from('something else'));
  for (const snap of [referenced, unreferenced]) {
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_CHUNKBLOB_HASH_MISMATCH');
  }
  for (const d of await decodeBoth(t, unreferenced, { args: ['--keep-going', '--no-verify'] })) assertFailure(t, d, 'ERR_S3_CHUNKBLOB_HASH_MISMATCH');
});

test('§5.4 offloaded: a missing chunkblob is a missing chunk (ERR_S3_INCOMPLETE_BLOB_CHUNKS)', async (t) => {
  const b = bytesOf('off', 10);
  const snap = rebuild(one(b, { offloaded: true, chunkSize: 4 }), (e) =>
    hasPrefix(e.key, '!s3|chunkblob|') && e.value?.equals(b.subarray(8)) ? null : e,
  );
  for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, { code: 3, files: { ...okFiles, 's3/bkt/_skipped.jsonl': skipped ?? '' }, warnings: ['s3_skipped_object'] });
    t.deepEqual(skippedEntries(t, skipped), [['obj', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS']]);
  }
});

test('§5.4 offloaded: ref size or chunk_sizes disagreeing with the chunkblob fails with ERR_S3_INVALID_CHUNKREF (object level, also --no-verify)', async (t) => {
  const b = bytesOf('off', 10);
  // The ref claims 5 bytes for a 4-byte chunkblob.
  const refSize = rebuild(one(b, { offloaded: true, chunkSize: 4 }), (e) => {
    if (!hasPrefix(e.key, '!s3|chunkref|') || !e.value) return e;
    const v = Buffer.from(e.value);
    if (v.readBigUInt64BE(33) === 4n) v.writeBigUInt64BE(5n, 33);
    return { ...e, value: v };
  });
  // The manifest's chunk_sizes say [4, 5, 1] for chunkblobs of 4, 4, 2 bytes (sum still 10).
  const manifestSizes = one(b, {
    offloaded: true,
    chunkSize: 4,
    manifestPatch: { parts: [{ part_no: 1, etag: md5hex(b), size_bytes: 10, chunk_count: 3, chunk_sizes: [4, 5, 1], offloaded: true }] },
  });
  for (const snap of [refSize, manifestSizes]) {
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, 'ERR_S3_INVALID_CHUNKREF');
    for (const d of await decodeBoth(t, snap, { args: ['--keep-going', '--no-verify'] })) {
      const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
      assertDump(t, d, { code: 3, files: { ...okFiles, 's3/bkt/_skipped.jsonl': skipped ?? '' }, warnings: ['s3_skipped_object'] });
      t.deepEqual(skippedEntries(t, skipped), [['obj', 'ERR_S3_INVALID_CHUNKREF']]);
    }
  }
});

test('§5.4 offloaded: an undecodable chunkref value fails the run with ERR_S3_INVALID_CHUNKREF, even with --keep-going', async (t) => {
  const b = bytesOf('off', 10);
  const snap = rebuild(one(b, { offloaded: true, chunkSize: 4 }), (e) =>
    hasPrefix(e.key, '!s3|chunkref|') && e.value ? { ...e, value: Buffer.concat([e.value, Buffer.from([0])]) } : e,
  );
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) assertFailure(t, d, 'ERR_S3_INVALID_CHUNKREF');
});

test('§8 an undecodable chunkref value fails the run wherever it sits; a tombstoned or superseded one does not count', async (t) => {
  const junkRef = Buffer.from([1, 2, 3]);
  const ref = (object: string, o: { generation?: number; uploadId?: string; partNo?: number; partVersion?: number } = {}) =>
    K.chunkrefKey({ bucket: 'bkt', generation: o.generation ?? 1, object, uploadId: o.uploadId ?? 'up-1', partNo: o.partNo ?? 1, chunkNo: 0, ...(o.partVersion ? { partVersion: o.partVersion } : {}) });
  const places: Array<[string, Buffer]> = [
    ['orphan (no manifest)', ref('orphan')],
    ['stale generation', ref('ok.txt', { generation: 7 })],
    ['another upload', ref('ok.txt', { uploadId: 'other' })],
    ['undeclared part', ref('ok.txt', { partNo: 9 })],
    ['undeclared part version', ref('ok.txt', { partVersion: 3 })],
  ];
  for (const [where, key] of places) {
    const snap = one(bytesOf('b', 10), {}).record(key, junkRef);
    for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
      assertFailure(t, d, 'ERR_S3_INVALID_CHUNKREF');
      t.true(d.stderr.includes('ERR_S3_INVALID_CHUNKREF'), `${where} [${d.form}]`);
    }
  }
  const key = ref('orphan');
  const good = chunkrefValue(Buffer.from('x'));
  for (const [what, snap] of [
    ['tombstoned', one(bytesOf('b', 10), {}).record(key, junkRef, { commitTs: 1 }).tombstone(key, 2)],
    ['superseded (bad version first)', one(bytesOf('b', 10), {}).record(key, junkRef, { commitTs: 1 }).record(key, good, { commitTs: 2 })],
    ['superseded (bad version last)', one(bytesOf('b', 10), {}).record(key, good, { commitTs: 2 }).record(key, junkRef, { commitTs: 1 })],
  ] as const) {
    for (const d of await decodeBoth(t, snap)) t.is(d.code, 0, `${what} [${d.form}]: ${d.stderr}`);
  }
});

test('§5.2 offloaded part whose chunk_sizes length differs from chunk_count fails with ERR_S3_INVALID_MANIFEST', async (t) => {
  const b = bytesOf('off', 10);
  const snap = one(b, {
    offloaded: true,
    chunkSize: 4,
    manifestPatch: { parts: [{ part_no: 1, etag: md5hex(b), size_bytes: 10, chunk_count: 3, chunk_sizes: [4, 4], offloaded: true }] },
  });
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) assertFailure(t, d, 'ERR_S3_INVALID_MANIFEST');
});

// ------------------------------------------------------------ §5.6 size and ETag

const partJson = (p: Buffer, over: Record<string, JsonValue> = {}): { [k: string]: JsonValue } => ({
  part_no: 1,
  etag: md5hex(p),
  size_bytes: p.length,
  chunk_count: Math.ceil(p.length / 4),
  chunk_sizes: Array.from({ length: Math.ceil(p.length / 4) }, (_, i) => Math.min(4, p.length - 4 * i)),
  ...over,
});

const b10 = bytesOf('ten', 10);
const mp = bytesOf('mp', 15);
const mpParts = [mp.subarray(0, 5), mp.subarray(5, 10), mp.subarray(10)];

/** [name, put options, code] — each a single defect. */
const DEFECTS: Array<[string, Buffer, PutObjectOptions, string]> = [
  ['object size_bytes', b10, { chunkSize: 4, manifestPatch: { size_bytes: 9 } }, 'ERR_S3_SIZE_MISMATCH'],
  ['part size_bytes', b10, { chunkSize: 4, manifestPatch: { parts: [partJson(b10, { size_bytes: 11 })] } }, 'ERR_S3_SIZE_MISMATCH'],
  ['chunk_sizes values', b10, { chunkSize: 4, manifestPatch: { parts: [partJson(b10, { chunk_sizes: [4, 3, 3] })] } }, 'ERR_S3_SIZE_MISMATCH'],
  ['chunk_sizes count', b10, { chunkSize: 4, manifestPatch: { parts: [partJson(b10, { chunk_sizes: [4, 6] })] } }, 'ERR_S3_SIZE_MISMATCH'],
  ['object etag', b10, { chunkSize: 4, etag: md5hex(Buffer.from('other')) }, 'ERR_S3_ETAG_MISMATCH'],
  ['part etag', b10, { chunkSize: 4, manifestPatch: { parts: [partJson(b10, { etag: md5hex(Buffer.from('x')) })] } }, 'ERR_S3_ETAG_MISMATCH'],
  ['composite etag hash', mp, { parts: 3, chunkSize: 4, etag: `${md5hex(mp)}-3` }, 'ERR_S3_ETAG_MISMATCH'],
  ['composite etag part count', mp, { parts: 3, chunkSize: 4, etag: compositeEtag(mpParts).replace(/-3$/, '-4') }, 'ERR_S3_ETAG_MISMATCH'],
];

for (const [name, body, opts, code] of DEFECTS) {
  test(`§5.6 verification: wrong ${name} fails with ${code}; --no-verify writes it`, async (t) => {
    const snap = one(body, opts);
    for (const d of await decodeBoth(t, snap)) assertFailure(t, d, code);
    for (const d of await decodeBoth(t, snap, { args: ['--no-verify'] })) {
      t.is(d.code, 0, d.stderr);
      const files = dataFiles(d);
      t.deepEqual(files['s3/bkt/obj'], body, `[${d.form}] body`);
      t.truthy(files['s3/bkt/obj.elastickv-meta.json'], `[${d.form}] sidecar`);
    }
  });
}

test('§5.6 restored cluster: one part whose etag is the object\'s H-N (N > 1) decodes with verification on, counted as etag unverifiable', async (t) => {
  // What elastickv's encoder writes for a formerly multipart object: the
  // original composite, on the object and on its one part.
  const restored = `"${compositeEtag(mpParts).toUpperCase()}"`;
  const snap = one(b10, { chunkSize: 4, etag: restored, manifestPatch: { parts: [partJson(b10, { etag: compositeEtag(mpParts) })] } });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', b10, { etag: restored }) } });
    const summary = d.log.find((l) => l.event === 'summary');
    t.is(summary?.etagUnverifiable, 1, `[${d.form}] summary: ${JSON.stringify(summary)}`);
  }
  const text = await decodeBoth(t, snap, { textLog: true });
  for (const d of text) t.regex(d.stderr, /, 1 etag_unverifiable;/);
  // --no-verify checks nothing, so counts nothing.
  for (const d of await decodeBoth(t, snap, { args: ['--no-verify'] })) t.is(d.log.find((l) => l.event === 'summary')?.etagUnverifiable, 0);
  // Not exempt: N = 1, a part etag other than the object's, two parts for H-3.
  const h = compositeEtag(mpParts).slice(0, 32);
  for (const opts of [
    { chunkSize: 4, etag: `${h}-1`, manifestPatch: { parts: [partJson(b10, { etag: `${h}-1` })] } },
    { chunkSize: 4, etag: `${h}-3`, manifestPatch: { parts: [partJson(b10, { etag: `${h}-2` })] } },
    { chunkSize: 4, etag: `${h}-3`, parts: 2 },
  ] satisfies PutObjectOptions[]) {
    for (const d of await decodeBoth(t, one(b10, opts))) assertFailure(t, d, 'ERR_S3_ETAG_MISMATCH');
  }
});

// Chunks of ≥ 64 KiB make the body one spilled run, whose hashes are
// computed while spilling: per part only (no whole-body MD5 stream). A plain
// MD5 ETag on such a multipart body must still be checked against the body.
const bigMp = bytesOf('big-mp', 500_000);
const bigMpOpts = { parts: [200_000, 200_000, 100_000], chunkSize: 80_000 };

test('§5.6 verification: a multipart body in one run with a plain MD5 ETag is checked against MD5(body)', async (t) => {
  const good = one(bigMp, { ...bigMpOpts, etag: md5hex(bigMp) });
  for (const d of await decodeBoth(t, good)) {
    assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', bigMp, { etag: md5hex(bigMp) }) } });
  }
  // The composite ETag of these parts is right, but a plain ETag must be the body's MD5.
  const bad = one(bigMp, { ...bigMpOpts, etag: md5hex(bigMp.subarray(0, 200_000)) });
  for (const d of await decodeBoth(t, bad)) assertFailure(t, d, 'ERR_S3_ETAG_MISMATCH');
});

test('§5.6 verification: --no-verify sidecar keeps the manifest values; --keep-going lists each defect with its code', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt');
  DEFECTS.forEach(([, body, opts], i) => snap.putObject('bkt', `bad-${i}`, body, opts));
  snap.putObject('bkt', 'good-mp', mp, { parts: 3, chunkSize: 4 });
  for (const d of await decodeBoth(t, snap, { args: ['--keep-going'] })) {
    const skipped = dataFiles(d)['s3/bkt/_skipped.jsonl'];
    assertDump(t, d, {
      code: 3,
      files: {
        's3/bkt/_bucket.json': BKT,
        ...objectFiles('bkt', 'good-mp', mp, { etag: compositeEtag(mpParts) }),
        's3/bkt/_skipped.jsonl': skipped ?? '',
      },
      warnings: DEFECTS.map(() => 's3_skipped_object'),
    });
    t.deepEqual(skippedEntries(t, skipped), DEFECTS.map(([, , , code], i) => [`bad-${i}`, code]));
  }
  // --no-verify: the sidecar says what the manifest says.
  const nv = one(b10, { chunkSize: 4, manifestPatch: { size_bytes: 9 }, etag: 'ffffffffffffffffffffffffffffffff' });
  for (const d of await decodeBoth(t, nv, { args: ['--no-verify'] })) {
    assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', b10, { size: 9, etag: 'ffffffffffffffffffffffffffffffff' }) } });
  }
});

test('§5.6 verification: quoted upper-case ETags match; other ETag shapes are not checked', async (t) => {
  const q = bytesOf('q', 12);
  const opaque = bytesOf('opaque', 5);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'quoted', q, { etag: `"${md5hex(q).toUpperCase()}"` })
    .putObject('bkt', 'quoted-mp', mp, { parts: 3, etag: `"${compositeEtag(mpParts).toUpperCase()}"` })
    .putObject('bkt', 'opaque', opaque, { etag: 'not-an-md5' })
    .putObject('bkt', 'short-hex', opaque, { etag: 'abc-2' });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        // The sidecar keeps the ETag exactly as stored: quotes escaped by Go's encoder.
        's3/bkt/quoted': q,
        's3/bkt/quoted.elastickv-meta.json':
          `{\n  "format_version": 1,\n  "etag": "\\"${md5hex(q).toUpperCase()}\\"",\n  "size_bytes": 12,\n` +
          '  "last_modified": "2024-04-29T12:34:56.123Z",\n  "content_type": "application/octet-stream"\n}',
        ...objectFiles('bkt', 'quoted-mp', mp, { etag: `"${compositeEtag(mpParts).toUpperCase()}"` }),
        ...objectFiles('bkt', 'opaque', opaque, { etag: 'not-an-md5' }),
        ...objectFiles('bkt', 'short-hex', opaque, { etag: 'abc-2' }),
      },
    });
  }
});

test('§5.5 error order: chunkref resolution, then naming, then completeness, then verification', async (t) => {
  const b = bytesOf('b', 10);
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    // naming beats completeness
    .putObject('bkt', 'a//naming', b, { chunkSize: 4, omitChunks: [1] })
    // completeness beats verification
    .putObject('bkt', 'complete', b, { chunkSize: 4, omitChunks: [1], etag: md5hex(Buffer.from('x')) })
    // chunkref resolution beats naming
    .putObject('bkt', '../ref', b, { chunkSize: 4, offloaded: true, uploadId: 'up-ref' });
  const bad = rebuild(snap, (e) => {
    if (!hasPrefix(e.key, '!s3|chunkref|') || !e.value) return e;
    const v = Buffer.from(e.value);
    v.writeBigUInt64BE(v.readBigUInt64BE(33) + 1n, 33);
    return { ...e, value: v };
  });
  for (const d of await decodeBoth(t, bad, { args: ['--keep-going'] })) {
    t.is(d.code, 3, d.stderr);
    t.deepEqual(skippedEntries(t, dataFiles(d)['s3/bkt/_skipped.jsonl']), [
      ['../ref', 'ERR_S3_INVALID_CHUNKREF'],
      ['a//naming', 'ERR_S3_MALFORMED_KEY'],
      ['complete', 'ERR_S3_INCOMPLETE_BLOB_CHUNKS'],
    ]);
  }
});

// ------------------------------------------------------------ more edges

test('§5.3 offloaded part with both part_version and chunk_ref_version: chunkrefs are matched by chunk_ref_version; chunkrefs of a blob part are ignored', async (t) => {
  const off = bytesOf('off-crv', 10);
  const blob = bytesOf('blob-part', 9);
  const scratch = new SnapshotBuilder();
  const manifest = scratch.putObjectDetailed('bkt', 'off', off, { offloaded: true, chunkSize: 4, partVersion: 7 }).manifest!.toString('utf8');
  t.true(manifest.includes('"chunk_ref_version":7,"offloaded":true'));
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'off', off, {
      offloaded: true,
      chunkSize: 4,
      partVersion: 7,
      rawManifest: manifest.replace('"chunk_ref_version":7,', '"part_version":5,"chunk_ref_version":7,'),
    })
    .putObject('bkt', 'blob', blob, { chunkSize: 4 });
  // Stray chunkrefs: version 5 of the offloaded part, and the non-offloaded part of "blob".
  const stray = bytesOf('stray', 4);
  snap
    .record(K.chunkrefKey({ bucket: 'bkt', generation: 1, object: 'off', uploadId: 'up-1', partNo: 1, chunkNo: 0, partVersion: 5 }), chunkrefValue(stray))
    .record(K.chunkrefKey({ bucket: 'bkt', generation: 1, object: 'blob', uploadId: 'up-1', partNo: 1, chunkNo: 0 }), chunkrefValue(stray))
    .record(K.chunkblobKey(sha256(stray)), stray);
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: { 's3/bkt/_bucket.json': BKT, ...objectFiles('bkt', 'off', off), ...objectFiles('bkt', 'blob', blob) } });
  }
});

test('§5.2 duplicate part entries: the later one wins', async (t) => {
  const b = bytesOf('dup', 10);
  const good = partJson(b);
  const snap = one(b, { chunkSize: 4, manifestPatch: { parts: [partJson(b, { etag: md5hex(Buffer.from('wrong')), chunk_count: 2, chunk_sizes: [4, 4] }), good] } });
  for (const d of await decodeBoth(t, snap)) assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', b) } });
});

test('§5.6 verification: undeclared part sizes (size_bytes 0, empty chunk_sizes) are not checked; the object size always is', async (t) => {
  const b = bytesOf('undeclared', 10);
  const loose = one(b, { chunkSize: 4, manifestPatch: { parts: [partJson(b, { size_bytes: 0, chunk_sizes: [] })] } });
  for (const d of await decodeBoth(t, loose)) assertDump(t, d, { files: { ...okFiles, ...objectFiles('bkt', 'obj', b) } });
  const emptyButSized = one(Buffer.alloc(0), { manifestPatch: { size_bytes: 5 } });
  for (const d of await decodeBoth(t, emptyButSized)) assertFailure(t, d, 'ERR_S3_SIZE_MISMATCH');
});

test('§5.1/§5.2 JSON values decode like Go: case-insensitive names, null leaves the default, unknown fields ignored', async (t) => {
  const b = bytesOf('gojson', 10);
  const manifest =
    `{"UPLOAD_ID":"up-1","ETag":"${md5hex(b)}","Size_Bytes":10,"content_type":null,"Last_Modified_HLC":null,` +
    `"unknown":{"x":[1,{"y":null}]},"User_Metadata":{"K":"v"},` +
    `"Parts":[{"Part_No":1,"ETAG":"${md5hex(b)}","size_bytes":10,"CHUNK_COUNT":3,"Chunk_Sizes":[4,4,2],"extra":true}]}`;
  const snap = new SnapshotBuilder()
    .bucket('bkt', { rawValue: '{"Bucket_Name":"ignored","GENERATION":2,"Owner":"carol","region":null,"future":[1,2]}' })
    .putObject('bkt', 'obj', b, { generation: 2, chunkSize: 4, rawManifest: manifest });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt",\n  "owner": "carol"\n}',
        's3/bkt/obj': b,
        's3/bkt/obj.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "${md5hex(b)}",\n  "size_bytes": 10,\n  "user_metadata": {\n    "K": "v"\n  }\n}`,
      },
    });
  }
});

test('§6 sidecar: every field, Go escaping, user_metadata sorted bytewise, fractional last_modified', async (t) => {
  const b = bytesOf('sidecar', 10);
  const hlc = (BigInt(Date.UTC(2026, 3, 29, 12, 34, 56, 100)) << 16n) | 0xffffn;
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'meta.bin', b, {
    lastModifiedHlc: hlc,
    contentType: 'text/html; charset=utf-8',
    contentEncoding: 'gzip',
    cacheControl: 'max-age=60',
    contentDisposition: 'attachment; filename="a&b.txt"',
    userMetadata: { lower: '2', Upper: '1', 'ñ': '3', '~': '4', ctrl: 'a\u0001b\tc\nd', html: '<b>&amp;</b>', sep: '\u2028\u2029', uni: '日本 é' },
  });
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        's3/bkt/meta.bin': b,
        's3/bkt/meta.bin.elastickv-meta.json':
          `{\n  "format_version": 1,\n  "etag": "${md5hex(b)}",\n  "size_bytes": 10,\n  "last_modified": "2026-04-29T12:34:56.1Z",\n` +
          '  "content_type": "text/html; charset=utf-8",\n  "content_encoding": "gzip",\n  "cache_control": "max-age=60",\n' +
          '  "content_disposition": "attachment; filename=\\"a\\u0026b.txt\\"",\n' +
          '  "user_metadata": {\n' +
          '    "Upper": "1",\n' +
          '    "ctrl": "a\\u0001b\\tc\\nd",\n' +
          '    "html": "\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e",\n' +
          '    "lower": "2",\n' +
          '    "sep": "\\u2028\\u2029",\n' +
          '    "uni": "日本 é",\n' +
          '    "~": "4",\n' +
          '    "ñ": "3"\n' +
          '  }\n}',
      },
    });
  }
});

test('§5.3 body order is by part number whatever the manifest order; u64 part numbers and versions beyond 2^53 are exact', async (t) => {
  const pn = (1n << 53n) + 1n;
  const pv = (1n << 64n) - 1n;
  const p1 = bytesOf('p1', 8);
  const p2 = bytesOf('p2', 9);
  const addr = (partNo: bigint, partVersion?: bigint): K.ChunkKeyParts => ({
    bucket: 'bkt',
    generation: 1,
    object: 'big',
    uploadId: 'u',
    partNo,
    chunkNo: 0,
    ...(partVersion !== undefined ? { partVersion } : {}),
  });
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .record(K.blobKey(addr(pn, pv)), p2)
    .record(K.blobKey(addr(1n)), p1)
    // What a float64 parser would confuse with the real part / version:
    .record(K.blobKey(addr(pn - 1n, pv)), bytesOf('wrong-1', 9))
    .record(K.blobKey(addr(pn, pv - 1n)), bytesOf('wrong-2', 9))
    .record(
      K.manifestKey('bkt', 1, 'big'),
      toJson({
        upload_id: 'u',
        etag: compositeEtag([p1, p2]),
        size_bytes: 17,
        parts: [
          { part_no: pn, etag: md5hex(p2), size_bytes: 9, chunk_count: 1, chunk_sizes: [9], part_version: pv },
          { part_no: 1, etag: md5hex(p1), size_bytes: 8, chunk_count: 1, chunk_sizes: [8] },
        ],
      }),
    );
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': BKT,
        's3/bkt/big': Buffer.concat([p1, p2]),
        's3/bkt/big.elastickv-meta.json': `{\n  "format_version": 1,\n  "etag": "${compositeEtag([p1, p2])}",\n  "size_bytes": 17\n}`,
      },
    });
  }
});

test('§6 time fields: epoch + 1 ms, year 10000, and the largest HLC (five-digit year, as Go prints it)', async (t) => {
  const max = (1n << 64n) - 1n;
  const snap = new SnapshotBuilder()
    .bucket('bkt', { createdAtHlc: max })
    .putObject('bkt', 'far', Buffer.from('x'), { lastModifiedHlc: max })
    .putObject('bkt', 'epoch', Buffer.from('y'), { lastModifiedHlc: 1n << 16n })
    .putObject('bkt', 'y10k', Buffer.from('z'), { lastModifiedHlc: 253402300800000n << 16n });
  const side = (etag: string, when: string): string =>
    `{\n  "format_version": 1,\n  "etag": "${etag}",\n  "size_bytes": 1,\n  "last_modified": "${when}",\n  "content_type": "application/octet-stream"\n}`;
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, {
      files: {
        's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt",\n  "creation_time_iso": "10889-08-02T05:31:50.655Z"\n}',
        's3/bkt/far': 'x',
        's3/bkt/far.elastickv-meta.json': side(md5hex(Buffer.from('x')), '10889-08-02T05:31:50.655Z'),
        's3/bkt/epoch': 'y',
        's3/bkt/epoch.elastickv-meta.json': side(md5hex(Buffer.from('y')), '1970-01-01T00:00:00.001Z'),
        's3/bkt/y10k': 'z',
        's3/bkt/y10k.elastickv-meta.json': side(md5hex(Buffer.from('z')), '10000-01-01T00:00:00Z'),
      },
    });
  }
});
