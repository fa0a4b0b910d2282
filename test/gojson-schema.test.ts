import test from 'ava';
import { GoJsonError } from '../lib/core/gojson-error.js';
import { decodeStruct } from '../lib/core/gojson-read.js';
import { Schema } from '../lib/core/gojson-schema.js';
import { parseBucketMeta, parseManifest, type ObjectManifest } from '../lib/core/s3-schemas.js';

// Expected outputs are written out by hand. They were checked against Go's
// encoding/json (json.MarshalIndent, json.Encoder, json.Unmarshal); where
// Go before 1.22 differed (\b and \f), SPEC §6 and Go ≥ 1.22 are followed.

const manifest = (json: string | Buffer): ObjectManifest =>
  parseManifest(typeof json === 'string' ? Buffer.from(json, 'utf8') : json);

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

test('schemas: non-ASCII field names are refused', (t) => {
  t.throws(() => new Schema([{ name: 'é', type: 'string' }]), { instanceOf: GoJsonError });
});
