import test from 'ava';
import fc from 'fast-check';
import { DecodeError } from '../lib/errors.js';
import * as lib from '../lib/core/keys.js';
import { classifyKey } from '../lib/core/keys.js';
import * as K from './helpers/keys.js';
import { raw, seg, u64 } from './helpers/keys.js';

const MAX = 0xffffffffffffffffn;
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function malformed(t: import('ava').ExecutionContext, key: Buffer, detail: RegExp, printed?: string): void {
  const err = t.throws(() => classifyKey(key), { instanceOf: DecodeError });
  t.is(err.code, 'ERR_S3_MALFORMED_KEY');
  t.is(err.level, 'run');
  t.deepEqual(err.context.key, key);
  t.regex(err.detail, detail);
  if (printed !== undefined) t.true(err.message.includes(`key ${printed}`), err.message);
}

// ------------------------------------------------------------ families

test('bucket meta', (t) => {
  t.deepEqual(classifyKey(K.bucketMetaKey('bkt')), { family: 'bucket-meta', bucket: b('bkt') });
  t.deepEqual(classifyKey(raw('!s3|bucket|meta|', 'bkt', 0, 1)), { family: 'bucket-meta', bucket: b('bkt') });
});

test('bucket gen is recognised and not parsed further', (t) => {
  t.deepEqual(classifyKey(K.bucketGenKey('bkt')), { family: 'bucket-gen' });
  t.deepEqual(classifyKey(raw('!s3|bucket|gen|', 'no terminator')), { family: 'bucket-gen' });
});

test('manifest', (t) => {
  t.deepEqual(classifyKey(K.manifestKey('bkt', 1, 'dir/file.txt')), {
    family: 'manifest',
    bucket: b('bkt'),
    generation: 1n,
    object: b('dir/file.txt'),
  });
  // The exact bytes of a conformance key.
  const key = raw('!s3|obj|head|bkt', 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'hello.txt', 0, 1);
  t.deepEqual(classifyKey(key), { family: 'manifest', bucket: b('bkt'), generation: 1n, object: b('hello.txt') });
});

test('0x00 escapes inside segments decode to 0x00', (t) => {
  const key = K.manifestKey(raw(0, 'b', 0), MAX, raw('a', 0, 0, 'z', 0xff, 0));
  t.deepEqual(key, raw('!s3|obj|head|', 0, 0xff, 'b', 0, 0xff, 0, 1, u64(MAX), 'a', 0, 0xff, 0, 0xff, 'z', 0xff, 0, 0xff, 0, 1));
  t.deepEqual(classifyKey(key), { family: 'manifest', bucket: raw(0, 'b', 0), generation: MAX, object: raw('a', 0, 0, 'z', 0xff, 0) });
});

test('a segment that is only escapes, and an empty object segment', (t) => {
  const r = classifyKey(K.manifestKey('bkt', 0, raw(0, 0, 0)));
  t.like(r, { family: 'manifest', generation: 0n });
  t.deepEqual(r.family === 'manifest' && r.object, raw(0, 0, 0));
  t.deepEqual(classifyKey(K.manifestKey('bkt', 2, '')), { family: 'manifest', bucket: b('bkt'), generation: 2n, object: b('') });
});

test('unescaped segments are views into the key (no copy)', (t) => {
  const key = K.manifestKey('bkt', 1, 'obj');
  const r = classifyKey(key);
  if (r.family !== 'manifest') return t.fail();
  t.is(r.object.buffer, key.buffer);
  t.is(r.bucket.buffer, key.buffer);
});

const addr = {
  bucket: b('bkt'),
  generation: 7n,
  object: b('v/clip.bin'),
  uploadId: b('mp-42'),
  partNo: 2n,
  chunkNo: 3n,
};

test('blob without trailer has partVersion 0', (t) => {
  const key = K.blobKey({ ...addr });
  t.deepEqual(classifyKey(key), { family: 'blob', addr: { ...addr, partVersion: 0n } });
});

test('blob with trailer', (t) => {
  t.deepEqual(classifyKey(K.blobKey({ ...addr, partVersion: 1001 })), { family: 'blob', addr: { ...addr, partVersion: 1001n } });
});

test('blob trailer holding 0 still parses', (t) => {
  const key = K.blobKey({ ...addr, partVersion: 0 });
  t.is(key.length, K.blobKey({ ...addr }).length + 8);
  t.deepEqual(classifyKey(key), { family: 'blob', addr: { ...addr, partVersion: 0n } });
});

test('blob u64 maximum values', (t) => {
  const a = { bucket: b('b'), generation: MAX, object: b('o'), uploadId: b(''), partNo: MAX, chunkNo: MAX, partVersion: MAX };
  t.deepEqual(classifyKey(K.blobKey(a)), { family: 'blob', addr: a });
});

test('chunkref, with and without trailer', (t) => {
  t.deepEqual(classifyKey(K.chunkrefKey({ ...addr })), { family: 'chunkref', addr: { ...addr, partVersion: 0n } });
  t.deepEqual(classifyKey(K.chunkrefKey({ ...addr, partVersion: 9 })), { family: 'chunkref', addr: { ...addr, partVersion: 9n } });
});

test('chunkblob digest: either case in, lowercase out', (t) => {
  const hex = '5bec93ad06ce9e0d18d2d5e9c5f43c49af7109cf17859a967608ffe587fea462';
  t.deepEqual(classifyKey(K.chunkblobKey(hex)), { family: 'chunkblob', digest: hex });
  t.deepEqual(classifyKey(K.chunkblobKey(hex.toUpperCase())), { family: 'chunkblob', digest: hex });
  t.deepEqual(classifyKey(K.chunkblobKey('5BEC93ad06CE9e0d18d2d5e9c5f43c49af7109cf17859a967608ffe587fea462')), { family: 'chunkblob', digest: hex });
});

test('upload meta and part', (t) => {
  t.deepEqual(classifyKey(K.uploadMetaKey('bkt', 1, 'pending/big.iso', 'upl-1')), {
    family: 'upload-meta',
    prefix: '!s3|upload|meta|',
    bucket: b('bkt'),
    generation: 1n,
    object: b('pending/big.iso'),
    uploadId: b('upl-1'),
  });
  t.deepEqual(classifyKey(K.uploadPartKey('bkt', 4, 'x', raw('u', 0), MAX)), {
    family: 'upload-part',
    prefix: '!s3|upload|part|',
    bucket: b('bkt'),
    generation: 4n,
    object: b('x'),
    uploadId: raw('u', 0),
    partNo: MAX,
  });
});

test('ignored prefixes are not parsed', (t) => {
  t.deepEqual(classifyKey(K.gcUploadKey('bkt', 1, 'f', 'up-9')), { family: 'ignored', prefix: '!s3|gc|upload|' });
  t.deepEqual(classifyKey(b('!s3|gc|upload|garbage')), { family: 'ignored', prefix: '!s3|gc|upload|' });
  t.deepEqual(classifyKey(K.routeKey('bkt', 1, 'file.txt')), { family: 'ignored', prefix: '!s3route|' });
  t.deepEqual(classifyKey(b('!s3route|')), { family: 'ignored', prefix: '!s3route|' });
});

test('unknown families under !s3|', (t) => {
  for (const k of ['!s3|', '!s3|future|x', '!s3|bucket|', '!s3|bucket|other|x', '!s3|obj|tail|x', '!s3|blo', '!s3|chunk|', '!s3|upload|', '!s3|gc|']) {
    t.deepEqual(classifyKey(b(k)), { family: 'unknown-s3' }, k);
  }
});

test('foreign keys', (t) => {
  for (const k of ['', 'plain', '!s3', '!s3x', '!S3|blob|', '!redis|str|user:1', '!ddb|item|tbl|pk', '!txn|lock|k', '!s3rout']) {
    t.deepEqual(classifyKey(b(k)), { family: 'foreign' }, k);
  }
});

// ------------------------------------------------------------ malformed

test('truncated segment: no terminator', (t) => {
  malformed(t, raw('!s3|bucket|meta|', 'bkt'), /bucket segment has no 0x00 0x01 terminator/, '!s3|bucket|meta|bkt');
  malformed(t, raw('!s3|obj|head|', seg('bkt'), u64(1), 'file.txt'), /object segment has no 0x00 0x01 terminator/);
  malformed(t, raw('!s3|blob|', seg('bkt'), u64(1), seg('o'), 'up-1'), /upload id segment has no/);
});

test('segment cut after a 0x00', (t) => {
  malformed(t, raw('!s3|bucket|meta|bkt', 0), /bucket segment is truncated after a 0x00 byte/, '!s3|bucket|meta|bkt\\x00');
  malformed(t, raw('!s3|obj|head|', seg('bkt'), u64(1), 'a', 0, 0xff, 'b', 0), /object segment is truncated/);
  malformed(t, raw('!s3|obj|head|', seg('bkt'), u64(1), 'a', 0, 0xff, 'b'), /object segment has no 0x00 0x01 terminator/);
});

test('bad escape 0x00 0x02', (t) => {
  malformed(t, raw('!s3|bucket|meta|b', 0, 2, 'x', 0, 1), /bucket segment has invalid escape 0x00 0x02 at byte 17/);
  malformed(t, raw('!s3|obj|head|', seg('bkt'), u64(1), 'a', 0, 0xff, 'b', 0, 0, 0, 1), /object segment has invalid escape 0x00 0x00/);
});

test('missing or short u64', (t) => {
  malformed(t, raw('!s3|obj|head|', seg('bkt')), /key ends before generation/);
  malformed(t, raw('!s3|obj|head|', seg('bkt'), 0, 0, 0), /key ends inside generation \(3 of 8 bytes\)/);
  malformed(t, raw('!s3|upload|part|', seg('b'), u64(1), seg('o'), seg('u')), /key ends before part number/);
});

test('blob key cut inside its chunk number (conformance malformed_truncated_blob_key)', (t) => {
  const key = raw('!s3|blob|bkt', 0, 1, u64(1), 'file.txt', 0, 1, 'up-1', 0, 1, u64(1), 0, 0, 0, 0, 0);
  malformed(t, key, /key ends inside chunk number \(5 of 8 bytes\)/, '!s3|blob|bkt\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01file.txt');
});

test('blob and chunkref trailers must be absent or exactly 8 bytes', (t) => {
  const head = K.blobKey({ ...addr });
  malformed(t, Buffer.concat([head, raw(0, 0, 1)]), /trailer of 3 bytes/);
  malformed(t, Buffer.concat([head, u64(5), raw(0)]), /trailer of 9 bytes/);
  malformed(t, Buffer.concat([K.chunkrefKey({ ...addr }), raw(1)]), /^malformed !s3\|chunkref\| key: trailer of 1 byte after/);
});

test('trailing garbage after the last component', (t) => {
  malformed(t, Buffer.concat([K.manifestKey('bkt', 1, 'o'), raw('x')]), /1 unexpected trailing byte after the object key/);
  malformed(t, Buffer.concat([K.bucketMetaKey('bkt'), raw(0, 1)]), /2 unexpected trailing bytes after the bucket name/);
  malformed(t, Buffer.concat([K.uploadMetaKey('b', 1, 'o', 'u'), u64(1)]), /8 unexpected trailing bytes after the upload id/);
  malformed(t, Buffer.concat([K.uploadPartKey('b', 1, 'o', 'u', 1), raw('z')]), /after the part number/);
});

test('bad chunkblob digests', (t) => {
  const hex = '5bec93ad06ce9e0d18d2d5e9c5f43c49af7109cf17859a967608ffe587fea462';
  malformed(t, K.chunkblobKey(hex.slice(1)), /64 hex characters, got 63 bytes/);
  malformed(t, K.chunkblobKey(hex + '0'), /got 65 bytes/);
  malformed(t, K.chunkblobKey(''), /got 0 bytes/);
  malformed(t, K.chunkblobKey('g' + hex.slice(1)), /non-hex byte at byte 14/);
  malformed(t, K.chunkblobKey(Buffer.alloc(32)).subarray(0, 14 + 32), /got 32 bytes/);
});

test('empty, "." and ".." buckets in every parsed family', (t) => {
  const a = (bucket: string) => ({ ...addr, bucket });
  for (const [bucket, what] of [
    ['', /bucket name is empty/],
    ['.', /bucket name is '\.'/],
    ['..', /bucket name is '\.\.'/],
  ] as const) {
    malformed(t, K.bucketMetaKey(bucket), what);
    malformed(t, K.manifestKey(bucket, 1, 'o'), what);
    malformed(t, K.blobKey(a(bucket)), what);
    malformed(t, K.chunkrefKey(a(bucket)), what);
    malformed(t, K.uploadMetaKey(bucket, 1, 'o', 'u'), what);
    malformed(t, K.uploadPartKey(bucket, 1, 'o', 'u', 1), what);
  }
  // Names that merely start with dots are fine.
  t.like(classifyKey(K.bucketMetaKey('...')), { family: 'bucket-meta' });
  t.like(classifyKey(K.bucketMetaKey('.a')), { family: 'bucket-meta' });
  t.like(classifyKey(K.bucketMetaKey(raw('.', 0))), { family: 'bucket-meta' });
});

test('the error message names the key in printable form', (t) => {
  const key = raw('!s3|obj|head|', seg('bkt'), u64(1), 'caf\u00e9\\', 0xff);
  const err = t.throws(() => classifyKey(key), { instanceOf: DecodeError });
  t.is(err.message, 'key !s3|obj|head|bkt\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01caf\\xe9\\\\\\xff: malformed !s3|obj|head| key: object segment has no 0x00 0x01 terminator');
});

test('a failed parse does not disturb the next one', (t) => {
  t.throws(() => classifyKey(raw('!s3|bucket|meta|', 'x')));
  t.deepEqual(classifyKey(K.bucketMetaKey('y')), { family: 'bucket-meta', bucket: b('y') });
});

// ------------------------------------------------------------ encoders

test('lib encoders produce the SPEC bytes', (t) => {
  t.deepEqual(lib.encodeSegment(raw('a', 0, 'b')), raw('a', 0, 0xff, 'b', 0, 1));
  t.deepEqual(lib.encodeSegment(''), raw(0, 1));
  t.deepEqual(lib.encodeU64(258), raw(0, 0, 0, 0, 0, 0, 1, 2));
  t.deepEqual(lib.encodeU64(MAX), Buffer.alloc(8, 0xff));
  t.throws(() => lib.encodeU64(-1n), { instanceOf: RangeError });
  t.throws(() => lib.encodeU64(MAX + 1n), { instanceOf: RangeError });
  t.deepEqual(lib.bucketMetaKey('bkt'), raw('!s3|bucket|meta|bkt', 0, 1));
  t.deepEqual(lib.bucketGenKey('bkt'), K.bucketGenKey('bkt'));
  t.deepEqual(lib.manifestKey('bkt', 1, 'hello.txt'), raw('!s3|obj|head|bkt', 0, 1, u64(1), 'hello.txt', 0, 1));
  const full = { ...addr, partVersion: 0n };
  t.deepEqual(lib.blobKey(full), K.blobKey(addr));
  t.deepEqual(lib.blobKey({ ...full, partVersion: 3n }), K.blobKey({ ...addr, partVersion: 3 }));
  t.deepEqual(lib.chunkrefKey({ ...full, partVersion: 3n }), K.chunkrefKey({ ...addr, partVersion: 3 }));
  t.deepEqual(lib.chunkblobKey(Buffer.alloc(32, 0xab)), K.chunkblobKey('ab'.repeat(32)));
  t.deepEqual(lib.uploadMetaKey('b', 1, 'o', 'u'), K.uploadMetaKey('b', 1, 'o', 'u'));
  t.deepEqual(lib.uploadPartKey('b', 1, 'o', 'u', 2), K.uploadPartKey('b', 1, 'o', 'u', 2));
});

// ------------------------------------------------------------ properties

const bytesArb = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
// Bytes biased towards 0x00, 0x01 and 0xFF, the interesting ones for seg().
const nastyArb = fc.array(fc.constantFrom(0, 1, 0xff, 0x2f, 0x61), { maxLength: 12 }).map((a) => Buffer.from(a));
const segArb = fc.oneof(bytesArb, nastyArb);
const bucketArb = segArb.filter((x) => x.length > 0 && !x.equals(b('.')) && !x.equals(b('..')));
const u64Arb = fc.bigInt({ min: 0n, max: MAX });

test('property: blob and chunkref keys round-trip', (t) => {
  fc.assert(
    fc.property(bucketArb, u64Arb, segArb, segArb, u64Arb, u64Arb, u64Arb, fc.boolean(), (bucket, generation, object, uploadId, partNo, chunkNo, partVersion, ref) => {
      const a = { bucket, generation, object, uploadId, partNo, chunkNo, partVersion };
      const key = K.elastickvChunkKey(ref ? 'chunkref' : 'blob', a);
      t.deepEqual(classifyKey(key), { family: ref ? 'chunkref' : 'blob', addr: a });
      t.deepEqual((ref ? lib.chunkrefKey : lib.blobKey)(a), key);
    }),
  );
});

test('property: manifest and upload keys round-trip', (t) => {
  fc.assert(
    fc.property(bucketArb, u64Arb, segArb, segArb, u64Arb, (bucket, generation, object, uploadId, partNo) => {
      t.deepEqual(classifyKey(K.manifestKey(bucket, generation, object)), { family: 'manifest', bucket, generation, object });
      t.like(classifyKey(K.uploadPartKey(bucket, generation, object, uploadId, partNo)), { family: 'upload-part', partNo });
      const m = classifyKey(K.uploadMetaKey(bucket, generation, object, uploadId));
      t.true(m.family === 'upload-meta' && m.uploadId.equals(uploadId) && m.object.equals(object));
    }),
  );
});

test('property: any truncation of a valid manifest key is malformed', (t) => {
  fc.assert(
    fc.property(bucketArb, u64Arb, segArb, fc.nat(), (bucket, gen, object, cut) => {
      const key = K.manifestKey(bucket, gen, object);
      const len = '!s3|obj|head|'.length + (cut % (key.length - '!s3|obj|head|'.length));
      const err = t.throws(() => classifyKey(key.subarray(0, len)), { instanceOf: DecodeError });
      t.is(err?.code, 'ERR_S3_MALFORMED_KEY');
    }),
    { numRuns: 200 },
  );
});

test('property: random bytes after a known prefix either parse or fail with ERR_S3_MALFORMED_KEY', (t) => {
  const prefixes = ['!s3|bucket|meta|', '!s3|obj|head|', '!s3|blob|', '!s3|chunkref|', '!s3|chunkblob|', '!s3|upload|meta|', '!s3|upload|part|'];
  fc.assert(
    fc.property(fc.constantFrom(...prefixes), fc.oneof(bytesArb, nastyArb), (prefix, rest) => {
      try {
        classifyKey(Buffer.concat([b(prefix), rest]));
      } catch (e) {
        t.true(e instanceof DecodeError && e.code === 'ERR_S3_MALFORMED_KEY');
      }
    }),
    { numRuns: 500 },
  );
  t.pass();
});
