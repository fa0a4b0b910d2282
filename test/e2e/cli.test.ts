/**
 * SPEC §2, §6 (MANIFEST.json, modes) and §8 through the real CLI: usage
 * errors (exit 2), I/O and input errors (exit 1), publishing (DIR absent
 * after a failure, nothing left beside it, an existing empty DIR reused),
 * --scratch-dir / --keep-scratch, log formats, and the exact MANIFEST.json.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { withFooter } from '../helpers/fsm.js';
import {
  assertDump,
  assertFailure,
  BIN,
  bytesOf,
  decode,
  FSM_DEFAULTS,
  inputBytes,
  jsonLog,
  objectFiles,
  plainBucketJson,
  readTree,
  REPO,
  runCli,
  runCliProcess,
  tempDir,
} from './harness.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const small = (): SnapshotBuilder => new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a.txt', Buffer.from('hello'));

/** A work dir holding in.jsonl of `small()`; returns paths. */
function workWithInput(t: ExecutionContext): { work: string; input: string; out: string } {
  const work = tempDir(t);
  const input = path.join(work, 'in.jsonl');
  fs.writeFileSync(input, small().toJsonl());
  return { work, input, out: path.join(work, 'out') };
}

// ------------------------------------------------------------ usage errors

test('§2 usage errors exit 2 with ERR_USAGE and create nothing', async (t) => {
  const { work, input, out } = workWithInput(t);
  const cases: string[][] = [
    [input, '-o', out, '--bogus'],
    [input, '-o', out, '--log-format', 'xml'],
    [input, '-o', out, '--input-format', 'tar'],
    [input, input, '-o', out], // several inputs are a cluster's groups (SPEC §10), but not one snapshot twice
    [input, '-o', path.join(work, 'no', 'such', 'parent')],
    [input, '-o', input], // an existing file
    [input, '-o', out, '--snapshot-index', 'abc'],
  ];
  const results = await Promise.all(cases.map((args) => runCli(args)));
  for (const [i, r] of results.entries()) {
    t.is(r.code, 2, `${cases[i]!.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, /ERR_USAGE/, cases[i]!.join(' '));
  }
  t.deepEqual(fs.readdirSync(work), ['in.jsonl']);
});

test('§2 DIR not empty: exit 2, DIR left exactly as it was', async (t) => {
  const { work, input, out } = workWithInput(t);
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'precious'), 'keep me');
  const r = await runCli([input, '-o', out]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /ERR_USAGE/);
  t.deepEqual(fs.readdirSync(out), ['precious']);
  t.is(fs.readFileSync(path.join(out, 'precious'), 'utf8'), 'keep me');
  t.deepEqual(fs.readdirSync(work).sort(), ['in.jsonl', 'out']);
});

test('§2 DIR that exists and is empty receives the dump', async (t) => {
  const { work, input, out } = workWithInput(t);
  fs.mkdirSync(out);
  const r = await runCli([input, '-o', out, '--log-format', 'json']);
  t.is(r.code, 0, r.stderr);
  const tree = readTree(out);
  t.deepEqual([...tree.files.keys()].sort(), ['CHECKSUMS', 'MANIFEST.json', 's3/bkt/_bucket.json', 's3/bkt/a.txt', 's3/bkt/a.txt.elastickv-meta.json']);
  t.deepEqual(fs.readdirSync(work).sort(), ['in.jsonl', 'out']);
});

test('§8 a missing input file is ERR_IO, exit 1, no DIR', async (t) => {
  const work = tempDir(t);
  const out = path.join(work, 'out');
  const r = await runCli([path.join(work, 'missing.fsm'), '-o', out]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /ERR_IO/);
  t.regex(r.stderr, /missing\.fsm/, 'the message names the path');
  t.deepEqual(fs.readdirSync(work), []);
});

// Regression: read errors after open (EISDIR) used to be reported without the input path.
test('§8 an unreadable input (a directory) is ERR_IO naming the path', async (t) => {
  const work = tempDir(t);
  const input = path.join(work, 'a-directory');
  fs.mkdirSync(input);
  const out = path.join(work, 'out');
  const r = await runCli([input, '-o', out]);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /ERR_IO/);
  t.false(fs.existsSync(out));
  t.true(r.stderr.includes(input), `the message names ${input}: ${r.stderr}`);
});

test('§2 -h and -V', async (t) => {
  const [h, v] = await Promise.all([runCli(['-h']), runCli(['--version'])]);
  t.is(h.code, 0);
  t.regex(h.stdout.toString(), /Usage: ekv-s3-decode/);
  t.is(v.code, 0);
  t.is(v.stdout.toString(), `ekv-s3-decode ${VERSION}\n`);
});

test('§2 every bin runs as a process (the other tests run their commands in threads): --version exits 0 with name and version, an unknown option exits 2', async (t) => {
  const bins = fs.readdirSync(path.join(REPO, 'bin')).filter((f) => f.endsWith('.js'));
  t.deepEqual(bins.sort(), ['ekv-s3-decode.js', 'ekv-s3-encode.js', 'ekv-s3-restore-objects.js', 'ekv-s3-verify.js', 'ekv-snapshot-jsonl.js']);
  for (const bin of bins) {
    const name = bin.replace(/\.js$/, '');
    const v = await runCliProcess(['--version'], { bin: path.join(REPO, 'bin', bin) });
    t.is(v.code, 0, `${name}: ${v.stderr}`);
    t.is(v.stdout.toString(), `${name} ${VERSION}\n`);
    const bad = await runCliProcess(['--no-such-option'], { bin: path.join(REPO, 'bin', bin) });
    t.is(bad.code, 2, `${name}: ${bad.stderr}`);
    t.regex(bad.stderr, new RegExp(`^${name}: error ERR_USAGE`, 'm'));
  }
});

// ------------------------------------------------------------ publishing and scratch

test('§2 a failure late in the dump leaves no DIR, no DIR.partial-*, no scratch (also with --scratch-dir)', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt');
  for (let i = 0; i < 30; i++) snap.putObject('bkt', `obj-${String(i).padStart(2, '0')}`, bytesOf(`o${i}`, 3000), { chunkSize: 1000 });
  snap.putObject('bkt', 'zz-bad', bytesOf('bad', 3000), { chunkSize: 1000, omitChunks: [2] });
  for (const form of ['jsonl', 'fsm'] as const) {
    assertFailure(t, await decode(t, snap, form), 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  }
  // With --scratch-dir the scratch area is removed too.
  const scratch = tempDir(t, 'ekv-e2e-scratch-');
  assertFailure(t, await decode(t, snap, 'fsm', { args: ['--scratch-dir', scratch] }), 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  t.deepEqual(fs.readdirSync(scratch), [], 'scratch dir emptied after a failure');
  const ok = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a', bytesOf('a', 5000), { chunkSize: 1000 });
  const d = await decode(t, ok, 'jsonl', { args: ['--scratch-dir', scratch], jsonl: { shuffle: 3 } });
  assertDump(t, d, { files: { 's3/bkt/_bucket.json': plainBucketJson('bkt'), ...objectFiles('bkt', 'a', bytesOf('a', 5000)) } });
  t.deepEqual(fs.readdirSync(scratch), [], 'scratch dir emptied after success');
});

test('§2 --keep-scratch keeps the staging directory after a failure (DIR still absent)', async (t) => {
  const work = tempDir(t);
  const input = path.join(work, 'in.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('bkt').putObject('bkt', 'x', bytesOf('x', 10), { chunkSize: 4, omitChunks: [1] }).toJsonl());
  const out = path.join(work, 'out');
  const r = await runCli([input, '-o', out, '--keep-scratch']);
  t.is(r.code, 1, r.stderr);
  t.false(fs.existsSync(out));
  const left = fs.readdirSync(work).filter((n) => n !== 'in.jsonl');
  t.is(left.length, 1, `staging kept: ${left.join(', ')}`);
  t.regex(left[0] ?? '', /^out\.partial-/);
});

// ------------------------------------------------------------ input errors

test('§3 input errors fail the run (exit 1, DIR absent): bad JSONL line, CRC mismatch, truncation, bad magic', async (t) => {
  const good = small();
  const jsonl = good.toJsonl().toString('utf8').split('\n');
  jsonl.splice(1, 0, '{"key":"!!!notbase64","value":"eA=="}');
  const badLine = await decode(t, Buffer.from(jsonl.join('\n')), 'jsonl');
  assertFailure(t, badLine, 'ERR_JSONL_LINE');
  t.regex(badLine.stderr, /line 2\b/);

  const fsm = good.toFsm({ ...FSM_DEFAULTS, footer: false });
  const badCrc = withFooter(fsm);
  badCrc[badCrc.length - 1]! ^= 0xff;
  assertFailure(t, await decode(t, badCrc, 'fsm'), 'ERR_SNAPSHOT_CRC_MISMATCH');
  assertFailure(t, await decode(t, fsm.subarray(0, fsm.length - 3), 'fsm'), 'ERR_SNAPSHOT_TRUNCATED');
  assertFailure(t, await decode(t, Buffer.from('EKVXXXXX12345678'), 'fsm', { args: ['--input-format', 'fsm'] }), 'ERR_SNAPSHOT_BAD_MAGIC');
});

// ------------------------------------------------------------ MANIFEST.json

test('§6 MANIFEST.json: exact bytes (field order, snapshot_index from the file name, cluster_id raw, trailing newline)', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'x.elastickv-meta.json', Buffer.from('x'))
    .bucket('a-bkt')
    .putObject('a-bkt', 'y', Buffer.from('y'))
    .bucket('empty-bkt'); // meta only: its _bucket.json is a file, so it is listed
  const d = await decode(t, snap, 'fsm', {
    inputName: '000000000000002a.fsm',
    args: ['--cluster-id', 'c<1>&"', '--rename-collisions', '--include-incomplete-uploads'],
  });
  t.is(d.code, 0, d.stderr);
  const text = d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '';
  const wall = /"wall_time_iso": "([^"]*)"/.exec(text)?.[1] ?? '';
  t.regex(wall, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
  t.true(Math.abs(Date.parse(wall) - Date.now()) < 120_000, `wall time ${wall} is now`);
  const source = path.join(path.dirname(d.root), '000000000000002a.fsm');
  t.is(
    text,
    `{
  "format_version": 1,
  "phase": "phase0-snapshot-decode",
  "cluster_id": "c<1>&\\"",
  "snapshot_index": 42,
  "last_commit_ts": 1000,
  "wall_time_iso": "${wall}",
  "source": {
    "fsm_path": ${JSON.stringify(source)}
  },
  "adapters": {
    "s3": {
      "buckets": [
        "a-bkt",
        "bkt",
        "empty-bkt"
      ]
    }
  },
  "exclusions": {
    "include_incomplete_uploads": true,
    "include_orphans": false,
    "preserve_sqs_visibility": false,
    "include_sqs_side_records": false,
    "rename_s3_collisions": true
  },
  "checksum_algorithm": "sha256",
  "checksum_format": "sha256sum",
  "encoded_filename_charset": "rfc3986-unreserved-plus-percent",
  "key_segment_max_bytes": 240,
  "s3_meta_suffix": ".elastickv-meta.json",
  "s3_collision_strategy": "leaf-data-suffix",
  "dynamodb_layout": "per-item",
  "decoder": "ekv-s3-decode ${VERSION}"
}
`,
  );
});

test('§6 MANIFEST.json: --snapshot-index wins; JSONL has no last_commit_ts; no buckets gives "s3": {}', async (t) => {
  const nonS3 = new SnapshotBuilder().record('!redis|k', 'v').record('other', 'x');
  const [fsmRun, jsonlRun] = await Promise.all([
    decode(t, nonS3, 'fsm', { inputName: '000000000000002a.fsm', args: ['--snapshot-index', '7', '--include-orphans'] }),
    decode(t, nonS3, 'jsonl'),
  ]);
  for (const d of [fsmRun, jsonlRun]) {
    assertDump(t, d, { files: {}, warnings: ['s3_no_records'] });
    const text = d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '';
    t.true(text.includes('\n  "adapters": {\n    "s3": {}\n  },\n'), text);
    t.false(text.includes('cluster_id'));
    t.false(text.includes('rename_s3_collisions'));
  }
  const m1 = JSON.parse(fsmRun.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;
  t.is(m1.snapshot_index, 7);
  t.is(m1.last_commit_ts, 1000);
  t.like(m1.exclusions, { include_orphans: true, include_incomplete_uploads: false });
  const m2 = JSON.parse(jsonlRun.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;
  t.false('last_commit_ts' in m2);
  t.false('snapshot_index' in m2);
  // A native snapshot whose lastCommitTS is 0 has no last_commit_ts either.
  const zero = await decode(t, inputBytes(nonS3, 'fsm', { fsm: { sort: true } }), 'fsm');
  t.is(zero.code, 0, zero.stderr);
  t.false((zero.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '').includes('last_commit_ts'));
});

// ------------------------------------------------------------ logs

test('§7 warnings: --log-format json gives one {"level":"warn","event",...} object per line; text names the event', async (t) => {
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'lost', bytesOf('lost', 4), { omitManifest: true })
    .record('!s3|newfamily|x', 'y')
    .record('!s3|newfamily|z', 'y');
  const [json, text] = await Promise.all([decode(t, snap, 'jsonl'), decode(t, snap, 'jsonl', { textLog: true })]);
  t.is(json.code, 0);
  for (const line of json.stderr.split('\n').filter(Boolean)) t.notThrows(() => JSON.parse(line), `not JSON: ${line}`);
  t.like(
    jsonLog(json.stderr).find((l) => l.event === 's3_orphan_chunks'),
    { level: 'warn', bucket: 'bkt', object: 'lost', chunks: 1 },
  );
  t.like(
    jsonLog(json.stderr).find((l) => l.event === 's3_unknown_prefix'),
    { level: 'warn', records: 2 },
  );
  t.is(jsonLog(json.stderr).filter((l) => l.event === 's3_unknown_prefix').length, 1, 'reported once');
  t.is(text.code, 0);
  t.regex(text.stderr, /s3_orphan_chunks/);
  t.regex(text.stderr, /s3_unknown_prefix/);
  // Quiet still prints warnings, but no summary.
  const quiet = await decode(t, snap, 'jsonl', { args: ['-q'] });
  t.is(quiet.code, 0);
  t.true(quiet.warnings.includes('s3_orphan_chunks'));
});

test('§2 errors name the object; native input errors name the byte offset', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'dir/the-object', bytesOf('x', 10), { chunkSize: 4, omitChunks: [1] });
  const d = await decode(t, snap, 'fsm');
  assertFailure(t, d, 'ERR_S3_INCOMPLETE_BLOB_CHUNKS');
  t.regex(d.stderr, /dir\/the-object/);
  const fsm = snap.toFsm({ sort: true });
  const trunc = await decode(t, fsm.subarray(0, 40), 'fsm', { textLog: true });
  assertFailure(t, trunc, 'ERR_SNAPSHOT_TRUNCATED');
  t.regex(trunc.stderr, /offset/i);
});

test('§2 an interrupted run (SIGINT, SIGTERM) leaves DIR absent and removes its staging area', async (t) => {
  const snap = new SnapshotBuilder().bucket('bkt');
  for (let i = 0; i < 4; i++) snap.putObject('bkt', `o${i}`, bytesOf(`o${i}`, 200_000), { chunkSize: 65536 });
  const data = snap.toJsonl();
  const work = tempDir(t);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const out = path.join(work, `out-${sig}`);
    const child = spawn(process.execPath, [BIN, '-', '-o', out], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: work } });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.stdin.on('error', () => {});
    // Half the input, then wait until the run is under way (its staging directory exists).
    child.stdin.write(data.subarray(0, data.length >> 1));
    const started = Date.now();
    while (!fs.readdirSync(work).some((n) => n.startsWith(`out-${sig}.partial-`)) && Date.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 20));
    }
    t.true(fs.readdirSync(work).some((n) => n.startsWith(`out-${sig}.partial-`)), `${sig}: staging directory seen`);
    child.kill(sig);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    t.true(code !== 0 && code !== 3, `${sig}: exit ${code} ${signal}: ${stderr}`);
    t.deepEqual(fs.readdirSync(work), [], `${sig}: nothing left (stderr: ${stderr})`);
  }
});

// ---------------------------------------------------------------- hostile bytes on the terminal

/** C0 and C1 control characters (ESC, BEL, CSI, …) that a terminal would act on. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

test('binary garbage is ERR_SNAPSHOT_BAD_MAGIC ("neither a native snapshot nor JSON lines"), echoing no raw byte', async (t) => {
  const garbage = Buffer.concat([Buffer.from('\x1b]0;pwned\x07\x00\x9b2J', 'latin1'), bytesOf('junk', 4096)]);
  for (const textLog of [true, false]) {
    const d = await decode(t, garbage, 'jsonl', { textLog });
    assertFailure(t, d, 'ERR_SNAPSHOT_BAD_MAGIC');
    t.regex(d.stderr, /neither a native snapshot nor JSON lines/);
    t.false(CONTROL.test(d.stderr), d.stderr);
  }
});

test('warnings name buckets and objects in printable form, as errors do: no raw control bytes reach the terminal', async (t) => {
  const evil = '\x1b]0;pwned\x07';
  const snap = new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', `orphan${evil}`, Buffer.from('o'), { omitManifest: true })
    .putObject('bkt', `bad${evil}`, Buffer.from('b'), { manifestPatch: { size_bytes: 9 } });
  for (const textLog of [true, false]) {
    const d = await decode(t, snap, 'jsonl', { textLog, args: ['--keep-going'] });
    t.is(d.code, 3, d.stderr);
    t.false(CONTROL.test(d.stderr), d.stderr);
    // printable(): ESC and BEL as \x1b and \x07 (in JSON, the backslash itself escaped).
    const shown = textLog ? 'orphan\\x1b]0;pwned\\x07' : 'orphan\\\\x1b]0;pwned\\\\x07';
    t.true(d.stderr.includes(shown), d.stderr);
    t.true(d.stderr.includes(textLog ? 'bad\\x1b]0;pwned\\x07' : 'bad\\\\x1b]0;pwned\\\\x07'), d.stderr);
  }
});

// ---------------------------------------------------------------- the footer speaks for the whole file

test('a damaged native snapshot with a footer fails with ERR_SNAPSHOT_CRC_MISMATCH, whatever record error the damage causes first (file and stdin)', async (t) => {
  const good = inputBytes(small(), 'fsm'); // EKVTHLC1 header and CRC-32C footer
  // A reader-level error: the first entry's key length (after 32 bytes of preamble) made oversize.
  const oversize = Buffer.from(good);
  oversize[32 + 7] = 0x7f;
  // A classifier-level error: the bucket segment terminator of the manifest key broken.
  const badKey = Buffer.from(good);
  const at = badKey.indexOf('!s3|obj|head|bkt\x00\x01', 0, 'latin1');
  t.true(at > 0);
  badKey[at + '!s3|obj|head|bkt\x00'.length] = 0x07;
  for (const [bad, first, stdinToo] of [
    [oversize, 'ERR_SNAPSHOT_CORRUPT', true],
    [badKey, 'ERR_S3_MALFORMED_KEY', false],
  ] as const) {
    for (const stdin of stdinToo ? [false, true] : [false]) {
      const d = await decode(t, bad, 'fsm', { stdin });
      assertFailure(t, d, 'ERR_SNAPSHOT_CRC_MISMATCH');
      t.true(d.stderr.includes(`first problem found: ${first}`), d.stderr);
    }
  }
});

test('/dev/zero as JSON lines input fails at once instead of growing until killed', async (t) => {
  const work = tempDir(t);
  const started = Date.now();
  const res = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, '-', '--input-format', 'jsonl', '-o', path.join(work, 'out')], { stdio: [fs.openSync('/dev/zero', 'r'), 'ignore', 'pipe'] });
    const err: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.on('close', (code) => resolve({ code, stderr: Buffer.concat(err).toString() }));
  });
  t.is(res.code, 1, res.stderr);
  t.regex(res.stderr, /ERR_JSONL_LINE: line 1: not a JSON object/);
  t.true(Date.now() - started < 20_000);
});
