import test from 'ava';
import { GoJsonError } from '../lib/core/gojson-error.js';
import { GoMap, encodeLine, marshal, marshalIndent, quoteBytes, quoteString } from '../lib/core/gojson-write.js';

// Expected outputs are written out by hand. They were checked against Go's
// encoding/json (json.MarshalIndent, json.Encoder, json.Unmarshal); where
// Go before 1.22 differed (\b and \f), SPEC §6 and Go ≥ 1.22 are followed.

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

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
