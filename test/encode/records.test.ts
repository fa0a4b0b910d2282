import test from 'ava';
import { bucketGenValue, bucketMetaValue, chunkSizes, manifestValue, objectSortKey, restoreBlobKey, restoreBucketGenKey, restoreBucketMetaKey, restoreManifestKey } from '../../lib/encode/records.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const noMeta = { etag: '', sizeBytes: 0, lastModifiedMs: 0, contentType: '', contentEncoding: '', cacheControl: '', contentDisposition: '', userMetadata: null };

test('bucket meta: Go json.Marshal of s3LiveBucketMeta, generation 1, created_at_hlc = ms << 16, empty strings kept, HTML escaped', (t) => {
  const v = bucketMetaValue({ name: 'a<b', createdMs: 1714307696000, owner: '', region: 'r&', acl: '' });
  t.is(v.toString(), `{"bucket_name":"a\\u003cb","generation":1,"created_at_hlc":${1714307696000n * 65536n},"owner":"","region":"r\\u0026","acl":""}`);
  t.deepEqual(bucketGenValue(), hex('0000000000000001'));
});

test('manifest of an empty body: parts null, user_metadata null', (t) => {
  t.is(
    manifestValue({ ...noMeta, etag: 'd41d8cd98f00b204e9800998ecf8427e' }).toString(),
    '{"upload_id":"elastickv-restore","etag":"d41d8cd98f00b204e9800998ecf8427e","size_bytes":0,"last_modified_hlc":0,"content_type":"","content_encoding":"","cache_control":"","content_disposition":"","user_metadata":null,"parts":null}',
  );
});

test('manifest of a 2.5 MiB body: one part, 1 MiB chunks, etag verbatim, metadata keys sorted bytewise', (t) => {
  const v = manifestValue({
    etag: '"x-3"',
    sizeBytes: 2621440,
    lastModifiedMs: 2,
    contentType: 'text/html',
    contentEncoding: 'gzip',
    cacheControl: 'no',
    contentDisposition: 'inline',
    userMetadata: [
      ['\uFF5E', '1'],
      ['\u{1F600}', '<'],
      ['a', '\u2028'],
    ],
  });
  t.is(
    v.toString(),
    '{"upload_id":"elastickv-restore","etag":"\\"x-3\\"","size_bytes":2621440,"last_modified_hlc":131072,"content_type":"text/html","content_encoding":"gzip",' +
      '"cache_control":"no","content_disposition":"inline","user_metadata":{"a":"\\u2028","\uFF5E":"1","\u{1F600}":"\\u003c"},' +
      '"parts":[{"part_no":1,"etag":"\\"x-3\\"","size_bytes":2621440,"chunk_count":3,"chunk_sizes":[1048576,1048576,524288],"part_version":0,"chunk_ref_version":0,"offloaded":false}]}',
  );
});

test('chunk sizes: 1 MiB pieces from chunk 0, none for an empty body', (t) => {
  t.deepEqual(chunkSizes(0), []);
  t.deepEqual(chunkSizes(1), [1]);
  t.deepEqual(chunkSizes(1048576), [1048576]);
  t.deepEqual(chunkSizes(1048577), [1048576, 1]);
});

test('keys: generation 1, upload id elastickv-restore, part 1, no partVersion trailer', (t) => {
  const b = Buffer.from('bk\x00t', 'latin1');
  const o = Buffer.from('a/b');
  t.deepEqual(restoreBlobKey(b, o, 2), Buffer.concat([Buffer.from('!s3|blob|bk'), hex('00ff 74 0001 0000000000000001'), Buffer.from('a/b'), hex('0001'), Buffer.from('elastickv-restore'), hex('0001 0000000000000001 0000000000000002')]));
  t.deepEqual(restoreManifestKey(b, o), Buffer.concat([Buffer.from('!s3|obj|head|bk'), hex('00ff 74 0001 0000000000000001'), Buffer.from('a/b'), hex('0001')]));
  t.deepEqual(restoreBucketMetaKey(b), Buffer.concat([Buffer.from('!s3|bucket|meta|bk'), hex('00ff 74 0001')]));
  t.deepEqual(restoreBucketGenKey(b), Buffer.concat([Buffer.from('!s3|bucket|gen|bk'), hex('00ff 74 0001')]));
});

test('object sort key: a key that is a prefix of another sorts first, as in the snapshot', (t) => {
  const b = Buffer.from('b');
  const keys = ['a/b', 'a', 'a/b/c', 'a.b', '\u{1F600}', '\uFF5E'].map((k) => Buffer.from(k));
  const sorted = [...keys].sort((x, y) => Buffer.compare(objectSortKey(b, x), objectSortKey(b, y)));
  t.deepEqual(
    sorted.map((k) => k.toString()),
    ['a', 'a.b', 'a/b', 'a/b/c', '\uFF5E', '\u{1F600}'],
  );
  // The manifest keys sort the same way.
  t.deepEqual(
    [...keys].sort((x, y) => Buffer.compare(restoreManifestKey(b, x), restoreManifestKey(b, y))).map((k) => k.toString()),
    sorted.map((k) => k.toString()),
  );
});
