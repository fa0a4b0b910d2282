/**
 * bench/reading-stages.ts times decode.ts's chain cut after each stage: each
 * cut must run exactly that chain over the whole input, or the differences
 * it prints mean nothing.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWorkload, type WorkloadSpec } from '../bench/workloads.js';
import { tempDir } from './e2e/harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/reading-stages.js');
/** 300 single-chunk objects in one bucket: a blob and a manifest each, and the bucket's meta. */
const W: WorkloadSpec = { id: 'c', title: 'small c', objects: 300, objectSize: 1024, parts: 1, chunkSize: 65_536 };
const RECORDS = 2 * W.objects + 1;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });
}

test('each cut passes on what its last stage emits: every record up to the spiller, one bucket collection after the collector', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  writeWorkload(W, 'fsm', input);
  const expected = [RECORDS, RECORDS, RECORDS, RECORDS, RECORDS, 1];
  expected.forEach((items, stages) => {
    const r = run([input, '--child', String(stages), '--tmp', dir]);
    t.is(r.status, 0, r.stderr);
    t.like(JSON.parse(r.stdout), { stages, items });
  });
});

test('a run prints a median row per cut, in chain order, and leaves no scratch behind', (t) => {
  const dir = tempDir(t);
  const input = path.join(dir, 'c.fsm');
  writeWorkload(W, 'fsm', input);
  const r = run([input, '--rounds', '1', '--tmp', dir]);
  t.is(r.status, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => /^\| [a-z]/.test(l) && !l.startsWith('| chain'));
  t.deepEqual(
    rows.map((l) => l.split('|')[1]!.trim()),
    ['snapshot reader', 'version resolver', 'key classifier', 'record filter (only with --bucket, --prefix)', 'blob spiller', 'bucket collector'],
  );
  t.deepEqual(fs.readdirSync(dir), ['c.fsm']);
});

test('without an input it prints its usage and exits 2', (t) => {
  const r = run([]);
  t.is(r.status, 2);
  t.regex(r.stderr, /^usage: /);
});
