/**
 * SPEC §2 operator safety: SIGHUP and SIGQUIT (an ssh session dropped
 * during a long backup) clean up like SIGINT and SIGTERM — no
 * `DIR.partial-*`, no scratch in TMPDIR, no `FILE.partial-*` of the
 * converter — and the exit code is 128 + the signal's number.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { BIN, bytesOf, REPO, tempDir } from './harness.js';

const CONVERT = path.join(REPO, 'bin', 'ekv-snapshot-jsonl.js');
const EXIT = { SIGHUP: 129, SIGQUIT: 131 } as const;

function input(): Buffer {
  const snap = new SnapshotBuilder().bucket('bkt');
  for (let i = 0; i < 4; i++) snap.putObject('bkt', `o${i}`, bytesOf(`o${i}`, 200_000), { chunkSize: 65536 });
  return snap.toJsonl();
}

/**
 * Starts `node script args` in work (TMPDIR=work/tmp), feeds it half the
 * input, waits until `started(work)` says the run is under way, sends sig
 * and returns the exit code and stderr.
 */
async function interrupt(t: ExecutionContext, script: string, args: string[], work: string, sig: keyof typeof EXIT, started: () => boolean): Promise<{ code: number | null; stderr: string }> {
  const data = input();
  const child = spawn(process.execPath, [script, ...args], { cwd: work, stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, TMPDIR: path.join(work, 'tmp') } });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdin.on('error', () => {});
  child.stdin.write(data.subarray(0, data.length >> 1));
  const t0 = Date.now();
  while (!started() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
  t.true(started(), `${sig}: the run got under way`);
  child.kill(sig);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { code, stderr };
}

function workDir(t: ExecutionContext): string {
  const work = tempDir(t);
  fs.mkdirSync(path.join(work, 'tmp'));
  return work;
}

for (const sig of ['SIGHUP', 'SIGQUIT'] as const) {
  test(`§2 ${sig} during -o DIR: exit ${EXIT[sig]}, no DIR, no DIR.partial-*, TMPDIR empty`, async (t) => {
    const work = workDir(t);
    const r = await interrupt(t, BIN, ['-', '-o', 'out'], work, sig, () => fs.readdirSync(work).some((n) => n.startsWith('out.partial-')));
    t.is(r.code, EXIT[sig], r.stderr);
    t.regex(r.stderr, new RegExp(`interrupted by ${sig}`));
    t.deepEqual(fs.readdirSync(work).sort(), ['tmp'], r.stderr);
    t.deepEqual(fs.readdirSync(path.join(work, 'tmp')), [], r.stderr);
  });

  test(`§2 ${sig} during tar output: exit ${EXIT[sig]}, scratch removed from TMPDIR`, async (t) => {
    const work = workDir(t);
    const r = await interrupt(t, BIN, ['-'], work, sig, () => fs.readdirSync(path.join(work, 'tmp')).length > 0);
    t.is(r.code, EXIT[sig], r.stderr);
    t.deepEqual(fs.readdirSync(path.join(work, 'tmp')), [], r.stderr);
  });

  test(`§2 ${sig} during ekv-snapshot-jsonl --to fsm -o FILE: exit ${EXIT[sig]}, FILE.partial-* and scratch removed`, async (t) => {
    const work = workDir(t);
    const r = await interrupt(t, CONVERT, ['--to', 'fsm', '-o', 'out.fsm'], work, sig, () => fs.readdirSync(work).some((n) => n.startsWith('out.fsm.partial-')));
    t.is(r.code, EXIT[sig], r.stderr);
    t.deepEqual(fs.readdirSync(work).sort(), ['tmp'], r.stderr);
    t.deepEqual(fs.readdirSync(path.join(work, 'tmp')), [], r.stderr);
  });
}
