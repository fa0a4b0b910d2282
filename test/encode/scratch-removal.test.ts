/**
 * encodeDump's scratch holds a whole dump when the input is a tar (it is
 * unpacked there): it is removed entry by entry with a bounded number of
 * removals pending (lib/io/remove-tree.ts), not by fs.promises.rm, which
 * starts one per file at once — gigabytes for a million objects (issue 12).
 * The self-test's decode writes only CHECKSUMS: no second copy of the dump
 * (two files per object, created and removed) is made.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeDump } from '../../lib/encode/encode.js';
import { writeDump } from '../helpers/dump.js';
import { spyOnUnlink } from '../helpers/unlink-spy.js';

const OBJECTS = 150;
const md5 = (b: string) => createHash('md5').update(b).digest('hex');

function dump(root: string): string {
  const files: Record<string, string> = { 's3/bkt/_bucket.json': '{\n  "format_version": 1,\n  "name": "bkt"\n}' };
  for (let i = 0; i < OBJECTS; i++) {
    const body = `body ${i}`;
    files[`s3/bkt/d${i % 3}/o${i}`] = body;
    files[`s3/bkt/d${i % 3}/o${i}.elastickv-meta.json`] = `{\n  "format_version": 1,\n  "etag": "${md5(body)}",\n  "size_bytes": ${body.length}\n}`;
  }
  return writeDump(root, files, { lastCommitTs: 77n });
}

// Serial: the spy replaces fs.promises.unlink process-wide.
test.serial('a tar dump with the self-test: the scratch (the unpacked dump) is removed file by file, at most 32 at once', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-encode-scratch-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const root = dump(path.join(work, 'dump'));
  t.is(spawnSync('tar', ['-cf', path.join(work, 'd.tar'), '-C', root, '.']).status, 0);
  const scratch = path.join(work, 'scratch');
  fs.mkdirSync(scratch);
  const spy = spyOnUnlink();
  try {
    const r = await encodeDump(path.join(work, 'd.tar'), { output: path.join(work, 'out.fsm'), scratchDir: scratch });
    t.true(r.selfTest?.matched);
    t.is(r.objects, OBJECTS);
  } finally {
    spy.restore();
  }
  t.deepEqual(fs.readdirSync(scratch), []);
  // Bodies and sidecars once (unpacked; the self-test decodes no copy), besides the few other files.
  t.true(spy.calls() >= 2 * OBJECTS && spy.calls() < 3 * OBJECTS, `${spy.calls()} unlinks`);
  t.true(spy.maxPending() <= 32, `${spy.maxPending()} unlinks pending at once`);
});

test.serial('a directory dump with the self-test: no decoded copy of the dump is made — the scratch holds a few files, not two per object', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-encode-scratch-'));
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const root = dump(path.join(work, 'dump'));
  const scratch = path.join(work, 'scratch');
  fs.mkdirSync(scratch);
  const spy = spyOnUnlink();
  try {
    const r = await encodeDump(root, { output: path.join(work, 'out.fsm'), scratchDir: scratch });
    t.true(r.selfTest?.matched);
    t.is(r.objects, OBJECTS);
  } finally {
    spy.restore();
  }
  t.deepEqual(fs.readdirSync(scratch), []);
  t.true(spy.calls() < 10, `${spy.calls()} unlinks`);
});
