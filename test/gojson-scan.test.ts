import test from 'ava';
import { GoJsonError } from '../lib/core/gojson-error.js';
import { parseManifest, type ObjectManifest } from '../lib/core/s3-schemas.js';

// Expected outputs are written out by hand. They were checked against Go's
// encoding/json (json.MarshalIndent, json.Encoder, json.Unmarshal); where
// Go before 1.22 differed (\b and \f), SPEC §6 and Go ≥ 1.22 are followed.

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

const manifest = (json: string | Buffer): ObjectManifest =>
  parseManifest(typeof json === 'string' ? Buffer.from(json, 'utf8') : json);

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

test('unknown fields: must still be valid JSON', (t) => {
  t.throws(() => manifest('{"x":[1,]}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":{"a"}}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":tru}'), { instanceOf: GoJsonError });
  t.throws(() => manifest('{"x":{1:2}}'), { instanceOf: GoJsonError });
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
