/**
 * SPEC §7, the final summary: the same snapshot counts the same whatever its
 * form and record order; the file count is the dump's files, CHECKSUMS
 * included; the text form says "1 object" / "2 objects" and shows filtered
 * records.
 */
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import fs from 'node:fs';
import path from 'node:path';
import { summaryLine } from '../../lib/cli/restore-objects-main.js';
import { decode, ENCODE_BIN, jsonLog, REPO, runCli, tempDir, VERIFY_BIN, type Dump } from './harness.js';

/** Versions oldest first (as a JSONL dump may list them); the native form sorts them newest first. */
function versioned(): SnapshotBuilder {
  return new SnapshotBuilder()
    .bucket('bkt')
    .putObject('bkt', 'kept', Buffer.from('old'), { commitTs: 10 })
    .putObject('bkt', 'kept', Buffer.from('new'), { commitTs: 20 })
    .record('x', 'x1', { commitTs: 1 })
    .record('x', undefined, { commitTs: 2, tombstone: true }) // x deleted
    .record('y', undefined, { commitTs: 1, tombstone: true })
    .record('y', 'y2', { commitTs: 2 }) // y recreated
    .record('z', 'z1', { commitTs: 1 })
    .record('z', 'z2', { commitTs: 2 });
}

const summaryOf = (d: Dump) => jsonLog(d.stderr).find((l) => l.event === 'summary') as { records: Record<string, unknown>; files: number; objects: number } | undefined;

test('§7 JSON lines (oldest version first) and the native form (newest first) of one snapshot give the same record counts', async (t) => {
  const snap = versioned();
  const [jsonl, fsm, shuffled] = await Promise.all([decode(t, snap, 'jsonl'), decode(t, snap, 'fsm'), decode(t, snap, 'jsonl', { jsonl: { shuffle: 3 } })]);
  for (const d of [jsonl, fsm, shuffled]) t.is(d.code, 0, d.stderr);
  // Each key counts once by class; every other version is superseded; one key (x) is deleted.
  const want = {
    s3: { 'bucket-meta': 1, manifest: 1, blob: 1, chunkref: 0, chunkblob: 0, upload: 0 },
    nonS3: 3,
    ignored: 0,
    unknownS3: 0,
    filtered: 0,
    superseded: 5, // the old manifest and blob of "kept", x1, y's tombstone, z1
    tombstones: 1,
  };
  for (const d of [jsonl, fsm, shuffled]) t.deepEqual(summaryOf(d)?.records, want, `[${d.form}] ${d.stderr}`);
});

test('§7 the file count includes CHECKSUMS; text: singular/plural and filtered', async (t) => {
  const one = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a', Buffer.from('a')).bucket('other').putObject('other', 'b', Buffer.from('b'));
  const [json, text] = await Promise.all([decode(t, one, 'jsonl', { args: ['--bucket', 'bkt'] }), decode(t, one, 'jsonl', { args: ['--bucket', 'bkt'], textLog: true })]);
  const s = summaryOf(json);
  t.is(s?.files, json.tree?.files.size, 'every file of the dump (MANIFEST.json, CHECKSUMS, _bucket.json, body, sidecar)');
  t.is(s?.files, 5);
  t.is(s?.records.filtered, 3, "other's meta, manifest and blob");
  // S3 records are counted as read; filtered ones among them are also counted as filtered.
  t.regex(text.stderr, /ekv-s3-decode: 1 object in 1 bucket, 1 body byte, 5 files \(\d+ bytes\); records: 6 S3, 0 non-S3, 0 ignored, 3 filtered, 0 superseded, 0 tombstones;/);
  const two = new SnapshotBuilder().bucket('b1').putObject('b1', 'a', Buffer.from('aa')).bucket('b2').putObject('b2', 'b', Buffer.from('b')).tombstone('gone', 200);
  const t2 = await decode(t, two, 'jsonl', { textLog: true });
  t.regex(t2.stderr, /ekv-s3-decode: 2 objects in 2 buckets, 3 body bytes, 8 files \(\d+ bytes\); records: 6 S3, 1 non-S3, 0 ignored, 0 filtered, 0 superseded, 1 tombstone;/);
});

test('§7 the other commands count the same way: "1 object in 1 bucket, 1 body byte", "1 record", "1 entry", "1 byte uploaded"', async (t) => {
  const one = new SnapshotBuilder().bucket('bkt').putObject('bkt', 'a', Buffer.from('a'));
  const d = await decode(t, one, 'jsonl');
  t.is(d.code, 0, d.stderr);
  const work = tempDir(t);
  const enc = await runCli([d.root, '-o', path.join(work, 'back.fsm')], { bin: ENCODE_BIN });
  t.is(enc.code, 0, enc.stderr);
  t.regex(enc.stderr, /^ekv-s3-encode: 1 object in 1 bucket, 1 body byte -> \S+back\.fsm \(\d+ bytes, sha256 [0-9a-f]{64}, last_commit_ts \d+\); self-test matched; /);
  const ver = await runCli([d.root], { bin: VERIFY_BIN });
  t.is(ver.code, 0, ver.stderr);
  t.regex(ver.stderr, /^ekv-s3-verify: 5 files checked, no problems /);
  const input = path.join(work, 'one.jsonl');
  fs.writeFileSync(input, new SnapshotBuilder().bucket('bkt').toJsonl());
  const conv = await runCli(['--to', 'fsm', input, '-o', path.join(work, 'one.fsm'), '-v'], { bin: path.join(REPO, 'bin', 'ekv-snapshot-jsonl.js') });
  t.is(conv.code, 0, conv.stderr);
  t.regex(conv.stderr, /^ekv-snapshot-jsonl: 1 record \(0 tombstones\) -> 1 entry, lastCommitTS \d+;/);
  t.is(summaryLine({ put: 1, skipped: 0, failed: 0, bytes: 1, verifiedByMd5: 0 }), 'put 1, skipped 0, failed 0 (1 byte uploaded)');
});
