/**
 * Checks that the test-only builders produce what the SPEC says, using
 * bytes taken from the conformance examples.
 */
import test from 'ava';
import * as K from './helpers/keys.js';
import { SnapshotBuilder, chunkrefValue, compositeEtag, toJson } from './helpers/snapshot.js';

const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').filter((l) => l !== '');
const parse = (l: string): { key: string; value?: string; commit_ts: number | string; tombstone?: boolean } => JSON.parse(l);

test('key helpers: exact bytes of known keys', (t) => {
  t.is(K.bucketMetaKey('bkt').toString('base64'), 'IXMzfGJ1Y2tldHxtZXRhfGJrdAAB');
  t.is(K.manifestKey('bkt', 1, 'hello.txt').toString('base64'), 'IXMzfG9ianxoZWFkfGJrdAABAAAAAAAAAAFoZWxsby50eHQAAQ==');
  t.is(
    K.blobKey({ bucket: 'bkt', generation: 1, object: 'hello.txt', uploadId: 'up-1', partNo: 1, chunkNo: 0 }).toString('base64'),
    'IXMzfGJsb2J8Ymt0AAEAAAAAAAAAAWhlbGxvLnR4dAABdXAtMQABAAAAAAAAAAEAAAAAAAAAAA==',
  );
  t.is(
    K.blobKey({ bucket: 'bkt', generation: 1, object: 'video/clip.bin', uploadId: 'mp-42', partNo: 1, chunkNo: 1, partVersion: 1001 }).toString('base64'),
    'IXMzfGJsb2J8Ymt0AAEAAAAAAAAAAXZpZGVvL2NsaXAuYmluAAFtcC00MgABAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAPp',
  );
  t.deepEqual(K.seg(Buffer.from([0, 1, 0xff, 0])), Buffer.from([0, 0xff, 1, 0xff, 0, 0xff, 0, 1]));
  t.deepEqual(K.u64(0xffffffffffffffffn), Buffer.alloc(8, 0xff));
  t.deepEqual(K.elastickvChunkKey('blob', { bucket: 'b', generation: 1, object: 'o', uploadId: 'u', partNo: 1, chunkNo: 0, partVersion: 0 }), K.blobKey({ bucket: 'b', generation: 1, object: 'o', uploadId: 'u', partNo: 1, chunkNo: 0 }));
});

test('builder reproduces conformance basic_single_object exactly', (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt', { createdAtHlc: 112348869165056000n, owner: 'alice', region: 'us-east-1', acl: 'private' })
    .putObject('bkt', 'hello.txt', Buffer.from('Hello, elastickv!\n'), { contentType: 'text/plain' });
  t.deepEqual(lines(snap.toJsonl()).sort(), [
    '{"key":"IXMzfG9ianxoZWFkfGJrdAABAAAAAAAAAAFoZWxsby50eHQAAQ==","value":"eyJ1cGxvYWRfaWQiOiJ1cC0xIiwiZXRhZyI6Ijk4NGYxYTc3NzZmMWRlYzY5NmNlZjgwZTExNzVlMzQ0Iiwic2l6ZV9ieXRlcyI6MTgsImxhc3RfbW9kaWZpZWRfaGxjIjoxMTIzNTQ1MzE0ODM1MTY5MjgsImNvbnRlbnRfdHlwZSI6InRleHQvcGxhaW4iLCJwYXJ0cyI6W3sicGFydF9ubyI6MSwiZXRhZyI6Ijk4NGYxYTc3NzZmMWRlYzY5NmNlZjgwZTExNzVlMzQ0Iiwic2l6ZV9ieXRlcyI6MTgsImNodW5rX2NvdW50IjoxLCJjaHVua19zaXplcyI6WzE4XX1dfQ==","commit_ts":100}',
    '{"key":"IXMzfGJ1Y2tldHxtZXRhfGJrdAAB","value":"eyJidWNrZXRfbmFtZSI6ImJrdCIsImdlbmVyYXRpb24iOjEsImNyZWF0ZWRfYXRfaGxjIjoxMTIzNDg4NjkxNjUwNTYwMDAsIm93bmVyIjoiYWxpY2UiLCJyZWdpb24iOiJ1cy1lYXN0LTEiLCJhY2wiOiJwcml2YXRlIn0=","commit_ts":100}',
    '{"key":"IXMzfGJsb2J8Ymt0AAEAAAAAAAAAAWhlbGxvLnR4dAABdXAtMQABAAAAAAAAAAEAAAAAAAAAAA==","value":"SGVsbG8sIGVsYXN0aWNrdiEK","commit_ts":100}',
  ]);
});

test('multipart: manifest, composite etag and versioned chunk keys (conformance multipart_out_of_order)', (t) => {
  const body = Buffer.from('f5ff61d7b533cd7371' + 'f120b74bb93602758cee22e3a30244fb' + 'e90fbe99ca', 'hex');
  const snap = new SnapshotBuilder().putObject('bkt', 'video/clip.bin', body, { uploadId: 'mp-42', parts: [9, 16, 5], chunkSize: 4, partVersion: [1001, 1002, 1003] });
  const recs = snap.records();
  t.is(recs.length, 10);
  const manifest = recs.find((r) => r.key.equals(K.manifestKey('bkt', 1, 'video/clip.bin')));
  t.is(
    manifest?.value?.toString('utf8'),
    '{"upload_id":"mp-42","etag":"f3342b85278cf19e559767c19b0875e9-3","size_bytes":30,"last_modified_hlc":112354531483516928,"content_type":"application/octet-stream","parts":[{"part_no":1,"etag":"d6769b6f747aaaa219b296618ba73ddb","size_bytes":9,"chunk_count":3,"chunk_sizes":[4,4,1],"part_version":1001},{"part_no":2,"etag":"8ef222836e0dbea32948d277631819d9","size_bytes":16,"chunk_count":4,"chunk_sizes":[4,4,4,4],"part_version":1002},{"part_no":3,"etag":"d207619373ae1350f6510588a05fff90","size_bytes":5,"chunk_count":2,"chunk_sizes":[4,1],"part_version":1003}]}',
  );
  const chunk = recs.find((r) => r.key.toString('base64') === 'IXMzfGJsb2J8Ymt0AAEAAAAAAAAAAXZpZGVvL2NsaXAuYmluAAFtcC00MgABAAAAAAAAAAEAAAAAAAAAAQAAAAAAAAPp');
  t.is(chunk?.value?.toString('hex'), 'b533cd73');
  t.is(compositeEtag([body.subarray(0, 9), body.subarray(9, 25), body.subarray(25)]), 'f3342b85278cf19e559767c19b0875e9-3');
});

test('parts: N splits into near-equal parts', (t) => {
  const r = new SnapshotBuilder().putObjectDetailed('b', 'k', Buffer.from('0123456789'), { parts: 3 });
  t.deepEqual(
    r.parts.map((p) => p.bytes.toString()),
    ['0123', '4567', '89'],
  );
  t.regex(r.etag, /^[0-9a-f]{32}-3$/);
});

test('offloaded: chunkref values and chunkblob keys (conformance offloaded_single_put_v1)', (t) => {
  const body = Buffer.from('c10f2613d75c999e' + 'f8139f2251088aa7' + 'c485510f2acad2a0', 'hex');
  const recs = new SnapshotBuilder().putObject('bkt', 'big/offloaded.bin', body, { chunkSize: 8, offloaded: true }).records();
  t.is(recs.length, 7);
  const ref0 = recs.find((r) => r.key.equals(K.chunkrefKey({ bucket: 'bkt', generation: 1, object: 'big/offloaded.bin', uploadId: 'up-1', partNo: 1, chunkNo: 0 })));
  t.is(ref0?.value?.toString('hex'), '015bec93ad06ce9e0d18d2d5e9c5f43c49af7109cf17859a967608ffe587fea462000000000000000800026e31');
  t.truthy(recs.find((r) => r.key.toString('latin1') === '!s3|chunkblob|5bec93ad06ce9e0d18d2d5e9c5f43c49af7109cf17859a967608ffe587fea462'));
  const manifest = recs.find((r) => r.key.equals(K.manifestKey('bkt', 1, 'big/offloaded.bin')));
  t.is(
    manifest?.value?.toString(),
    '{"upload_id":"up-1","etag":"c4260b3cea6c0e806c493949981295ee","size_bytes":24,"last_modified_hlc":112354531483516928,"content_type":"application/octet-stream","parts":[{"part_no":1,"etag":"c4260b3cea6c0e806c493949981295ee","size_bytes":24,"chunk_count":3,"chunk_sizes":[8,8,8],"offloaded":true}]}',
  );
  t.is(chunkrefValue(Buffer.alloc(0), '').length, 1 + 32 + 8 + 2);
});

test('zero-byte object: no parts (conformance zero_byte_object)', (t) => {
  const recs = new SnapshotBuilder().putObject('bkt', 'empty-with-meta', Buffer.alloc(0), { userMetadata: { k: 'v' }, contentType: null }).records();
  t.is(recs.length, 1);
  t.is(
    recs[0]?.value?.toString(),
    '{"upload_id":"up-1","etag":"d41d8cd98f00b204e9800998ecf8427e","size_bytes":0,"last_modified_hlc":112354531483516928,"user_metadata":{"k":"v"}}',
  );
});

test('options: generation from bucket meta, omitted chunks, extra chunks, no manifest, patches', (t) => {
  const snap = new SnapshotBuilder()
    .bucket('b', { generation: 4 })
    .putObject('b', 'k', Buffer.from('abcdefgh'), {
      chunkSize: 2,
      omitChunks: [1, { partNo: 1, chunkNo: 3 }],
      extraChunks: [{ partNo: 1, chunkNo: 9, data: Buffer.from('zz') }],
      manifestPatch: { size_bytes: 3 },
      etag: 'x',
      commitTs: 5n,
    })
    .putObject('b', 'orphan', Buffer.from('q'), { omitManifest: true, generation: 2 });
  const keys = snap.records().map((r) => r.key);
  const chunk = (chunkNo: number, object = 'k', generation = 4) => K.blobKey({ bucket: 'b', generation, object, uploadId: 'up-1', partNo: 1, chunkNo });
  t.deepEqual(keys, [K.bucketMetaKey('b'), chunk(0), chunk(2), chunk(9), K.manifestKey('b', 4, 'k'), chunk(0, 'orphan', 2)]);
  const m = JSON.parse(snap.records()[4]!.value!.toString());
  t.is(m.size_bytes, 3);
  t.is(m.etag, 'x');
  t.deepEqual(m.parts[0].chunk_sizes, [2, 2, 2, 2]);
  t.is(snap.records()[1]!.commitTs, 5n);
  t.is(JSON.parse(snap.records()[0]!.value!.toString()).generation, 4);
});

test('toJsonl: shape, big commit_ts, tombstones, crlf, blank lines', (t) => {
  const snap = new SnapshotBuilder()
    .record('k1', 'v1')
    .record(Buffer.from([0xff]), Buffer.alloc(0), { commitTs: 2n ** 64n - 1n })
    .tombstone('k2', 7)
    .record('k3', 'ignored', { tombstone: true, commitTs: 9007199254740991n });
  t.deepEqual(lines(snap.toJsonl()), [
    '{"key":"azE=","value":"djE=","commit_ts":100}',
    '{"key":"/w==","value":"","commit_ts":"18446744073709551615"}',
    '{"key":"azI=","commit_ts":7,"tombstone":true}',
    '{"key":"azM=","value":"aWdub3JlZA==","commit_ts":9007199254740991,"tombstone":true}',
  ]);
  const crlf = snap.toJsonl({ crlf: true, blankLines: true }).toString();
  t.true(crlf.startsWith('\r\n{"key":"azE="'));
  t.is(crlf.split('\r\n').filter((l) => l.startsWith('{')).length, 4);
  t.false(/[^\r]\n/.test(crlf));
});

test('toJsonl: shuffle is a deterministic permutation', (t) => {
  const snap = new SnapshotBuilder();
  for (let i = 0; i < 50; i++) snap.record(`k${i}`, `v${i}`);
  const a = snap.toJsonl({ shuffle: 1 });
  t.deepEqual(a, snap.toJsonl({ shuffle: 1 }));
  t.notDeepEqual(a, snap.toJsonl({ shuffle: 2 }));
  t.notDeepEqual(a, snap.toJsonl());
  t.deepEqual(lines(a).sort(), lines(snap.toJsonl()).sort());
  t.is(parse(lines(a)[0]!).commit_ts, 100);
});

test('toFsm: a native snapshot of the records', (t) => {
  const fsm = new SnapshotBuilder().record('k', 'v').toFsm({ lastCommitTs: 100n });
  t.is(fsm.subarray(0, 8).toString('latin1'), 'EKVPBBL1');
  t.is(fsm.readBigUInt64LE(8), 100n);
});

test('toJson writes bigints as integers', (t) => {
  t.is(toJson({ a: 112354531483516928n, b: [1, 'x', null, true], c: {} }), '{"a":112354531483516928,"b":[1,"x",null,true],"c":{}}');
});
