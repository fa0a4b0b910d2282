import test from 'ava';
import { renderDumpManifest, snapshotIndexFromPath, type DumpManifestInfo } from '../lib/core/dump-files.js';

// SPEC §6 MANIFEST.json: elastickv's WriteManifest (two-space indent, HTML
// escaping off, trailing "\n"), Phase 0 fields in order: format_version,
// phase, cluster_id (if non-empty), snapshot_index (if given), last_commit_ts
// (if non-zero), wall_time_iso, source {fsm_path}, adapters {s3: {buckets}}
// (buckets omitted when none → {}), exclusions {include_incomplete_uploads,
// include_orphans, preserve_sqs_visibility false, include_sqs_side_records
// false, rename_s3_collisions only when true}, checksum_algorithm,
// checksum_format, encoded_filename_charset, key_segment_max_bytes,
// s3_meta_suffix, s3_collision_strategy, dynamodb_layout, then decoder.

const WALL = new Date(Date.UTC(2026, 3, 29, 12, 34, 56, 789)); // 2026-04-29T12:34:56.789Z

function info(over: Partial<DumpManifestInfo> = {}): DumpManifestInfo {
  return {
    wallTime: WALL,
    source: '-',
    buckets: [],
    includeIncompleteUploads: false,
    includeOrphans: false,
    renameCollisions: false,
    decoder: 'ekv-s3-decode 1.2.3',
    ...over,
  };
}

const TAIL = `  "checksum_algorithm": "sha256",
  "checksum_format": "sha256sum",
  "encoded_filename_charset": "rfc3986-unreserved-plus-percent",
  "key_segment_max_bytes": 240,
  "s3_meta_suffix": ".elastickv-meta.json",
  "s3_collision_strategy": "leaf-data-suffix",
  "dynamodb_layout": "per-item",
  "decoder": "ekv-s3-decode 1.2.3"
}
`;

test('golden: every optional field present, in the order of §6', (t) => {
  const out = renderDumpManifest(
    info({
      clusterId: 'prod-eu',
      snapshotIndex: 255n,
      lastCommitTs: 100n,
      source: '/data/fsm-snap/00000000000000ff.fsm',
      buckets: [Buffer.from('zeta'), Buffer.from('alpha')],
      includeIncompleteUploads: true,
      includeOrphans: true,
      renameCollisions: true,
    }),
  );
  t.is(
    out.toString('utf8'),
    `{
  "format_version": 1,
  "phase": "phase0-snapshot-decode",
  "cluster_id": "prod-eu",
  "snapshot_index": 255,
  "last_commit_ts": 100,
  "wall_time_iso": "2026-04-29T12:34:56.789Z",
  "source": {
    "fsm_path": "/data/fsm-snap/00000000000000ff.fsm"
  },
  "adapters": {
    "s3": {
      "buckets": [
        "alpha",
        "zeta"
      ]
    }
  },
  "exclusions": {
    "include_incomplete_uploads": true,
    "include_orphans": true,
    "preserve_sqs_visibility": false,
    "include_sqs_side_records": false,
    "rename_s3_collisions": true
  },
${TAIL}`,
  );
});

test('golden: minimal (JSONL from stdin, no buckets): no cluster_id, snapshot_index, last_commit_ts or rename_s3_collisions; adapters.s3 is {}', (t) => {
  const out = renderDumpManifest(info());
  t.is(
    out.toString('utf8'),
    `{
  "format_version": 1,
  "phase": "phase0-snapshot-decode",
  "wall_time_iso": "2026-04-29T12:34:56.789Z",
  "source": {
    "fsm_path": "-"
  },
  "adapters": {
    "s3": {}
  },
  "exclusions": {
    "include_incomplete_uploads": false,
    "include_orphans": false,
    "preserve_sqs_visibility": false,
    "include_sqs_side_records": false
  },
${TAIL}`,
  );
});

test('cluster_id only if non-empty', (t) => {
  t.false(renderDumpManifest(info({ clusterId: '' })).toString().includes('cluster_id'));
  t.true(renderDumpManifest(info({ clusterId: 'c' })).toString().includes('\n  "cluster_id": "c",\n'));
});

test('last_commit_ts omitted when 0 or absent', (t) => {
  t.false(renderDumpManifest(info({ lastCommitTs: 0n })).toString().includes('last_commit_ts'));
  t.false(renderDumpManifest(info({})).toString().includes('last_commit_ts'));
  t.true(renderDumpManifest(info({ lastCommitTs: 1n })).toString().includes('\n  "last_commit_ts": 1,\n'));
});

test('snapshot_index written when given, even 0; uint64 values exactly', (t) => {
  t.true(renderDumpManifest(info({ snapshotIndex: 0n })).toString().includes('\n  "snapshot_index": 0,\n'));
  const big = renderDumpManifest(info({ snapshotIndex: 18446744073709551615n, lastCommitTs: 18446744073709551615n })).toString();
  t.true(big.includes('\n  "snapshot_index": 18446744073709551615,\n  "last_commit_ts": 18446744073709551615,\n'), big);
});

test('rename_s3_collisions only when true', (t) => {
  t.false(renderDumpManifest(info({ renameCollisions: false })).toString().includes('rename_s3_collisions'));
  t.true(
    renderDumpManifest(info({ renameCollisions: true }))
      .toString()
      .includes('"include_sqs_side_records": false,\n    "rename_s3_collisions": true\n  },'),
  );
});

test('trailing newline, exactly one', (t) => {
  const s = renderDumpManifest(info()).toString();
  t.true(s.endsWith('}\n'));
  t.false(s.endsWith('\n\n'));
});

test('HTML escaping off: < > & raw; U+2028/U+2029 still escaped (Go json.Encoder)', (t) => {
  const s = renderDumpManifest(info({ clusterId: '<a&b>', source: 'x&y<z>\u2028\u2029"\\' })).toString();
  t.true(s.includes('\n  "cluster_id": "<a&b>",\n'), s);
  t.true(s.includes('\n    "fsm_path": "x&y<z>\\u2028\\u2029\\"\\\\"\n'), s);
});

test('buckets sorted bytewise (uppercase < _ < lowercase), invalid UTF-8 written as \\ufffd', (t) => {
  const s = renderDumpManifest(info({ buckets: [Buffer.from('b'), Buffer.from('_x'), Buffer.from([0xff]), Buffer.from('B'), Buffer.from('a')] })).toString();
  t.true(
    s.includes(`  "adapters": {
    "s3": {
      "buckets": [
        "B",
        "_x",
        "a",
        "b",
        "\\ufffd"
      ]
    }
  },
`),
    s,
  );
});

test('the buckets array given is not reordered in place', (t) => {
  const buckets = [Buffer.from('b'), Buffer.from('a')];
  renderDumpManifest(info({ buckets }));
  t.deepEqual(
    buckets.map((b) => b.toString()),
    ['b', 'a'],
  );
});

test('wall_time_iso: RFC 3339 UTC, fractional seconds trimmed of trailing zeros', (t) => {
  const wall = (ms: number): string => {
    const m = /"wall_time_iso": "([^"]*)"/.exec(renderDumpManifest(info({ wallTime: new Date(ms) })).toString());
    return m?.[1] ?? '';
  };
  const base = Date.UTC(2026, 3, 29, 12, 34, 0);
  t.is(wall(base + 56_789), '2026-04-29T12:34:56.789Z');
  t.is(wall(base + 56_780), '2026-04-29T12:34:56.78Z');
  t.is(wall(base + 56_700), '2026-04-29T12:34:56.7Z');
  t.is(wall(base + 56_007), '2026-04-29T12:34:56.007Z');
  t.is(wall(base + 56_000), '2026-04-29T12:34:56Z');
  t.is(wall(base), '2026-04-29T12:34:00Z');
  t.is(wall(Date.UTC(2030, 0, 1, 0, 0, 0, 0)), '2030-01-01T00:00:00Z');
  t.is(wall(Date.UTC(2030, 0, 1, 0, 0, 10, 100)), '2030-01-01T00:00:10.1Z');
});

// ------------------------------------------------------------ snapshotIndexFromPath

test('snapshotIndexFromPath: <16 hex digits>.fsm is the index in hex', (t) => {
  t.is(snapshotIndexFromPath('/x/00000000000000ff.fsm'), 255n);
  t.is(snapshotIndexFromPath('00000000000000ff.fsm'), 255n);
  t.is(snapshotIndexFromPath('data/fsm-snap/0000000000000010.fsm'), 16n);
  t.is(snapshotIndexFromPath('./0000000000000000.fsm'), 0n);
  t.is(snapshotIndexFromPath('/x/ffffffffffffffff.fsm'), 18446744073709551615n);
  t.is(snapshotIndexFromPath('/x/00000000000000FF.fsm'), 255n);
  t.is(snapshotIndexFromPath('/x/0123456789abcdef.fsm'), 81985529216486895n);
});

test('snapshotIndexFromPath: non-matching names → undefined', (t) => {
  for (const p of [
    '-',
    '',
    '/x/ff.fsm',
    '/x/000000000000000ff.fsm', // 17 digits
    '/x/0000000000000ff.fsm', // 15 digits
    '/x/a00000000000000ff.fsm',
    '/x/00000000000000fg.fsm',
    '/x/00000000000000ff.fsm.bak',
    '/x/00000000000000ff.jsonl',
    '/x/00000000000000ff',
    '/x/00000000000000ff.fsm/',
    '/x/snap-00000000000000ff.fsm',
    '/x/00000000000000ff.FSM',
    '/00000000000000ff.fsm/snap.jsonl',
  ]) {
    t.is(snapshotIndexFromPath(p), undefined, p);
  }
});

test('filters: after decoder, buckets sorted bytewise without repeats, prefix; each omitted when not given; absent without filters', (t) => {
  const tail = (b: Buffer) => b.toString().slice(b.toString().indexOf('  "decoder"'));
  const decoderLine = (d: string) => `  "decoder": ${JSON.stringify(d)}`;
  const i = info({ filters: { buckets: ['zeta', 'Alpha', 'zeta', 'é'], prefix: 'logs/' } });
  t.is(tail(renderDumpManifest(i)), `${decoderLine(i.decoder)},\n  "filters": {\n    "buckets": [\n      "Alpha",\n      "zeta",\n      "é"\n    ],\n    "prefix": "logs/"\n  }\n}\n`);
  t.is(tail(renderDumpManifest(info({ filters: { prefix: 'p' } }))), `${decoderLine(i.decoder)},\n  "filters": {\n    "prefix": "p"\n  }\n}\n`);
  t.is(tail(renderDumpManifest(info({ filters: { buckets: [], prefix: '' } }))), `${decoderLine(i.decoder)}\n}\n`);
  t.is(tail(renderDumpManifest(info())), `${decoderLine(i.decoder)}\n}\n`);
});
