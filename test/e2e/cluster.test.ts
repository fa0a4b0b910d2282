/**
 * SPEC §10 and §11 (--from-offload, local directory) end to end: one dump of
 * a whole cluster whose records are split over Raft groups — named as
 * INPUT files, found with --data-dir, or read from an offload store —
 * through the real CLI.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  catalogRouteKey,
  catalogRouteValue,
  NODE_FSM,
  offloadPayload,
  splitCluster,
  writeDataDir,
  writeOffloadStore,
  type TestRoute,
} from '../helpers/cluster.js';
import { buildFsm, testCrc32c } from '../helpers/fsm.js';
import * as K from '../helpers/keys.js';
import { compositeEtag, SnapshotBuilder } from '../helpers/snapshot.js';
import { assertDump, assertFailure, bytesOf, expectedChecksums, jsonLog, objectFiles, plainBucketJson, readTree, runCli, tempDir, type Dump, type Expected, type Form } from './harness.js';

// One bucket over three groups: objects before "h" in group 1, "h"…"p" in
// group 2, the rest — and every raw `!s3|…` key (bucket meta, chunkblobs),
// which sorts after every `!s3route|…` key — in group 3.
const ROUTES: TestRoute[] = [
  { routeId: 1, groupId: 1, start: '', end: K.routeKey('bkt', 1, 'h') },
  { routeId: 2, groupId: 2, start: K.routeKey('bkt', 1, 'h'), end: K.routeKey('bkt', 1, 'p'), version: 1 },
  { routeId: 3, groupId: 3, start: K.routeKey('bkt', 1, 'p') },
];
const BODIES = { apple: bytesOf('apple', 5000), banana: bytesOf('banana', 9000), kiwi: bytesOf('kiwi', 3000), pear: bytesOf('pear', 700) };

function wholeCluster(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'apple', BODIES.apple, { chunkSize: 2048 })
    .putObject('bkt', 'banana', BODIES.banana, { parts: 3, chunkSize: 1024 })
    .putObject('bkt', 'kiwi', BODIES.kiwi, { offloaded: true, chunkSize: 1024 })
    .putObject('bkt', 'pear/x', BODIES.pear);
}

const EXPECTED: Expected = {
  's3/bkt/_bucket.json': plainBucketJson('bkt'),
  ...objectFiles('bkt', 'apple', BODIES.apple),
  ...objectFiles('bkt', 'banana', BODIES.banana, { etag: compositeOf(BODIES.banana, 3) }),
  ...objectFiles('bkt', 'kiwi', BODIES.kiwi),
  ...objectFiles('bkt', 'pear/x', BODIES.pear),
};

/** The composite ETag of a body split into n parts of ⌈len/n⌉ bytes (SPEC §5.6), as the builder splits it. */
function compositeOf(body: Buffer, n: number): string {
  const size = Math.ceil(body.length / n);
  return compositeEtag(Array.from({ length: n }, (_, i) => body.subarray(i * size, (i + 1) * size)));
}

const render = (b: SnapshotBuilder, form: Form): Buffer => (form === 'jsonl' ? b.toJsonl() : b.toFsm(NODE_FSM));

/**
 * Writes `files` under a fresh work dir, runs the CLI with `args(work)` and
 * `-o work/out --log-format json`, and applies the checks every run must
 * pass: nothing beside DIR or in TMPDIR, the input tree unchanged, and for
 * a success a CHECKSUMS that sha256sum accepts.
 */
async function runCluster(t: ExecutionContext, files: Record<string, Buffer>, args: (work: string) => string[], form: Form | 'raw' = 'raw'): Promise<Dump & { manifest?: Record<string, unknown> }> {
  const work = tempDir(t);
  const inDir = path.join(work, 'in');
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(inDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(inDir, rel), data);
  }
  fs.mkdirSync(path.join(work, 'tmp'));
  const out = path.join(work, 'out');
  const before = snapshotTree(inDir);
  const res = await runCli([...args(inDir), '-o', out, '--log-format', 'json'], { env: { TMPDIR: path.join(work, 'tmp') } });
  const log = jsonLog(res.stderr);
  const dump: Dump & { manifest?: Record<string, unknown> } = {
    form,
    code: res.code,
    stderr: res.stderr,
    log,
    warnings: log.filter((l) => l.level === 'warn').map((l) => String(l.event)).sort(),
    errors: log.filter((l) => l.level === 'error').map((l) => String(l.code)),
    root: out,
  };
  t.deepEqual(snapshotTree(inDir), before, 'the input tree is left as it was');
  t.deepEqual(fs.readdirSync(path.join(work, 'tmp')), [], 'TMPDIR left non-empty');
  const ok = res.code === 0 || res.code === 3;
  t.deepEqual(fs.readdirSync(work).sort(), ok ? ['in', 'out', 'tmp'] : ['in', 'tmp'], `files beside DIR (stderr: ${res.stderr})`);
  if (ok) {
    dump.tree = readTree(out);
    t.is(dump.tree.files.get('CHECKSUMS')?.data.toString('latin1'), expectedChecksums(dump.tree).toString('latin1'));
    t.is(spawnSync('sha256sum', ['-c', '--quiet', 'CHECKSUMS'], { cwd: out }).status, 0);
    dump.manifest = JSON.parse(dump.tree.files.get('MANIFEST.json')!.data.toString('utf8')) as Record<string, unknown>;
  }
  return dump;
}

function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(root, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out;
}

/** The whole cluster split over groups 1–3, one snapshot file per group in group-<N> directories. */
function groupFiles(form: Form, split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3])): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const [g, b] of split) files[`cluster/group-${g}/${form === 'fsm' ? `${(0x100 + g).toString(16).padStart(16, '0')}.fsm` : 'snapshot.jsonl'}`] = render(b, form);
  return files;
}
const argsOf = (files: Record<string, Buffer>) => (dir: string) => Object.keys(files).map((f) => path.join(dir, f));

for (const form of ['fsm', 'jsonl'] as const) {
  test(`§10 [${form}] three groups, one bucket: the dump is the whole cluster's; MANIFEST lists the groups`, async (t) => {
    const files = groupFiles(form);
    const d = await runCluster(t, files, argsOf(files), form);
    assertDump(t, d, { files: EXPECTED, warnings: [] });
    const groups = d.manifest?.groups as Array<Record<string, unknown>>;
    t.deepEqual(
      groups.map((g) => [g.group_id, path.basename(String(g.path)), g.snapshot_index, g.last_commit_ts]),
      form === 'fsm'
        ? [
            [1, '0000000000000101.fsm', 0x101, 1000],
            [2, '0000000000000102.fsm', 0x102, 1000],
            [3, '0000000000000103.fsm', 0x103, 1000],
          ]
        : [
            [1, 'snapshot.jsonl', undefined, undefined],
            [2, 'snapshot.jsonl', undefined, undefined],
            [3, 'snapshot.jsonl', undefined, undefined],
          ],
    );
    // records: every entry of each input, catalog included
    const counts = [...splitCluster(wholeCluster(), ROUTES, [1, 2, 3]).values()].map((b) => b.records().length);
    t.deepEqual(
      groups.map((g) => g.records),
      counts,
    );
    if (form === 'fsm') {
      const crcs = Object.values(files).map((b) => testCrc32c(b.subarray(0, -4)).toString(16).padStart(8, '0'));
      t.deepEqual(
        groups.map((g) => g.crc32c),
        crcs,
      );
    } else t.true(groups.every((g) => !('crc32c' in g)));
    t.is(d.manifest?.snapshot_index, undefined, 'snapshot_index only with one input');
    t.deepEqual(Object.keys(d.manifest!).slice(-2), ['decoder', 'groups']);
  });
}

test('§10 one input given alone still decodes exactly as before: no groups in MANIFEST', async (t) => {
  const files = { 'one/0000000000000007.fsm': wholeCluster().toFsm(NODE_FSM) };
  const d = await runCluster(t, files, argsOf(files), 'fsm');
  assertDump(t, d, { files: EXPECTED });
  t.false('groups' in d.manifest!);
  t.is(d.manifest?.snapshot_index, 7);
});

test('§10 rule 2: a stale (even newer) copy in a non-owning group is dropped and warned s3_stale_group_copy', async (t) => {
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  // Group 1 still holds an old, newer-stamped copy of kiwi (owned by group 2).
  const stale = new SnapshotBuilder().putObject('bkt', 'kiwi', Buffer.from('STALE COPY'), { generation: 1 });
  for (const e of stale.records()) split.get(1)!.record(e.key, e.value, { commitTs: 900n });
  for (const form of ['fsm', 'jsonl'] as const) {
    const files = groupFiles(form, split);
    const d = await runCluster(t, files, argsOf(files), form);
    assertDump(t, d, { files: EXPECTED, warnings: ['s3_stale_group_copy'] });
    const w = d.log.find((l) => l.event === 's3_stale_group_copy')!;
    t.like(w, { bucket: 'bkt', group: 1, records: stale.records().length });
  }
});

test('§10 rule 2: chunkblobs in any group serve chunkrefs of any group', async (t) => {
  // Move kiwi's chunkblobs from group 3 (their owner) to group 1: still found, not dropped.
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const g3 = split.get(3)!.records();
  const moved = new SnapshotBuilder();
  for (const e of g3) {
    if (e.key.subarray(0, 14).toString() === '!s3|chunkblob|') split.get(1)!.record(e.key, e.value, { commitTs: e.commitTs });
    else moved.record(e.key, e.value, { commitTs: e.commitTs });
  }
  split.set(3, moved);
  const files = groupFiles('fsm', split);
  assertDump(t, await runCluster(t, files, argsOf(files), 'fsm'), { files: EXPECTED, warnings: [] });
});

test('§10 rule 1: equal commit_ts, different values in two inputs warn s3_group_conflict and the later input wins; identical copies do not', async (t) => {
  const first = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'r.csv', Buffer.from('first')).putObject('bkt', 'same', Buffer.from('same'));
  const second = new SnapshotBuilder().putObject('bkt', 'r.csv', Buffer.from('second!')).putObject('bkt', 'same', Buffer.from('same'));
  for (const form of ['fsm', 'jsonl'] as const) {
    const files = { [`a.${form}`]: render(first, form), [`b.${form}`]: render(second, form) };
    const d = await runCluster(t, files, (dir) => [path.join(dir, `a.${form}`), path.join(dir, `b.${form}`), '--group-ids', '1,2'], form);
    assertDump(t, d, {
      files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'r.csv', Buffer.from('second!')), ...objectFiles('bkt', 'same', Buffer.from('same')) },
      warnings: ['s3_catalog_unavailable', ...Array(new SnapshotBuilder().putObject('bkt', 'r.csv', Buffer.from('x')).records().length).fill('s3_group_conflict')],
    });
    t.like(d.log.find((l) => l.event === 's3_group_conflict'), { bucket: 'bkt', object: 'r.csv' });
    t.deepEqual(
      (d.manifest?.groups as Array<Record<string, unknown>>).map((g) => g.group_id),
      [1, 2],
    );
  }
});

test('§10 rule 3: the bucket meta in one group sets the active generation of objects in every group', async (t) => {
  const meta = new SnapshotBuilder().bucket('bkt', { generation: 2 });
  const objs = new SnapshotBuilder().putObject('bkt', 'new', Buffer.from('gen 2'), { generation: 2 }).putObject('bkt', 'old', Buffer.from('gen 1'), { generation: 1 });
  const files = { 'group-1/m.fsm': meta.toFsm(NODE_FSM), 'group-2/o.fsm': objs.toFsm(NODE_FSM) };
  const d = await runCluster(t, files, argsOf(files), 'fsm');
  assertDump(t, d, { files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'new', Buffer.from('gen 2')) }, warnings: ['s3_catalog_unavailable', 's3_stale_generation_objects'] });
});

test('§10 rule 2: without group ids the catalog cannot be used: s3_catalog_unavailable, version resolution alone decides', async (t) => {
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const files: Record<string, Buffer> = {};
  for (const [g, b] of split) files[`n${g}.fsm`] = b.toFsm(NODE_FSM);
  const d = await runCluster(t, files, argsOf(files), 'fsm');
  assertDump(t, d, { files: EXPECTED, warnings: ['s3_catalog_unavailable'] });
  t.regex(String(d.log.find((l) => l.event === 's3_catalog_unavailable')?.reason), /group id of .*n1\.fsm is unknown/);
  t.true((d.manifest?.groups as Array<Record<string, unknown>>).every((g) => !('group_id' in g)));
});

test('§10 rule 2: routes not active are used and warned catalog_route_not_active; a bad catalog record is ERR_CATALOG_INVALID', async (t) => {
  const moving = ROUTES.map((r) => (r.routeId === 2 ? { ...r, state: 1 } : r));
  const files = groupFiles('fsm', splitCluster(wholeCluster(), moving, [1, 2, 3]));
  assertDump(t, await runCluster(t, files, argsOf(files), 'fsm'), { files: EXPECTED, warnings: ['catalog_route_not_active'] });
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  split.get(2)!.record(catalogRouteKey(9), Buffer.concat([catalogRouteValue({ routeId: 9, groupId: 2, start: 'x' }), Buffer.from([0])]), { commitTs: 60n });
  const bad = groupFiles('fsm', split);
  assertFailure(t, await runCluster(t, bad, argsOf(bad), 'fsm'), 'ERR_CATALOG_INVALID');
});

test('§10 --data-dir: the newest snapshot per group, decoys ignored, chosen files named on stderr', async (t) => {
  const work = tempDir(t);
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const decoy = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'decoy', Buffer.from('must not appear')).toFsm(NODE_FSM);
  const raft = path.join(work, 'raft');
  const chosen = writeDataDir(raft, [...split].map(([g, b]) => ({ raftId: 'n1', groupId: g, index: 0x40 * g, bytes: b.toFsm(NODE_FSM) })), decoy);
  const files: Record<string, Buffer> = {};
  for (const p of walk(raft)) files[path.relative(work, p)] = fs.readFileSync(p);
  const d = await runCluster(t, files, (dir) => ['--data-dir', path.join(dir, 'raft')], 'fsm');
  assertDump(t, d, { files: EXPECTED, warnings: [] });
  for (const p of chosen) t.true(d.stderr.includes(path.basename(p)) && d.stderr.includes(`group-${path.basename(path.dirname(path.dirname(p))).slice(6)}`));
  t.deepEqual(
    (d.manifest?.groups as Array<Record<string, unknown>>).map((g) => [g.group_id, g.snapshot_index]),
    [
      [1, 0x40],
      [2, 0x80],
      [3, 0xc0],
    ],
  );
});

test('§10 --data-dir: a chosen snapshot without its CRC32C footer fails the run (no fallback to an older one)', async (t) => {
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const files: Record<string, Buffer> = {};
  for (const [g, b] of split) {
    files[`raft/n1/group-${g}/fsm-snap/${(0x10).toString(16).padStart(16, '0')}.fsm`] = b.toFsm(NODE_FSM);
    files[`raft/n1/group-${g}/fsm-snap/${(0x20).toString(16).padStart(16, '0')}.fsm`] = b.toFsm(g === 2 ? { ...NODE_FSM, footer: false } : NODE_FSM);
  }
  const d = await runCluster(t, files, (dir) => ['--data-dir', path.join(dir, 'raft')], 'fsm');
  assertFailure(t, d, 'ERR_SNAPSHOT_TRUNCATED');
  t.regex(d.stderr, /group-2\/fsm-snap\/0000000000000020\.fsm.*no CRC32C footer/);
});

test('§11 --from-offload DIR: per group the newest manifest, payloads checked and merged; --group selects', async (t) => {
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const work = tempDir(t);
  const store = path.join(work, 'store');
  const decoy = offloadPayload(new SnapshotBuilder().bucket('bkt').putObject('bkt', 'decoy', Buffer.from('old')));
  writeOffloadStore(store, [
    ...[...split].map(([g, b]) => ({ groupId: g, index: 100 + g, term: 3, payload: offloadPayload(b) })),
    { groupId: 1, index: 90, term: 9, payload: decoy },
    { groupId: 2, index: 102, term: 2, payload: decoy },
  ]);
  const files: Record<string, Buffer> = {};
  for (const p of walk(store)) files[path.relative(work, p)] = fs.readFileSync(p);
  const d = await runCluster(t, files, (dir) => ['--from-offload', path.join(dir, 'store')], 'fsm');
  assertDump(t, d, { files: EXPECTED, warnings: [] });
  t.deepEqual(
    (d.manifest?.groups as Array<Record<string, unknown>>).map((g) => [g.group_id, g.snapshot_index, 'crc32c' in g]),
    [
      [1, 101, false],
      [2, 102, false],
      [3, 103, false],
    ],
  );
  // Only group 3: the objects it owns, the bucket meta and the chunkblobs are there; kiwi's refs are not.
  const only3 = await runCluster(t, files, (dir) => ['--from-offload', path.join(dir, 'store'), '--group', '3'], 'fsm');
  assertDump(t, only3, { files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'pear/x', BODIES.pear) } });
  t.is(only3.manifest?.snapshot_index, 103);
  t.false('groups' in only3.manifest!);
});

test('§11 --from-offload: a payload whose SHA-256 differs fails with ERR_OFFLOAD_INTEGRITY, a bad self-hash with ERR_OFFLOAD_MANIFEST; nothing is published', async (t) => {
  const split = splitCluster(wholeCluster(), ROUTES, [1, 2, 3]);
  const work = tempDir(t);
  const store = path.join(work, 'store');
  writeOffloadStore(store, [...split].map(([g, b]) => ({ groupId: g, index: 10, term: 1, payload: offloadPayload(b) })));
  // Alter group 2's payload in place, inside a value, keeping its size.
  const g2 = walk(path.join(store, 'v1', 'payloads')).find((p) => fs.readFileSync(p).equals(offloadPayload(split.get(2)!)))!;
  const bytes = fs.readFileSync(g2);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0x55;
  fs.writeFileSync(g2, bytes);
  const files: Record<string, Buffer> = {};
  for (const p of walk(store)) files[path.relative(work, p)] = fs.readFileSync(p);
  assertFailure(t, await runCluster(t, files, (dir) => ['--from-offload', path.join(dir, 'store')], 'fsm'), 'ERR_OFFLOAD_INTEGRITY');
  const m1 = Object.keys(files).find((k) => k.includes('groups/1/'))!;
  const tampered = { ...files, [m1]: Buffer.from(files[m1]!.toString().replace('"snapshot_term": 1', '"snapshot_term": 1, "source_cluster": "x"')) };
  assertFailure(t, await runCluster(t, tampered, (dir) => ['--from-offload', path.join(dir, 'store')], 'fsm'), 'ERR_OFFLOAD_MANIFEST');
});

test('§10 usage: sources are exclusive, --group-ids must match the inputs, "-" at most once', async (t) => {
  const one = { 'a.fsm': buildFsm([], NODE_FSM), 'b.fsm': buildFsm([], NODE_FSM) };
  for (const args of [
    (dir: string) => [path.join(dir, 'a.fsm'), '--data-dir', dir],
    (dir: string) => [path.join(dir, 'a.fsm'), path.join(dir, 'b.fsm'), '--group-ids', '1'],
    (dir: string) => [path.join(dir, 'a.fsm'), path.join(dir, 'b.fsm'), '--group-ids', '1,x'],
    () => ['-', '-'],
    (dir: string) => [path.join(dir, 'a.fsm'), path.join(dir, '.', 'a.fsm')],
    (dir: string) => [path.join(dir, 'a.fsm'), '--from-offload', 's3://bucket/prefix'],
    (dir: string) => [path.join(dir, 'a.fsm'), '--group', '1'],
    (dir: string) => [path.join(dir, 'a.fsm'), path.join(dir, 'b.fsm'), '--snapshot-index', '5'],
  ]) {
    assertFailure(t, await runCluster(t, one, args), 'ERR_USAGE', 2);
  }
});

function walk(root: string): string[] {
  return fs.readdirSync(root, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
