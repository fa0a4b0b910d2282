import test from 'ava';
import { BUCKET_META_SCHEMA, MANIFEST_SCHEMA, parseBucketMeta, parseManifest, type ObjectManifest } from '../lib/core/s3-schemas.js';

// Expected outputs are written out by hand. They were checked against Go's
// encoding/json (json.MarshalIndent, json.Encoder, json.Unmarshal); where
// Go before 1.22 differed (\b and \f), SPEC §6 and Go ≥ 1.22 are followed.

const manifest = (json: string | Buffer): ObjectManifest =>
  parseManifest(typeof json === 'string' ? Buffer.from(json, 'utf8') : json);

test('decode: a full manifest', (t) => {
  const m = manifest(
    '{"upload_id":"u1","etag":"\\"abc\\"","size_bytes":11,"last_modified_hlc":114536287846400000,' +
      '"content_type":"text/plain","content_encoding":"gzip","cache_control":"no-cache",' +
      '"content_disposition":"inline","user_metadata":{"k":"v","a":"b"},' +
      '"parts":[{"part_no":1,"etag":"e1","size_bytes":5,"chunk_count":2,"chunk_sizes":[3,2],' +
      '"part_version":7,"chunk_ref_version":6,"offloaded":true},{"part_no":2}]}',
  );
  t.is(m.uploadId, 'u1');
  t.is(m.etag, '"abc"');
  t.is(m.sizeBytes, 11n);
  t.is(m.lastModifiedHlc, 114536287846400000n);
  t.is(m.contentType, 'text/plain');
  t.is(m.contentEncoding, 'gzip');
  t.is(m.cacheControl, 'no-cache');
  t.is(m.contentDisposition, 'inline');
  t.deepEqual([...m.userMetadata], [['k', 'v'], ['a', 'b']]);
  t.deepEqual(m.parts, [
    { partNo: 1n, etag: 'e1', sizeBytes: 5n, chunkCount: 2n, chunkSizes: [3n, 2n], partVersion: 7n, chunkRefVersion: 6n, offloaded: true },
    { partNo: 2n, etag: '', sizeBytes: 0n, chunkCount: 0n, chunkSizes: [], partVersion: 0n, chunkRefVersion: 0n, offloaded: false },
  ]);
});

test('decode: a bucket meta record', (t) => {
  const b = parseBucketMeta(
    Buffer.from('{"bucket_name":"photos","generation":3,"created_at_hlc":18446744073709551615,"owner":"o","region":"r","acl":"private","versioning":"x"}'),
  );
  t.deepEqual(b, {
    bucketName: 'photos',
    generation: 3n,
    createdAtHlc: 18446744073709551615n,
    owner: 'o',
    region: 'r',
    acl: 'private',
  });
});

test('schemas: the ready-made schemas list the Go fields in order', (t) => {
  t.deepEqual(
    BUCKET_META_SCHEMA.fields.map((f) => f.name),
    ['bucket_name', 'generation', 'created_at_hlc', 'owner', 'region', 'acl'],
  );
  t.deepEqual(
    MANIFEST_SCHEMA.fields.map((f) => f.name),
    ['upload_id', 'etag', 'size_bytes', 'last_modified_hlc', 'content_type', 'content_encoding', 'cache_control', 'content_disposition', 'user_metadata', 'parts'],
  );
});
