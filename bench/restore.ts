/**
 * Benchmark rows for the restore side (`--commands encode,verify` in
 * run.ts): per workload, the native input is generated and decoded once
 * (untimed) into a dump; then ekv-s3-encode (self-test on, the default, and
 * --no-self-test) and ekv-s3-verify run on that dump, each measured like
 * the decode rows (wall time, body MB/s, objects/s, peak RSS, CPU) against
 * the same floor.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './cli-child.js';
import { measureFloor, median, type FloorResult } from './floor.js';
import { human, table } from './format.js';
import { seedOf, writeWorkload, type WorkloadSpec } from './workloads.js';

export type RestoreCommand = 'encode' | 'verify';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cli-child.js');
const TIME = '/usr/bin/time';

/** What one child run measured. */
export interface ChildRun {
  wallS: number;
  peakRssKiB: number;
  cpuS: number;
}

/** A row's measured cells: wall s (n), MB/s, objects/s, peak RSS MiB, CPU s (medians; RSS the maximum). */
export function measuredCells(r: { w: WorkloadSpec; bodyBytes: number; runs: ChildRun[] }, wall: number): string[] {
  return [
    `${wall.toFixed(2)} (${r.runs.length})`,
    (r.bodyBytes / 1e6 / wall).toFixed(0),
    (r.w.objects / wall).toFixed(0),
    (Math.max(...r.runs.map((x) => x.peakRssKiB)) / 1024).toFixed(0),
    median(r.runs.map((x) => x.cpuS)).toFixed(2),
  ];
}

/** Runs one CLI in the bench child (cli-child.ts, or another build's: script); rejects unless it exits 0. */
export function runChild(cli: 'decode' | RestoreCommand | 'restore', args: string[], statsPath: string, script = CHILD): Promise<ChildRun> {
  const timePath = `${statsPath}.time`;
  const useTime = existsSync(TIME);
  const [cmd, argv] = useTime ? [TIME, ['-f', '%M', '-o', timePath, process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EKV_BENCH_STATS: statsPath, EKV_BENCH_CLI: cli } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr = (stderr + s).slice(-(1 << 16));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const stats = existsSync(statsPath) ? (JSON.parse(readFileSync(statsPath, 'utf8')) as ChildStats) : undefined;
      if (stats) unlinkSync(statsPath);
      let peak = stats?.vmHwmKiB || stats?.maxRssKiB || 0;
      if (useTime && existsSync(timePath)) {
        const m = /(\d+)\s*$/.exec(readFileSync(timePath, 'utf8'));
        if (m) peak = Number(m[1]);
        unlinkSync(timePath);
      }
      if (code !== 0 || !stats) reject(new Error(`${cli} exited with ${code}:\n${stderr.trim().split('\n').slice(-10).join('\n')}`));
      else resolve({ wallS, peakRssKiB: peak, cpuS: (stats.userCpuUs + stats.systemCpuUs) / 1e6 });
    });
  });
}

interface RestoreRow {
  w: WorkloadSpec;
  label: string;
  bodyBytes: number;
  floor: FloorResult;
  runs: ChildRun[];
  /** The CLI child of another build (--baseline): a "before" row. */
  child?: string;
  error?: string;
}

/** A row's command label, marked when it is the other build's. */
const rowLabel = (r: RestoreRow): string => `${r.label}${r.child ? ', before' : ''}`;

export interface RestoreBenchOptions {
  workloads: WorkloadSpec[];
  commands: RestoreCommand[];
  root: string;
  reps: number;
  fsync: boolean;
  /** Another build's cli-child.js: every row also run with it, alternating. */
  baseline?: string;
  log: (msg: string) => void;
}

/** Runs the rows; returns the report section (Markdown lines). */
export async function benchRestore(o: RestoreBenchOptions): Promise<string[]> {
  const rows: RestoreRow[] = [];
  const statsPath = path.join(o.root, 'restore-stats.json');
  for (const w of o.workloads) {
    const input = path.join(o.root, `${w.id}.fsm`);
    o.log(`[${w.id} restore] generating ${w.title} …`);
    const gen = writeWorkload(w, 'fsm', input, o.fsync);
    const floor = measureFloor({ bodyBytes: gen.bodyBytes, source: input, dir: o.root, reps: o.reps, seed: seedOf(w) });
    const dump = path.join(o.root, `dump-${w.id}`);
    const d = await runChild('decode', [input, '-o', dump, '-q'], statsPath);
    o.log(`[${w.id} restore] decoded into a dump (untimed row): ${d.wallS.toFixed(2)} s`);
    rmSync(input, { force: true });
    const variants: Array<{ label: string; cli: RestoreCommand; args: (rep: number) => string[]; out?: (rep: number) => string }> = [];
    const fsm = (rep: number) => path.join(o.root, `enc-${w.id}-${rep}.fsm`);
    if (o.commands.includes('encode')) {
      variants.push({ label: 'encode (self-test on)', cli: 'encode', args: (r) => [dump, '-o', fsm(r), '-q'], out: fsm });
      variants.push({ label: 'encode --no-self-test', cli: 'encode', args: (r) => [dump, '-o', fsm(r), '-q', '--no-self-test'], out: fsm });
    }
    if (o.commands.includes('verify')) variants.push({ label: 'verify (directory)', cli: 'verify', args: () => [dump, '-q'] });
    for (const v of variants) {
      const pair: RestoreRow[] = [undefined, o.baseline].map((child) => ({ w, label: v.label, bodyBytes: gen.bodyBytes, floor, runs: [], ...(child ? { child } : {}) }));
      rows.push(...pair);
      for (let rep = 1; rep <= o.reps; rep++) {
        // Alternating which build goes first, so neither always runs right after the other's deletions.
        for (const row of rep % 2 ? pair : [...pair].reverse()) {
          if (row.error) continue;
          const name = `${w.id} ${rowLabel(row)} #${rep}`;
          try {
            const r = await runChild(v.cli, v.args(rep), statsPath, row.child);
            row.runs.push(r);
            o.log(`[${name}] ${r.wallS.toFixed(2)} s, ${(gen.bodyBytes / 1e6 / r.wallS).toFixed(0)} MB/s, ${(w.objects / r.wallS).toFixed(0)} obj/s, RSS ${(r.peakRssKiB / 1024).toFixed(0)} MiB`);
          } catch (e) {
            row.error = (e as Error).message;
            o.log(`[${name}] FAILED: ${row.error}`);
          }
          if (v.out) for (const f of [v.out(rep), `${v.out(rep)}.encode_info.json`]) rmSync(f, { force: true });
        }
      }
    }
    rmSync(dump, { recursive: true, force: true });
  }
  const body = rows.map((r) => {
    const label = [`(${r.w.id}) ${r.w.title}`, rowLabel(r), human(r.bodyBytes), String(r.w.objects)];
    if (r.runs.length === 0) return [...label, 'FAILED', '', '', '', '', ''];
    const wall = median(r.runs.map((x) => x.wallS));
    return [...label, ...measuredCells(r, wall), `${(wall / r.floor.floorS).toFixed(2)}×`];
  });
  return [
    '## Restore runs (ekv-s3-encode, ekv-s3-verify on a decoded dump directory)',
    '',
    table(
      ['workload', 'command', 'body bytes', 'objects', 'wall s (n)', 'MB/s', 'objects/s', 'peak RSS MiB', 'CPU s', 'vs floor'],
      body,
      [false, false, true, true, true, true, true, true, true, true],
    ),
    '',
    'The dump is made once per workload by the decoder (not timed). encode writes the bare snapshot to the same filesystem; with',
    'the self-test on it also decodes that snapshot into a scratch dump and compares. vs floor: as for the decode rows.',
    ...rows.filter((r) => r.error).map((r) => `FAILED (${r.w.id} ${r.label}): ${r.error}`),
    '',
  ];
}
