import test from 'ava';
import {
  BUCKET_META_SCHEMA,
  GoJsonError,
  GoMap,
  MANIFEST_SCHEMA,
  Schema,
  decodeStruct,
  encodeLine,
  marshal,
  marshalIndent,
  parseBucketMeta,
  parseManifest,
  quoteBytes,
  quoteString,
  type ObjectManifest,
} from '../lib/core/gojson.js';

// Expected outputs are written out by hand. They were checked against Go's
// encoding/json (json.MarshalIndent, json.Encoder, json.Unmarshal); where
// Go before 1.22 differed (\b and \f), SPEC §6 and Go ≥ 1.22 are followed.

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

// ---------------------------------------------------------------------------
// Writer: string escaping
// ---------------------------------------------------------------------------

test('escaping: < > & become \\u003c \\u003e \\u0026 by default (marshalIndent)', (t) => {
  t.is(marshalIndent('a<b>c&d'), '"a\\u003cb\\u003ec\\u0026d"');
  t.is(marshal('<&>'), '"\\u003c\\u0026\\u003e"');
});

test('escaping: < > & stay raw with escapeHtml false', (t) => {
  t.is(marshalIndent('a<b>c&d', { escapeHtml: false }), '"a<b>c&d"');
  t.is(encodeLine('<&>', { escapeHtml: false }), '"<&>"\n');
});

test('escaping: encodeLine escapes < > & unless told not to, like json.Encoder', (t) => {
  t.is(encodeLine('<&>'), '"\\u003c\\u0026\\u003e"\n');
});

test('escaping: U+2028 and U+2029 are always escaped', (t) => {
  t.is(marshalIndent('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
  t.is(marshalIndent('\u2028\u2029', { escapeHtml: false }), '"\\u2028\\u2029"');
  t.is(encodeLine('x\u2029', { escapeHtml: false }), '"x\\u2029"\n');
  // The raw bytes E2 80 A8 in a Buffer too.
  t.is(quoteBytes(bytes([0xe2, 0x80, 0xa8, 0xff]), false), '"\\u2028\\ufffd"');
});

test('escaping: quote and backslash become \\" and \\\\', (t) => {
  t.is(marshalIndent('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
});

test('escaping: \\b \\f \\n \\r \\t use their short forms', (t) => {
  t.is(marshalIndent('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"');
});

test('escaping: other bytes below 0x20 become \\u00xx in lowercase hex', (t) => {
  t.is(marshalIndent('\x00\x01\x07\x0b\x0e\x1a\x1b\x1f'), '"\\u0000\\u0001\\u0007\\u000b\\u000e\\u001a\\u001b\\u001f"');
  t.is(quoteBytes(bytes([0x00, 0x1f, 0x08])), '"\\u0000\\u001f\\b"');
});

test('escaping: DEL 0x7f, space and other printable ASCII are raw', (t) => {
  t.is(marshalIndent('\x7f ~!#$%\'()*+,-./:;=?@[]^_`{|}'), '"\x7f ~!#$%\'()*+,-./:;=?@[]^_`{|}"');
});

test('escaping: non-ASCII UTF-8 is written raw', (t) => {
  t.is(marshalIndent('é 日本 😀 \ufffd \u00a0'), '"é 日本 😀 \ufffd \u00a0"');
  t.is(quoteBytes(Buffer.from('é😀', 'utf8')), '"é😀"');
});

test('escaping: each invalid UTF-8 byte in a Buffer becomes the six characters \\ufffd', (t) => {
  t.is(marshalIndent(bytes('a', [0xff], 'b')), '"a\\ufffdb"');
  // A truncated 3-byte sequence: one replacement per byte.
  t.is(marshalIndent(bytes([0xe2, 0x82], 'x')), '"\\ufffd\\ufffdx"');
  // An encoded surrogate (ED A0 80) and an overlong NUL (C0 80).
  t.is(marshalIndent(bytes([0xed, 0xa0, 0x80])), '"\\ufffd\\ufffd\\ufffd"');
  t.is(marshalIndent(bytes([0xc0, 0x80])), '"\\ufffd\\ufffd"');
  // Beyond U+10FFFF (F4 90 80 80) and a lone continuation byte.
  t.is(marshalIndent(bytes([0xf4, 0x90, 0x80, 0x80])), '"\\ufffd\\ufffd\\ufffd\\ufffd"');
  // Valid sequences around invalid bytes stay raw; escapes still apply.
  t.is(marshalIndent(bytes([0xc3, 0xa9, 0x80], '<"', [0xf0, 0x9f, 0x98, 0x80, 0xf0])), '"é\\ufffd\\u003c\\"😀\\ufffd"');
  t.is(marshalIndent(bytes('<', [0xff]), { escapeHtml: false }), '"<\\ufffd"');
  // A valid encoding of U+FFFD itself is just a character.
  t.is(marshalIndent(bytes([0xef, 0xbf, 0xbd])), '"\ufffd"');
});

test('escaping: a lone surrogate in a JS string becomes \\ufffd; a pair is raw', (t) => {
  t.is(marshalIndent('a\ud800b'), '"a\\ufffdb"');
  t.is(marshalIndent('\udc00'), '"\\ufffd"');
  t.is(marshalIndent('\ude00\ud83d'), '"\\ufffd\\ufffd"');
  t.is(marshalIndent('\ud83d\ude00'), '"😀"');
  t.is(marshalIndent('x\ud83d'), '"x\\ufffd"');
});

test('escaping: the exported quoting helpers agree with the writer', (t) => {
  t.is(quoteString('<a>'), '"\\u003ca\\u003e"');
  t.is(quoteString('<a>', false), '"<a>"');
  t.is(quoteBytes(new Uint8Array([0x3c, 0xff])), '"\\u003c\\ufffd"');
});

test('escaping: struct field names and map keys are escaped like strings', (t) => {
  t.is(marshal({ 'a<b': 1, 'q"': 2 }), '{"a\\u003cb":1,"q\\"":2}');
  t.is(encodeLine(new GoMap([['k&\n', 'v']]), { escapeHtml: false }), '{"k&\\n":"v"}\n');
});

// ---------------------------------------------------------------------------
// Writer: layout
// ---------------------------------------------------------------------------

test('indentation: nested structs, arrays and maps, empty and not', (t) => {
  const v = {
    a: 1,
    b: [1, 'x'],
    c: [],
    d: {},
    e: { k: true },
    f: [{ g: null }, [], new GoMap()],
    h: new GoMap([
      ['z', [new GoMap([['y', false]])]],
      ['m', {}],
    ]),
  };
  t.is(
    marshalIndent(v),
    '{\n' +
      '  "a": 1,\n' +
      '  "b": [\n' +
      '    1,\n' +
      '    "x"\n' +
      '  ],\n' +
      '  "c": [],\n' +
      '  "d": {},\n' +
      '  "e": {\n' +
      '    "k": true\n' +
      '  },\n' +
      '  "f": [\n' +
      '    {\n' +
      '      "g": null\n' +
      '    },\n' +
      '    [],\n' +
      '    {}\n' +
      '  ],\n' +
      '  "h": {\n' +
      '    "m": {},\n' +
      '    "z": [\n' +
      '      {\n' +
      '        "y": false\n' +
      '      }\n' +
      '    ]\n' +
      '  }\n' +
      '}',
  );
});

test('indentation: empty top-level values and scalars', (t) => {
  t.is(marshalIndent([]), '[]');
  t.is(marshalIndent({}), '{}');
  t.is(marshalIndent(new GoMap()), '{}');
  t.is(marshalIndent(null), 'null');
  t.is(marshalIndent(true), 'true');
  t.is(marshalIndent('s'), '"s"');
});

test('marshalIndent: no trailing newline', (t) => {
  const out = marshalIndent({ format_version: 1, name: 'b' });
  t.is(out, '{\n  "format_version": 1,\n  "name": "b"\n}');
});

test('structs: fields in insertion order; undefined fields are left out', (t) => {
  t.is(marshal({ z: 1, a: 2, m: undefined, b: 'x' }), '{"z":1,"a":2,"b":"x"}');
  t.is(marshalIndent({ only: undefined }), '{}');
});

test('maps: keys sorted bytewise by UTF-8, uppercase before lowercase, non-ASCII last', (t) => {
  const m = new GoMap(
    ['b', 'B', 'a', 'é', 'z', '😀', '\uff01', 'aa', '', 'A'].map((k, i): [string, number] => [k, i]),
  );
  // U+FF01 (EF BC 81) sorts before U+1F600 (F0 9F 98 80) by bytes, although
  // its UTF-16 code unit 0xFF01 is above the surrogate 0xD83D.
  t.is(marshal(m), '{"":8,"A":9,"B":1,"a":2,"aa":7,"b":0,"z":4,"é":3,"！":6,"😀":5}');
  t.is(
    marshalIndent(new GoMap([['b', 1], ['a', 2]])),
    '{\n  "a": 2,\n  "b": 1\n}',
  );
});

test('maps: a repeated key in the constructor keeps the later value', (t) => {
  t.is(marshal(new GoMap([['k', 1], ['k', 2]])), '{"k":2}');
});

test('encodeLine: compact JSON and one newline, like json.Encoder', (t) => {
  const line = encodeLine(
    { encoded: 'a/b<c>.elastickv-leaf-data', original: 'YS9iPGM-', kind: 's3-leaf-data', n: [1, 2], m: {} },
    { escapeHtml: false },
  );
  t.is(line, '{"encoded":"a/b<c>.elastickv-leaf-data","original":"YS9iPGM-","kind":"s3-leaf-data","n":[1,2],"m":{}}\n');
});

test('numbers: integers in decimal, bigint exactly; non-integers throw', (t) => {
  t.is(marshal([0, -0, 42, -7, 2 ** 53, 1e21]), '[0,0,42,-7,9007199254740992,1000000000000000000000]');
  t.is(marshal([18446744073709551615n, -9223372036854775808n]), '[18446744073709551615,-9223372036854775808]');
  t.throws(() => marshal(1.5), { instanceOf: GoJsonError });
  t.throws(() => marshal(Number.NaN), { instanceOf: GoJsonError });
  t.throws(() => marshal(Infinity), { instanceOf: GoJsonError });
});

test('writer: values outside the model throw', (t) => {
  t.throws(() => marshal(new Date(0) as never), { instanceOf: GoJsonError });
  t.throws(() => marshal(undefined as never), { instanceOf: GoJsonError });
});

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

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

test('decode: missing fields keep their zero values', (t) => {
  const m = manifest('{}');
  t.is(m.etag, '');
  t.is(m.sizeBytes, 0n);
  t.is(m.userMetadata.size, 0);
  t.deepEqual(m.parts, []);
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

test('names: matched case-insensitively', (t) => {
  const m = manifest('{"ETAG":"a","Size_Bytes":5,"UPLOAD_id":"u","Parts":[{"PART_NO":4,"Offloaded":true}]}');
  t.is(m.etag, 'a');
  t.is(m.sizeBytes, 5n);
  t.is(m.uploadId, 'u');
  t.is(m.parts[0]?.partNo, 4n);
  t.is(m.parts[0]?.offloaded, true);
});

test('names: Unicode simple folding lets ſ (U+017F) match s and the Kelvin sign (U+212A) match k', (t) => {
  t.is(manifest('{"\u017fize_bytes":7}').sizeBytes, 7n);
  t.is(parseBucketMeta(Buffer.from('{"buc\u212aet_name":"b"}')).bucketName, 'b');
  // Dotted capital I (U+0130) and dotless i (U+0131) do not fold to i.
  t.is(manifest('{"upload_\u0130d":"x","UPLOAD_\u0131D":"y"}').uploadId, '');
  // Escapes in keys are decoded before matching.
  t.is(manifest('{"\\u0065tag":"e"}').etag, 'e');
});

test('names: an exact match wins over a case-insensitive one; among folded matches the first field', (t) => {
  const schema = new Schema([
    { name: 'name', prop: 'lower', type: 'string' },
    { name: 'NAME', prop: 'upper', type: 'string' },
  ]);
  const d = (s: string) => decodeStruct<{ lower: string; upper: string }>(Buffer.from(s), schema);
  t.deepEqual(d('{"NAME":"x"}'), { lower: '', upper: 'x' });
  t.deepEqual(d('{"Name":"y"}'), { lower: 'y', upper: '' });
  t.deepEqual(d('{"name":"a","NAME":"b"}'), { lower: 'a', upper: 'b' });
  t.deepEqual(d('{"nAME":"c","NAME":"d"}'), { lower: 'c', upper: 'd' });
});

test('null: leaves strings, numbers and bools as they are', (t) => {
  const m = manifest('{"etag":null,"size_bytes":null,"parts":[{"offloaded":null}]}');
  t.is(m.etag, '');
  t.is(m.sizeBytes, 0n);
  t.is(m.parts[0]?.offloaded, false);
  // A later null does not undo an earlier value.
  t.is(manifest('{"etag":"x","etag":null}').etag, 'x');
  t.is(manifest('{"size_bytes":9,"size_bytes":null}').sizeBytes, 9n);
});

test('null: empties maps and slices', (t) => {
  t.deepEqual(manifest('{"parts":null}').parts, []);
  t.deepEqual(manifest('{"parts":[{"part_no":1}],"parts":null}').parts, []);
  t.is(manifest('{"user_metadata":{"a":"1"},"user_metadata":null}').userMetadata.size, 0);
  t.deepEqual(manifest('{"parts":[{"chunk_sizes":[1],"chunk_sizes":null}]}').parts[0]?.chunkSizes, []);
});

test('null: a map value null is stored as ""', (t) => {
  t.deepEqual([...manifest('{"user_metadata":{"a":null,"b":"x"}}').userMetadata], [['a', ''], ['b', 'x']]);
});

test('null: a null array element is a zero element', (t) => {
  const m = manifest('{"parts":[null,{"part_no":1}]}');
  t.is(m.parts.length, 2);
  t.is(m.parts[0]?.partNo, 0n);
  t.is(m.parts[1]?.partNo, 1n);
  t.deepEqual(manifest('{"parts":[{"chunk_sizes":[null,5]}]}').parts[0]?.chunkSizes, [0n, 5n]);
});

test('null: a top-level null gives all defaults', (t) => {
  const m = manifest(' null\n');
  t.is(m.uploadId, '');
  t.deepEqual(m.parts, []);
  t.is(parseBucketMeta(Buffer.from('null')).generation, 0n);
});

for (const [name, json] of [
  ['number into string', '{"etag":1}'],
  ['bool into string', '{"etag":true}'],
  ['object into string', '{"etag":{}}'],
  ['string into int64', '{"size_bytes":"1"}'],
  ['bool into uint64', '{"last_modified_hlc":false}'],
  ['string into bool', '{"parts":[{"offloaded":"true"}]}'],
  ['number into bool', '{"parts":[{"offloaded":1}]}'],
  ['object into slice', '{"parts":{}}'],
  ['number into struct element', '{"parts":[1]}'],
  ['string into []uint64 element', '{"parts":[{"chunk_sizes":["1"]}]}'],
  ['array into map', '{"user_metadata":[]}'],
  ['number as map value', '{"user_metadata":{"a":1}}'],
  ['array at top level', '[]'],
  ['string at top level', '"x"'],
  ['number at top level', '1'],
] as const) {
  test(`types: a value of the wrong type is an error (${name})`, (t) => {
    t.throws(() => manifest(json), { instanceOf: GoJsonError });
  });
}

test('uint64: 0 and 18446744073709551615 decode; 18446744073709551616, -1 and -0 are errors', (t) => {
  t.is(manifest('{"last_modified_hlc":18446744073709551615}').lastModifiedHlc, 18446744073709551615n);
  t.is(manifest('{"last_modified_hlc":0}').lastModifiedHlc, 0n);
  t.throws(() => manifest('{"last_modified_hlc":18446744073709551616}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"last_modified_hlc":-1}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"last_modified_hlc":-0}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"parts":[{"chunk_sizes":[1,-1]}]}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"last_modified_hlc":123456789012345678901234567890}'), { instanceOf: GoJsonError });
});

test('int64: -9223372036854775808 and 9223372036854775807 decode; one beyond is an error; -0 is 0', (t) => {
  t.is(manifest('{"size_bytes":-9223372036854775808}').sizeBytes, -9223372036854775808n);
  t.is(manifest('{"size_bytes":9223372036854775807}').sizeBytes, 9223372036854775807n);
  t.is(manifest('{"size_bytes":-0}').sizeBytes, 0n);
  t.is(manifest('{"size_bytes":-5}').sizeBytes, -5n);
  t.throws(() => manifest('{"size_bytes":9223372036854775808}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"size_bytes":-9223372036854775809}'), { instanceOf: GoJsonError });
});

test('integers: 1e3, 1E3, 1.0 and 0.5 are rejected for int64 and uint64', (t) => {
  for (const lit of ['1e3', '1E3', '1.0', '0.5', '1e0']) {
    t.throws(() => manifest(`{"size_bytes":${lit}}`), { instanceOf: GoJsonError }, lit);
    t.throws(() => manifest(`{"parts":[{"part_no":${lit}}]}`), { instanceOf: GoJsonError }, lit);
  }
});

test('numbers: malformed literals are syntax errors, also in unknown fields', (t) => {
  for (const lit of ['01', '-', '1.', '1e', '+1', '.5', '0x10']) {
    t.throws(() => manifest(`{"size_bytes":${lit}}`), { instanceOf: GoJsonError }, lit);
    t.throws(() => manifest(`{"other":${lit}}`), { instanceOf: GoJsonError }, lit);
  }
  // Well-formed non-integers are fine where nobody reads them.
  t.is(manifest('{"other":[1.5e-3,-0.0,1E+2]}').etag, '');
});

test('strings: each invalid UTF-8 byte becomes one U+FFFD', (t) => {
  t.is(manifest(bytes('{"etag":"a', [0xff, 0xe2, 0x82], 'b"}')).etag, 'a\ufffd\ufffd\ufffdb');
  t.is(manifest(bytes('{"etag":"', [0xed, 0xa0, 0x80], '"}')).etag, '\ufffd\ufffd\ufffd');
  t.is(manifest(bytes('{"etag":"', [0xc0, 0x80, 0xc3, 0xa9], '"}')).etag, '\ufffd\ufffdé');
  t.is(manifest(bytes('{"etag":"', [0xf0, 0x9f, 0x98, 0x80, 0xf0, 0x9f], '"}')).etag, '😀\ufffd\ufffd');
  t.is(manifest(bytes('{"user_metadata":{"', [0xfe], '":"', [0x80], '"}}')).userMetadata.get('\ufffd'), '\ufffd');
});

test('strings: an escaped lone surrogate becomes U+FFFD; an escaped pair is one character', (t) => {
  t.is(manifest('{"etag":"\\ud800"}').etag, '\ufffd');
  t.is(manifest('{"etag":"a\\udc00b"}').etag, 'a\ufffdb');
  // The escape after a high surrogate that is not a low one is read anew.
  t.is(manifest('{"etag":"\\ud800\\u0041"}').etag, '\ufffdA');
  t.is(manifest('{"etag":"\\udc00\\ud800"}').etag, '\ufffd\ufffd');
  t.is(manifest('{"etag":"\\ud800\\ud800\\udc00"}').etag, '\ufffd\u{10000}');
  t.is(manifest('{"etag":"\\ud83d\\ude00|\\uDBFF\\uDFFF"}').etag, '😀|\u{10ffff}');
});

test('strings: escapes decode like Go', (t) => {
  t.is(manifest('{"etag":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u0000"}').etag, '"\\/\b\f\n\r\té\u0000');
});

test('strings: raw control characters, bad escapes and unterminated strings are errors', (t) => {
  t.throws(() => manifest('{"etag":"a\tb"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"a\nb"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest(bytes('{"etag":"', [0x00], '"}')), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"\\x"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"\\u12"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"\\u12g4"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"abc'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"other":"a\tb"}'), { instanceOf: GoJsonError });
  // DEL is not a control character for JSON.
  t.is(manifest('{"etag":"a\x7fb"}').etag, 'a\x7fb');
});

test('unknown fields: ignored at every level, whatever their value', (t) => {
  const m = manifest(
    '{"x":{"y":[1,{"z":null}],"w":"\\ud800"},"etag":"e","parts":[{"unknown":[{}, []],"part_no":3,"more":{"a":{"b":true}}}],"tail":false}',
  );
  t.is(m.etag, 'e');
  t.is(m.parts[0]?.partNo, 3n);
  t.is(manifest('{"etagx":"no","etag_":"no"}').etag, '');
});

test('unknown fields: must still be valid JSON', (t) => {
  t.throws(() => manifest('{"x":[1,]}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":{"a"}}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":tru}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":{1:2}}'), { instanceOf: GoJsonError });
});

test('duplicates: the later key wins, also across case variants', (t) => {
  t.is(manifest('{"etag":"a","etag":"b"}').etag, 'b');
  t.is(manifest('{"ETAG":"a","etag":"b"}').etag, 'b');
  t.is(manifest('{"etag":"a","ETag":"b"}').etag, 'b');
  t.deepEqual([...manifest('{"user_metadata":{"k":"1","k":"2"}}').userMetadata], [['k', '2']]);
});

test('duplicates: a repeated map merges into the earlier one', (t) => {
  const m = manifest('{"user_metadata":{"a":"1"},"user_metadata":{"b":"2"}}');
  t.deepEqual([...m.userMetadata], [['a', '1'], ['b', '2']]);
});

test('duplicates: a repeated array decodes into the earlier slice, element by element', (t) => {
  // Go reuses the slice: element 0 keeps the etag the second array omits.
  t.deepEqual(
    manifest('{"parts":[{"part_no":1,"etag":"a"}],"parts":[{"part_no":2}]}').parts.map((p) => [p.partNo, p.etag]),
    [[2n, 'a']],
  );
  // null keeps the earlier element; the slice takes the later length.
  t.deepEqual(manifest('{"parts":[{"chunk_sizes":[5,6]}],"parts":[{"chunk_sizes":[7,null,8]}]}').parts[0]?.chunkSizes, [7n, 6n, 8n]);
  t.deepEqual(manifest('{"parts":[{"chunk_sizes":[5,6,7]}],"parts":[{"chunk_sizes":[1]}]}').parts[0]?.chunkSizes, [1n]);
  // An empty array starts over.
  t.deepEqual(manifest('{"parts":[{"part_no":1}],"parts":[],"parts":[{}]}').parts.map((p) => p.partNo), [0n]);
});

test('duplicates: elements past a shorter repeat resurface from the backing array, as in Go', (t) => {
  const m = manifest('{"parts":[{"part_no":1,"etag":"a"},{"part_no":2},{"part_no":3}],"parts":[{"part_no":9}],"parts":[{},{},{}]}');
  t.deepEqual(m.parts.map((p) => [p.partNo, p.etag]), [[9n, 'a'], [2n, ''], [3n, '']]);
});

test('syntax: trailing non-whitespace after the value is an error; trailing whitespace is fine', (t) => {
  t.throws(() => manifest('{} x'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{}{}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('null null'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{},'), { instanceOf: GoJsonError });
  t.is(manifest(' \t\r\n{"etag":"e"} \n\t\r').etag, 'e');
});

test('syntax: empty input, a BOM, truncation and stray commas are errors', (t) => {
  t.throws(() => manifest(''), { instanceOf: GoJsonError });
  t.throws(() => manifest('   '), { instanceOf: GoJsonError });
  t.throws(() => manifest('\ufeff{}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"e"'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag":"e",}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{,}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"parts":[{},]}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"etag" "e"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{etag:"e"}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('nul'), { instanceOf: GoJsonError });
  // Non-JSON whitespace (form feed, NBSP) is not skipped.
  t.throws(() => manifest('\f{}'), { instanceOf: GoJsonError });
});

test('syntax: nesting up to 10000 levels is accepted, deeper is an error', (t) => {
  const nested = (levels: number) => '{"x":' + '['.repeat(levels - 1) + ']'.repeat(levels - 1) + '}';
  t.is(manifest(nested(10_000)).etag, '');
  t.throws(() => manifest(nested(10_001)), { instanceOf: GoJsonError, message: /max depth/ });
});

test('errors: GoJsonError carries a message with the byte offset', (t) => {
  const err = t.throws(() => manifest('{"size_bytes":1.5}'), { instanceOf: GoJsonError });
  t.regex(err!.message, /size_bytes/);
  t.regex(err!.message, /at byte 14/);
  t.is(err!.name, 'GoJsonError');
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

test('schemas: nested struct fields and int64 arrays decode', (t) => {
  const inner = new Schema([{ name: 'v', type: 'int64' }]);
  const outer = new Schema([
    { name: 'in', type: { struct: inner } },
    { name: 'list', type: 'int64-array' },
    { name: 'flag', type: 'bool' },
  ]);
  const d = decodeStruct<{ in: { v: bigint }; list: bigint[]; flag: boolean }>(
    Buffer.from('{"in":{"v":-3},"in":null,"list":[-1,2],"flag":true}'),
    outer,
  );
  t.deepEqual(d, { in: { v: -3n }, list: [-1n, 2n], flag: true });
});

test('schemas: non-ASCII field names are refused', (t) => {
  t.throws(() => new Schema([{ name: 'é', type: 'string' }]), { instanceOf: GoJsonError });
});
