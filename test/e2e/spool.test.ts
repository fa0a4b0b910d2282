/**
 * Per-object metadata beyond a memory budget is sorted on disk (object
 * versions: lib/stages/object-spool.ts; checksums: lib/core/checksums.ts).
 * With a budget of one byte every record is a run of its own: the dump must
 * be byte for byte the one made in memory —
 * renames and KEYMAP, keep-going and _skipped.jsonl, versions and
 * tombstones, stale generations and orphans, several buckets, records in
 * any order — as a directory and as a tar; and no scratch file is left.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { BUDGET_ENV } from '../../lib/io/external-sort.js';
import * as K from '../helpers/keys.js';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { bytesOf, inputBytes, readTree, runCli, tempDir, type Form } from './harness.js';

const body = (key: string, n = 10): Buffer => bytesOf(key, n);

function rich(): SnapshotBuilder {
  return (
    new SnapshotBuilder()
      .bucket('b1')
      .putObject('b1', 'a', body('a'))
      .putObject('b1', 'a/b', body('a/b'), { parts: 2, chunkSize: 3 })
      .putObject('b1', 'x.elastickv-meta.json', body('meta'))
      .putObject('b1', 'incomplete', body('incomplete'), { chunkSize: 4, omitChunks: [1] })
      .putObject('b1', 'v', body('v-old'), { commitTs: 5 })
      .putObject('b1', 'v', body('v-new'), { commitTs: 9 })
      .putObject('b1', 'gone', body('gone'))
      .tombstone(K.manifestKey('b1', 1n, 'gone'), 200)
      .putObject('b1', '../evil', body('evil'))
      .bucket('b2', { generation: 2 })
      .putObject('b2', 'stale', body('stale'), { generation: 1 })
      .putObject('b2', 'live', body('live'), { generation: 2 })
      .putObject('b2', '\u00e9t\u00e9', body('utf8'), { generation: 2 })
      .putObject('b3', 'no-meta', body('no-meta'))
  );
}

const ARGS = ['--keep-going', '--rename-collisions', '--include-orphans', '--log-format', 'json'];

async function run(t: import('ava').ExecutionContext, input: Buffer, form: Form, tar: boolean, budget: string | undefined) {
  const work = tempDir(t);
  const tmp = path.join(work, 'tmp');
  fs.mkdirSync(tmp);
  const inPath = path.join(work, `in.${form}`);
  fs.writeFileSync(inPath, input);
  const out = path.join(work, 'out');
  const res = await runCli([inPath, ...(tar ? [] : ['-o', out]), ...ARGS], { env: { TMPDIR: tmp, ...(budget !== undefined ? { [BUDGET_ENV]: budget } : {}) } });
  t.deepEqual(fs.readdirSync(tmp), [], 'scratch left behind');
  const files = new Map<string, Buffer>();
  if (!tar) for (const [p, f] of readTree(out).files) files.set(p, f.data);
  return { code: res.code, stdout: res.stdout, files, warnings: res.stderr.split('\n').filter((l) => l.includes('"level":"warn"')) };
}

for (const form of ['fsm', 'jsonl'] as const) {
  test(`[${form}] a one-byte metadata budget (every record a sorted run) gives the in-memory dump byte for byte, directory and tar`, async (t) => {
    const input = inputBytes(rich(), form, { jsonl: { shuffle: 11 } });
    const mem = await run(t, input, form, false, undefined);
    const disk = await run(t, input, form, false, '1');
    t.is(mem.code, 3);
    t.is(disk.code, 3);
    // Independent of either run: what the snapshot must give.
    const paths = [...mem.files.keys()].filter((p) => p.startsWith('s3/')).sort();
    t.deepEqual(paths, [
      's3/b1/KEYMAP.jsonl',
      's3/b1/_bucket.json',
      's3/b1/_orphans/gone/gen-1/' + paths.find((p) => p.startsWith('s3/b1/_orphans/gone/gen-1/'))!.slice('s3/b1/_orphans/gone/gen-1/'.length),
      's3/b1/_skipped.jsonl',
      's3/b1/a.elastickv-leaf-data',
      's3/b1/a.elastickv-leaf-data.elastickv-meta.json',
      's3/b1/a/b',
      's3/b1/a/b.elastickv-meta.json',
      's3/b1/v',
      's3/b1/v.elastickv-meta.json',
      's3/b1/x.elastickv-meta.json.user-data',
      's3/b1/x.elastickv-meta.json.user-data.elastickv-meta.json',
      's3/b2/_bucket.json',
      ...paths.filter((p) => p.startsWith('s3/b2/_orphans/stale/')),
      's3/b2/live',
      's3/b2/live.elastickv-meta.json',
      's3/b2/\u00e9t\u00e9',
      's3/b2/\u00e9t\u00e9.elastickv-meta.json',
      's3/b3/no-meta',
      's3/b3/no-meta.elastickv-meta.json',
    ]);
    t.deepEqual(mem.files.get('s3/b1/v'), body('v-new'));
    t.regex(mem.files.get('s3/b1/_skipped.jsonl')!.toString(), /ERR_S3_MALFORMED_KEY[\s\S]*ERR_S3_INCOMPLETE_BLOB_CHUNKS/);
    // The two runs: the same files, the same bytes (MANIFEST.json holds the wall time, CHECKSUMS its hash).
    t.deepEqual([...disk.files.keys()].sort(), [...mem.files.keys()].sort());
    for (const [p, data] of mem.files) if (p.startsWith('s3/')) t.deepEqual(disk.files.get(p), data, p);
    t.deepEqual(disk.warnings, mem.warnings);
    // Tar: the entries, in order, with the same bytes (tar headers hold no time: -o absent, mtime fixed per run).
    const memTar = await run(t, input, form, true, undefined);
    const diskTar = await run(t, input, form, true, '1');
    t.is(diskTar.code, 3);
    t.deepEqual(tarEntries(diskTar.stdout).filter((e) => e.startsWith('s3/')), tarEntries(memTar.stdout).filter((e) => e.startsWith('s3/')));
  });
}

/** Each tar entry's name and content (ustar, 512-byte blocks; pax headers' records included as entries). */
function tarEntries(tar: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const data = tar.subarray(at + 512, at + 512 + size);
    out.push(`${prefix ? prefix + '/' : ''}${name} ${data.toString('hex')}`);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
