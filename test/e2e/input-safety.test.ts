/**
 * SPEC §2 operator safety, the input side: an empty input is an error, not
 * an empty backup; a terminal on stdin is refused; a snapshot without S3
 * records and filters that match nothing are warned about; the filters are
 * recorded in MANIFEST.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { assertDump, BIN, decode, decodeBoth, jsonLog, objectFiles, plainBucketJson, REPO, runCli, tempDir } from './harness.js';

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

test('§2 an empty input file is ERR_IO "input is empty" naming it: exit 1, no DIR', async (t) => {
  const d = await decode(t, Buffer.alloc(0), 'jsonl');
  t.is(d.code, 1, d.stderr);
  const err = d.log.find((l) => l.level === 'error');
  t.is(err?.code, 'ERR_IO');
  t.regex(String(err?.message), /in\.jsonl.*input is empty/);
});

test('§2 stdin at EOF at once (e.g. `--bucket FILE -o x`, FILE taken as the bucket) is ERR_IO: exit 1, no DIR, no tar written', async (t) => {
  const work = tempDir(t);
  const input = path.join(work, 'snap.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('b').toJsonl());
  const out = path.join(work, 'x');
  const dir = await runCli(['--bucket', input, '-o', out]);
  t.is(dir.code, 1, dir.stderr);
  t.regex(dir.stderr, /ERR_IO: path -: input is empty/);
  t.false(fs.existsSync(out));
  const tar = await runCli(['-']);
  t.is(tar.code, 1, tar.stderr);
  t.regex(tar.stderr, /input is empty/);
  t.is(tar.stdout.length, 0, 'no archive (not even an empty one) on stdout');
  t.deepEqual(fs.readdirSync(work), ['snap.jsonl']);
});

test('§2 a terminal on stdin is refused like one on stdout: exit 2, nothing created', (t) => {
  const work = tempDir(t);
  // script(1) runs the command with a pseudo-terminal as its stdin.
  const r = spawnSync('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} -o out`, '/dev/null'], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return t.fail(`script(1) is needed for this test: ${r.error.message}`);
  t.is(r.status, 2, r.stdout + r.stderr);
  t.regex(r.stdout, /ERR_USAGE: standard input is a terminal/);
  t.deepEqual(fs.readdirSync(work), []);
});

test('§7 s3_no_records: a snapshot with records but none of S3 (both forms) still dumps, and says so', async (t) => {
  const snap = new SnapshotBuilder().record('!redis|k', 'v').record('other', 'x');
  for (const d of await decodeBoth(t, snap)) {
    assertDump(t, d, { files: {}, warnings: ['s3_no_records'] });
    t.like(jsonLog(d.stderr).find((l) => l.event === 's3_no_records'), { level: 'warn', nonS3: 2 });
  }
});

const twoBuckets = (): SnapshotBuilder =>
  new SnapshotBuilder().bucket('photos').putObject('photos', '2026/a', Buffer.from('a')).putObject('photos', '2025/b', Buffer.from('b')).bucket('docs').putObject('docs', '2026/c', Buffer.from('c'));

test('§7 filter_matched_nothing for each --bucket and for a --prefix that matched no record; none when they match', async (t) => {
  const snap = twoBuckets();
  const [typo, prefix, good] = await Promise.all([
    decode(t, snap, 'fsm', { args: ['--bucket', 'photos', '--bucket', 'phtos'] }),
    decode(t, snap, 'jsonl', { args: ['--bucket', 'docs', '--prefix', '2025/'] }),
    decode(t, snap, 'jsonl', { args: ['--bucket', 'photos', '--prefix', '2026/'] }),
  ]);
  assertDump(t, typo, {
    files: { 's3/photos/_bucket.json': plainBucketJson('photos'), ...objectFiles('photos', '2026/a', Buffer.from('a')), ...objectFiles('photos', '2025/b', Buffer.from('b')) },
    warnings: ['filter_matched_nothing'],
  });
  t.like(jsonLog(typo.stderr).find((l) => l.event === 'filter_matched_nothing'), { level: 'warn', filter: 'bucket', value: 'phtos' });
  // 2025/ exists, but not in the bucket kept.
  assertDump(t, prefix, { files: { 's3/docs/_bucket.json': plainBucketJson('docs') }, warnings: ['filter_matched_nothing'] });
  t.like(jsonLog(prefix.stderr).find((l) => l.event === 'filter_matched_nothing'), { level: 'warn', filter: 'prefix', value: '2025/' });
  assertDump(t, good, { files: { 's3/photos/_bucket.json': plainBucketJson('photos'), ...objectFiles('photos', '2026/a', Buffer.from('a')) } });
});

test('§6 MANIFEST.json records the filters after "decoder" (buckets sorted, repeats dropped); absent without filters', async (t) => {
  const snap = twoBuckets();
  const [both, bucketsOnly, none] = await Promise.all([
    decode(t, snap, 'jsonl', { args: ['--bucket', 'photos', '--bucket', 'docs', '--bucket', 'photos', '--prefix', '2026/'] }),
    decode(t, snap, 'jsonl', { args: ['--bucket', 'docs'] }),
    decode(t, snap, 'jsonl'),
  ]);
  const tail = (d: typeof both): string => {
    const text = d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '';
    return text.slice(text.indexOf('  "decoder"'));
  };
  t.is(tail(both), `  "decoder": "ekv-s3-decode ${VERSION}",\n  "filters": {\n    "buckets": [\n      "docs",\n      "photos"\n    ],\n    "prefix": "2026/"\n  }\n}\n`);
  t.is(tail(bucketsOnly), `  "decoder": "ekv-s3-decode ${VERSION}",\n  "filters": {\n    "buckets": [\n      "docs"\n    ]\n  }\n}\n`);
  t.is(tail(none), `  "decoder": "ekv-s3-decode ${VERSION}"\n}\n`);
});

test('§2 snapshot_unverified: a native input without a CRC-32C footer decodes, with a warning; the summary says whether a footer was verified', async (t) => {
  const snap = new SnapshotBuilder().bucket('b').putObject('b', 'k', Buffer.from('v'));
  const [bare, framed, jsonl, bareText, framedText] = await Promise.all([
    decode(t, snap, 'fsm', { fsm: { sort: true, header: 'v1', lastCommitTs: 5n } }),
    decode(t, snap, 'fsm'),
    decode(t, snap, 'jsonl'),
    decode(t, snap, 'fsm', { fsm: { sort: true }, textLog: true }),
    decode(t, snap, 'fsm', { textLog: true }),
  ]);
  const files = { 's3/b/_bucket.json': plainBucketJson('b'), ...objectFiles('b', 'k', Buffer.from('v')) };
  assertDump(t, bare, { files, warnings: ['snapshot_unverified'] });
  t.like(jsonLog(bare.stderr).find((l) => l.event === 'snapshot_unverified'), { level: 'warn', input: path.join(path.dirname(bare.root), 'in.fsm') });
  assertDump(t, framed, { files });
  assertDump(t, jsonl, { files });
  const summary = (d: typeof bare) => jsonLog(d.stderr).find((l) => l.event === 'summary');
  t.is(summary(bare)?.footerVerified, false);
  t.is(summary(framed)?.footerVerified, true);
  t.false('footerVerified' in (summary(jsonl) ?? {}), 'JSON lines have no footer to speak of');
  t.regex(bareText.stderr, /warning snapshot_unverified: input=\S+in\.fsm/);
  t.regex(bareText.stderr, /; no CRC-32C footer \(unverified\);/);
  t.regex(framedText.stderr, /; CRC-32C footer verified;/);
});

test('§10 several inputs behave as one: an empty one is ERR_IO naming it, each footerless native one warns snapshot_unverified, filters warn over the merged records', async (t) => {
  const dir = tempDir(t);
  const a = path.join(dir, 'a.fsm');
  const b = path.join(dir, 'b.fsm');
  const empty = path.join(dir, 'empty.fsm');
  fs.writeFileSync(a, new SnapshotBuilder().bucket('one').putObject('one', 'k', Buffer.from('v')).toFsm({ sort: true }));
  fs.writeFileSync(b, new SnapshotBuilder().bucket('two').putObject('two', 'k', Buffer.from('w')).toFsm({ sort: true, header: 'v1', footer: true }));
  fs.writeFileSync(empty, Buffer.alloc(0));
  const withEmpty = await runCli([a, empty, '--group-ids', '1,2', '-o', path.join(dir, 'x')]);
  t.is(withEmpty.code, 1, withEmpty.stderr);
  t.regex(withEmpty.stderr, /error ERR_IO: path \S*empty\.fsm: input is empty/);
  t.false(fs.existsSync(path.join(dir, 'x')));
  const merged = await runCli([a, b, '--group-ids', '1,2', '-o', path.join(dir, 'y'), '--bucket', 'two', '--bucket', 'three', '--log-format', 'json']);
  t.is(merged.code, 0, merged.stderr);
  const log = jsonLog(merged.stderr);
  t.deepEqual(
    log.filter((l) => l.level === 'warn' && l.event !== 's3_catalog_unavailable').map((l) => [l.event, l.input ?? l.value]),
    [
      ['snapshot_unverified', a],
      ['filter_matched_nothing', 'three'],
    ],
  );
  t.is(log.find((l) => l.event === 'summary')?.footerVerified, false, 'one native input had no footer');
  t.regex(fs.readFileSync(path.join(dir, 'y', 'MANIFEST.json'), 'utf8'), /"filters": \{\n {4}"buckets": \[\n {6}"three",\n {6}"two"\n {4}\]\n {2}\}/);
});
