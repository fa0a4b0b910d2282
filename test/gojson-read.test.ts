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

test('decode: missing fields keep their zero values', (t) => {
  const m = manifest('{}');
  t.is(m.etag, '');
  t.is(m.sizeBytes, 0n);
  t.is(m.userMetadata.size, 0);
  t.deepEqual(m.parts, []);
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

test('unknown fields: ignored at every level, whatever their value', (t) => {
  const m = manifest(
    '{"x":{"y":[1,{"z":null}],"w":"\\ud800"},"etag":"e","parts":[{"unknown":[{}, []],"part_no":3,"more":{"a":{"b":true}}}],"tail":false}',
  );
  t.is(m.etag, 'e');
  t.is(m.parts[0]?.partNo, 3n);
  t.is(manifest('{"etagx":"no","etag_":"no"}').etag, '');
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
