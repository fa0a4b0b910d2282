/**
 * The bundled sample (fixtures/sample.fsm, fixtures/sample.jsonl, written by
 * test/helpers/make-sample.ts) used by the README's first command: the
 * fixtures are up to date with the generator, real-shaped (HLC header, CRC
 * footer), and decode — in both forms — to the tree the generator's recipe
 * defines.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { testCrc32c } from '../helpers/fsm.js';
import { compositeEtag } from '../helpers/snapshot.js';
import {
  buildSample,
  SAMPLE_FSM_OPTIONS,
  SAMPLE_MODIFIED_HLC,
  SAMPLE_OBJECTS,
  sampleBody,
} from '../helpers/make-sample.js';
import { assertDump, decode, hlcTime, objectFiles, REPO, runCli, tempDir, type Expected } from './harness.js';

const FSM = path.join(REPO, 'fixtures', 'sample.fsm');
const JSONL = path.join(REPO, 'fixtures', 'sample.jsonl');

function expected(): Expected {
  const o = SAMPLE_OBJECTS;
  const lm = { lastModifiedHlc: SAMPLE_MODIFIED_HLC };
  const clip = o.clip.body;
  return {
    's3/photos/_bucket.json':
      '{\n  "format_version": 1,\n  "name": "photos",\n  "creation_time_iso": "2024-04-28T12:34:56Z",\n' +
      '  "owner": "alice",\n  "region": "us-east-1",\n  "acl": "private"\n}',
    's3/photos/hello.txt': 'Hello, elastickv!\n',
    's3/photos/hello.txt.elastickv-meta.json':
      '{\n  "format_version": 1,\n  "etag": "984f1a7776f1dec696cef80e1175e344",\n  "size_bytes": 18,\n' +
      '  "last_modified": "2024-04-29T09:15:00.25Z",\n  "content_type": "text/plain",\n  "user_metadata": {\n    "author": "alice"\n  }\n}',
    ...objectFiles('photos', 'videos/clip.mp4', clip, {
      ...lm,
      contentType: 'video/mp4',
      etag: compositeEtag([clip.subarray(0, 4096), clip.subarray(4096, 8192), clip.subarray(8192)]),
    }),
    ...objectFiles('photos', 'docs/report.pdf', sampleBody('report v3', 3500), { ...lm, contentType: 'application/pdf' }),
    ...objectFiles('photos', 'backups/db.dump', sampleBody('dump', 5000), lm),
  };
}

test('sample: fixtures match the generator and have the node file shape (EKVTHLC1 header, CRC-32C footer)', (t) => {
  const fsm = fs.readFileSync(FSM);
  const snap = buildSample();
  t.true(fsm.equals(snap.toFsm(SAMPLE_FSM_OPTIONS)), 'fixtures/sample.fsm is stale: run node dist/test/helpers/make-sample.js');
  t.true(fs.readFileSync(JSONL).equals(snap.toJsonl()), 'fixtures/sample.jsonl is stale: run node dist/test/helpers/make-sample.js');
  t.is(fsm.subarray(0, 8).toString('latin1'), 'EKVTHLC1');
  t.is(fsm.subarray(16, 24).toString('latin1'), 'EKVPBBL1');
  t.is(fsm.readBigUInt64LE(24), 200n, 'lastCommitTS');
  t.is(fsm.readUInt32BE(fsm.length - 4), testCrc32c(fsm.subarray(0, fsm.length - 4)), 'CRC-32C footer');
  t.is(hlcTime(SAMPLE_MODIFIED_HLC), '2024-04-29T09:15:00.25Z');
});

test('sample: both fixtures decode to the expected tree, without warnings', async (t) => {
  const want = expected();
  for (const [form, file] of [
    ['fsm', FSM],
    ['jsonl', JSONL],
  ] as const) {
    const d = await decode(t, fs.readFileSync(file), form);
    assertDump(t, d, { files: want, warnings: [] });
    const manifest = JSON.parse(d.tree?.files.get('MANIFEST.json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;
    t.like(manifest, { adapters: { s3: { buckets: ['photos'] } } });
    if (form === 'fsm') t.is(manifest.last_commit_ts, 200);
    else t.false('last_commit_ts' in manifest);
  }
});

test("sample: the README's first command, on the committed file path", async (t) => {
  const out = path.join(tempDir(t), 'sample-dump');
  const r = await runCli(['fixtures/sample.fsm', '-o', out]);
  t.is(r.code, 0, r.stderr);
  t.is(fs.readFileSync(path.join(out, 's3/photos/hello.txt'), 'utf8'), 'Hello, elastickv!\n');
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'MANIFEST.json'), 'utf8')) as { source: { fsm_path: string } };
  t.is(manifest.source.fsm_path, 'fixtures/sample.fsm');
});
