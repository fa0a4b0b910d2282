import test from 'ava';
import { decodeManifest, encodeManifest } from '../lib/core/manifest-codec.js';

const roundTrip = (b: Buffer): Buffer => decodeManifest(Buffer.from(encodeManifest(b)));

test('a Go-encoded manifest shrinks to well under half and comes back exactly', (t) => {
  const m = Buffer.from(
    '{"upload_id":"c000000000000000","etag":"0ea6c662c0443d6e3973509a70cc810c","size_bytes":1024,"last_modified_hlc":115816896921600000,' +
      '"content_type":"application/octet-stream","parts":[{"part_no":1,"etag":"0ea6c662c0443d6e3973509a70cc810c","size_bytes":1024,"chunk_count":1,"chunk_sizes":[1024]}]}',
  );
  const e = encodeManifest(m);
  t.true(e.length < m.length / 2, `${e.length} bytes`);
  t.true(roundTrip(m).equals(m));
});

test('each token becomes its code byte, the longest that matches first', (t) => {
  // '{"upload_id":"' is token 19 (code 0x17), '","etag":"' token 21 (0x19), ']}]}' token 24 (0x1c).
  const m = Buffer.from('{"upload_id":"u","etag":"e","x":[{}]}]}');
  t.deepEqual([...encodeManifest(m)], [0x17, 0x75, 0x19, 0x65, ...Buffer.from('","x":[{}'), 0x1c]);
  // Near the end, a token's first bytes alone are kept as they are.
  t.deepEqual([...encodeManifest(Buffer.from('x","et'))], [...Buffer.from('x","et')]);
  t.deepEqual([...encodeManifest(Buffer.from(']}]'))], [...Buffer.from(']}]')]);
});

test('every field name and separator Go writes round-trips, in any arrangement', (t) => {
  const m = Buffer.from(
    '{"upload_id":"","etag":"x","size_bytes":0,"last_modified_hlc":0,"content_type":"t","content_encoding":"gzip","cache_control":"c","content_disposition":"d",' +
      '"user_metadata":{"a":"b"},"parts":[{"part_no":1,"etag":"e","size_bytes":1,"chunk_count":1,"chunk_sizes":[1],"part_version":3,"chunk_ref_version":4,"offloaded":true},{"part_no":2}]}' +
      ',"etag":"',
  );
  t.true(roundTrip(m).equals(m));
});

test('bytes that valid JSON never holds force the verbatim form, which is exact too', (t) => {
  for (const s of ['\x00{}', '{"a":"\x01"}', 'x\x1f', '\x00', '\x0b\x0c\x0e']) {
    const b = Buffer.from(s, 'latin1');
    t.is(encodeManifest(b)[0], 0);
    t.true(roundTrip(b).equals(b));
  }
  t.true(roundTrip(Buffer.alloc(0)).equals(Buffer.alloc(0)));
  t.true(roundTrip(Buffer.from('\t\n\r {}')).equals(Buffer.from('\t\n\r {}')));
});

test('random byte strings round-trip', (t) => {
  let seed = 99;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['{"upload_id":"', '","etag":"', ',"chunk_sizes":[', ']}]}', 'application/octet-stream', '"', ',', '{', '}', 'a', '\x00', '\x05', '\xff', ' '];
  for (let i = 0; i < 3000; i++) {
    let s = '';
    const n = rnd(12);
    for (let j = 0; j < n; j++) s += pieces[rnd(pieces.length)];
    const b = Buffer.from(s, 'latin1');
    t.true(roundTrip(b).equals(b), JSON.stringify(s));
  }
});

test('large values grow the scratch buffer', (t) => {
  const b = Buffer.from('{"upload_id":"' + 'z'.repeat(100000) + '","etag":"e"}');
  t.true(roundTrip(b).equals(b));
});
