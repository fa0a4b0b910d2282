/**
 * Object-storage rows (`--commands s3` in run.ts; SPEC §11), against a
 * local s3rver started for the rows (test/helpers/s3-server.ts) on the
 * same 2 cores:
 *
 * - workload (a), native: ekv-s3-decode -o DIR and -o s3://bench/PREFIX,
 *   same input, one after the other per repetition; the ratio of their
 *   median wall times says what the upload path costs;
 * - workload (c) (10 000 objects unless --objects c=N): the dump decoded
 *   once (untimed), then ekv-s3-restore-objects into a fresh prefix per
 *   repetition, in objects/s (each object: a HEAD, a PUT, a HEAD).
 *
 * Opt-in, not in the default bench: s3rver is a JavaScript server that
 * writes every object to its own directory, so these rows measure it as
 * much as the tool. The server's CPU seconds are shown beside the tool's.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../test/helpers/s3-server.js';
import { median } from './floor.js';
import { human, table } from './format.js';
import { measuredCells, runChild, type ChildRun } from './restore.js';
import { resize, writeWorkload, type WorkloadSpec } from './workloads.js';

/** Objects of workload (c) restored, unless --objects c=N says otherwise. */
const RESTORE_OBJECTS = 10_000;
const BUCKET = 'bench';

/** Options of benchS3(). */
export interface S3BenchOptions {
  workloads: WorkloadSpec[];
  /** --objects c=N was given: restore that many, not RESTORE_OBJECTS. */
  objectsGiven: boolean;
  root: string;
  reps: number;
  fsync: boolean;
  log: (msg: string) => void;
}

interface S3Row {
  w: WorkloadSpec;
  label: string;
  bodyBytes: number;
  runs: Array<ChildRun & { serverCpuS: number }>;
  error?: string;
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where unavailable). */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /, '').split(' ');
    // Fields 14 and 15 of stat(5), counted from the state field (3rd): utime, stime in clock ticks.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Runs the rows; returns the report section (Markdown lines). */
export async function benchS3(o: S3BenchOptions): Promise<string[]> {
  Object.assign(process.env, S3_TEST_ENV);
  const server = await startS3Server([BUCKET]);
  const rows: S3Row[] = [];
  try {
    for (const w0 of o.workloads) {
      if (w0.id === 'a') rows.push(...(await decodeRows(o, server, w0)));
      if (w0.id === 'c') rows.push(await restoreRow(o, server, o.objectsGiven ? w0 : resize(w0, Math.min(w0.objects, RESTORE_OBJECTS))));
    }
  } finally {
    await server.stop();
  }
  return report(rows);
}

const s3Flags = (server: S3Server): string[] => ['--s3-endpoint', server.endpoint, '--s3-path-style', '-q'];

async function timed(o: S3BenchOptions, server: S3Server, row: S3Row, cli: 'decode' | 'restore', args: string[], statsPath: string): Promise<void> {
  if (row.error) return;
  const before = cpuSeconds(server.pid);
  try {
    const r = await runChild(cli, args, statsPath);
    row.runs.push({ ...r, serverCpuS: cpuSeconds(server.pid) - before });
    o.log(`[${row.w.id} ${row.label} #${row.runs.length}] ${r.wallS.toFixed(2)} s, ${(row.bodyBytes / 1e6 / r.wallS).toFixed(0)} MB/s, ${(row.w.objects / r.wallS).toFixed(0)} obj/s, RSS ${(r.peakRssKiB / 1024).toFixed(0)} MiB`);
  } catch (e) {
    row.error = (e as Error).message;
    o.log(`[${row.w.id} ${row.label}] FAILED: ${row.error}`);
  }
}

/** (a) decoded to a directory and to s3://, alternating, o.reps times each. */
async function decodeRows(o: S3BenchOptions, server: S3Server, w: WorkloadSpec): Promise<S3Row[]> {
  const input = path.join(o.root, `s3-${w.id}.fsm`);
  o.log(`[${w.id} s3] generating ${w.title} …`);
  const gen = writeWorkload(w, 'fsm', input, o.fsync);
  const dir: S3Row = { w, label: 'decode -o DIR', bodyBytes: gen.bodyBytes, runs: [] };
  const s3: S3Row = { w, label: 'decode -o s3://', bodyBytes: gen.bodyBytes, runs: [] };
  const statsPath = path.join(o.root, 's3-stats.json');
  for (let rep = 1; rep <= o.reps; rep++) {
    const out = path.join(o.root, `s3-out-${w.id}-${rep}`);
    await timed(o, server, dir, 'decode', [input, '-o', out, '-q'], statsPath);
    rmSync(out, { recursive: true, force: true });
    await timed(o, server, s3, 'decode', [input, '-o', `s3://${BUCKET}/decode-${w.id}-${rep}`, ...s3Flags(server)], statsPath);
  }
  rmSync(input, { force: true });
  return [dir, s3];
}

/** (c)'s dump restored into a fresh prefix per repetition. */
async function restoreRow(o: S3BenchOptions, server: S3Server, w: WorkloadSpec): Promise<S3Row> {
  const input = path.join(o.root, `s3-${w.id}.fsm`);
  o.log(`[${w.id} s3] generating ${w.title} …`);
  const gen = writeWorkload(w, 'fsm', input, o.fsync);
  const dump = path.join(o.root, `s3-dump-${w.id}`);
  const statsPath = path.join(o.root, 's3-stats.json');
  const row: S3Row = { w, label: 'restore-objects (dump directory)', bodyBytes: gen.bodyBytes, runs: [] };
  try {
    await runChild('decode', [input, '-o', dump, '-q'], statsPath);
  } catch (e) {
    row.error = (e as Error).message;
  }
  rmSync(input, { force: true });
  for (let rep = 1; rep <= o.reps; rep++) await timed(o, server, row, 'restore', [dump, `s3://${BUCKET}/restore-${w.id}-${rep}`, ...s3Flags(server)], statsPath);
  rmSync(dump, { recursive: true, force: true });
  return row;
}

function report(rows: S3Row[]): string[] {
  const wallOf = (r: S3Row | undefined): number | undefined => (r && r.runs.length > 0 ? median(r.runs.map((x) => x.wallS)) : undefined);
  const dirWall = wallOf(rows.find((r) => r.label === 'decode -o DIR'));
  const body = rows.map((r) => {
    const label = [`(${r.w.id}) ${r.w.title}`, r.label, human(r.bodyBytes), String(r.w.objects)];
    const wall = wallOf(r);
    if (wall === undefined) return [...label, 'FAILED', '', '', '', '', '', ''];
    return [
      ...label,
      ...measuredCells(r, wall),
      median(r.runs.map((x) => x.serverCpuS)).toFixed(2),
      r.label === 'decode -o s3://' && dirWall !== undefined ? `${(wall / dirWall).toFixed(2)}×` : '',
    ];
  });
  return [
    '## Object storage runs (local s3rver on the same machine)',
    '',
    table(
      ['workload', 'command', 'body bytes', 'objects', 'wall s (n)', 'MB/s', 'objects/s', 'peak RSS MiB', 'CPU s', 'server CPU s', 'vs -o DIR'],
      body,
      [false, false, true, true, true, true, true, true, true, true, true],
    ),
    '',
    'decode -o s3:// uploads 8 MiB parts, 4 requests in flight (--s3-concurrency default); restore-objects sends a HEAD, a PUT and',
    'a HEAD per object, 4 objects at a time. server CPU s: what s3rver used meanwhile, on the same 2 cores.',
    ...rows.filter((r) => r.error).map((r) => `FAILED (${r.w.id} ${r.label}): ${r.error}`),
    '',
  ];
}
