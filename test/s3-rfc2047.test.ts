import test from 'ava';
import { encodeMetadataValue } from '../lib/s3/rfc2047.js';

test('ASCII values pass unchanged; others become one RFC 2047 B-encoded word of their UTF-8', (t) => {
  t.is(encodeMetadataValue('alice'), 'alice');
  t.is(encodeMetadataValue('a b\tc ~!'), 'a b\tc ~!');
  t.is(encodeMetadataValue(''), '');
  // 'Zürich' = 5a c3 bc 72 69 63 68 → base64 WsO8cmljaA==
  t.is(encodeMetadataValue('Zürich'), '=?UTF-8?B?WsO8cmljaA==?=');
  // A newline cannot travel in a header either: 61 0a 62 → YQpi
  t.is(encodeMetadataValue('a\nb'), '=?UTF-8?B?YQpi?=');
});

test('a value that already looks like an encoded word is encoded, so a reader does not decode it into something else', (t) => {
  // '=?x?=' = 3d 3f 78 3f 3d → PT94Pz0=
  t.is(encodeMetadataValue('=?x?='), '=?UTF-8?B?PT94Pz0=?=');
});
