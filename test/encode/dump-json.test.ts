import test from 'ava';
import { DumpJsonError, parseBucketJson, parseDumpManifest, parseKeymapLine, parseSidecar, parseTimeMs } from '../../lib/encode/dump-json.js';

const b = (s: string) => Buffer.from(s);

test('times: RFC 3339 as Go parses it, to milliseconds (floor); unparsable or before 1970 is 0', (t) => {
  t.is(parseTimeMs('2024-04-29T12:34:56.123Z'), 1714394096123);
  t.is(parseTimeMs('2024-04-29T12:34:56.1239999Z'), 1714394096123);
  t.is(parseTimeMs('2024-04-29T12:34:56.5Z'), 1714394096500);
  t.is(parseTimeMs('2024-04-29T14:34:56+02:00'), 1714394096000);
  t.is(parseTimeMs('2024-04-29T10:34:56-02:00'), 1714394096000);
  t.is(parseTimeMs('1970-01-01T00:00:00Z'), 0);
  t.is(parseTimeMs('1969-12-31T23:59:59Z'), 0);
  // Years after 9999 as our decoder writes them (elastickv's encoder cannot parse these: it restores 0).
  t.is(parseTimeMs('10889-08-02T05:31:50.655Z'), 281474976710655);
  for (const bad of ['', 'yesterday', '2024-02-30T00:00:00Z', '2024-04-29 12:34:56Z', '2024-04-29T24:00:00Z', '2024-04-29T12:34:56', '2024-13-01T00:00:00Z']) {
    t.is(parseTimeMs(bad), 0, bad);
  }
  t.is(parseTimeMs('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
});

test('sidecar: fields as the decoder writes them; absent strings are empty; a lone surrogate becomes U+FFFD', (t) => {
  const s = parseSidecar(b('{"format_version":1,"etag":"e","size_bytes":5,"last_modified":"2024-04-29T12:34:56.123Z","content_type":"t","user_metadata":{"k":"\\ud800x","z":"1"},"extra":[1]}'), 'x');
  t.deepEqual(s, {
    etag: 'e',
    sizeBytes: 5,
    lastModifiedMs: 1714394096123,
    contentType: 't',
    contentEncoding: '',
    cacheControl: '',
    contentDisposition: '',
    userMetadata: [
      ['k', '\ufffdx'],
      ['z', '1'],
    ],
  });
  t.is(parseSidecar(b('{"format_version":1,"size_bytes":0,"user_metadata":{}}'), 'x').userMetadata, null);
  for (const [bad, why] of [
    ['{"format_version":2,"size_bytes":0}', /unsupported format_version 2/],
    ['{"format_version":1,"size_bytes":"5"}', /"size_bytes" must be an integer/],
    ['{"format_version":1,"size_bytes":1.5}', /"size_bytes" must be an integer/],
    ['{"format_version":1,"size_bytes":-1}', /negative size_bytes/],
    ['{"format_version":1,"etag":5}', /"etag" must be a string/],
    ['{"format_version":1,"user_metadata":{"a":1}}', /user_metadata "a" must be a string/],
    ['[1]', /not a JSON object/],
    ['{', /not valid JSON/],
  ] as const) {
    const e = t.throws(() => parseSidecar(b(bad), 'x'), { instanceOf: DumpJsonError }, bad);
    t.regex(e!.message, why);
  }
});

test('_bucket.json: name required, creation_time_iso to milliseconds', (t) => {
  t.deepEqual(parseBucketJson(b('{"format_version":1,"name":"n","creation_time_iso":"2024-04-28T12:34:56Z","acl":"a"}'), 'x'), {
    name: 'n',
    createdMs: 1714307696000,
    owner: '',
    region: '',
    acl: 'a',
  });
  t.throws(() => parseBucketJson(b('{"format_version":1}'), 'x'), { message: /empty bucket name/ });
});

test('MANIFEST.json: last_commit_ts read exactly above 2^53, exclusions, phase checked', (t) => {
  const m = parseDumpManifest(b('{"format_version":1,"phase":"phase0-snapshot-decode","cluster_id":"c","last_commit_ts":18446744073709551615,"exclusions":{"include_orphans":true,"rename_s3_collisions":true}}'));
  t.deepEqual(m, { lastCommitTs: 18446744073709551615n, clusterId: 'c', includeIncompleteUploads: false, includeOrphans: true, renameCollisions: true });
  t.is(parseDumpManifest(b('{"format_version":1,"phase":"phase0-snapshot-decode"}')).lastCommitTs, 0n);
  t.throws(() => parseDumpManifest(b('{"format_version":1,"phase":"other"}')), { message: /unknown phase/ });
  t.throws(() => parseDumpManifest(b('{"format_version":1,"phase":"phase0-snapshot-decode","exclusions":{"include_orphans":"yes"}}')), { message: /must be a boolean/ });
});

test('KEYMAP line: base64url original, known kinds only', (t) => {
  t.deepEqual(parseKeymapLine(b('{"encoded":"a/b.elastickv-leaf-data","original":"YS9i_w","kind":"s3-leaf-data"}'), 'x'), {
    encoded: 'a/b.elastickv-leaf-data',
    original: Buffer.from([0x61, 0x2f, 0x62, 0xff]),
    kind: 's3-leaf-data',
  });
  t.throws(() => parseKeymapLine(b('{"encoded":"a","original":"YQ","kind":"rename"}'), 'x'), { message: /unknown kind/ });
  t.throws(() => parseKeymapLine(b('{"encoded":"a","original":"Y!","kind":"sha-fallback"}'), 'x'), { message: /not base64url/ });
  t.throws(() => parseKeymapLine(b('{"encoded":"","original":"YQ","kind":"sha-fallback"}'), 'x'), { message: /non-empty/ });
  t.throws(() => parseKeymapLine(b('{"encoded":"a/b","original":"YS9i","kind":"s3-leaf-data"}'), 'x'), { message: /must end in \.elastickv-leaf-data/ });
  t.throws(() => parseKeymapLine(b('{"encoded":"x.user-data","original":"eA","kind":"meta-suffix-rename"}'), 'x'), { message: /must end in \.elastickv-meta\.json/ });
  t.is(parseKeymapLine(b('{"encoded":"x.elastickv-meta.json.user-data","original":"eC5lbGFzdGlja3YtbWV0YS5qc29u","kind":"meta-suffix-rename"}'), 'x').original.toString(), 'x.elastickv-meta.json');
});
