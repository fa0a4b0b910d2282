/**
 * `npm run bench`: end-to-end throughput of the ekv-s3-decode CLI.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/run.js [options]
 *
 * For each workload (bench/workloads.ts) and input format it generates the
 * snapshot into a temp directory (streamed, deterministic), measures a floor
 * on the same data (bench/floor.ts), then runs the CLI (directory mode, -o)
 * several times and prints, per row: input bytes, body bytes, median wall
 * time, MB/s of body bytes, objects/s, peak RSS, CPU time, bytes written per
 * body byte (/proc/<pid>/io of the CLI process) and the ratio to the floor.
 *
 * Options:
 *   --quick            small sizes, 1 repetition: a smoke run (< 1 min)
 *   --only a,c         workloads to run (default all: a,b,c,d)
 *   --formats fsm,jsonl  input formats (default both)
 *   --reps N           CLI runs per row (default 3; --quick: 1); median reported
 *   --verify           measure only with verification on
 *   --no-verify        measure only with --no-verify
 *                      (default: native both, JSONL verify only)
 *   --all-modes        verify and --no-verify for every format
 *   --profile          one extra run per row with --cpu-prof; prints the top
 *                      10 self-time functions (not part of the timings)
 *   --tmp DIR          where to put temp data (default os.tmpdir())
 *   --keep             keep the temp directory (inputs, last outputs)
 *   --json FILE        also write all measurements as JSON
 *   --no-fsync         do not fsync generated inputs (default: fsync, so
 *                      their writeback does not overlap the timed runs)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './cli-child.js';
import { formatSelfTimes, selfTimes, type SelfTime } from './cpuprofile.js';
import { filesFloor, measureFloor, median, type FilesFloor, type FloorResult } from './floor.js';
import {
  bodyBytes,
  estimateInputBytes,
  fullWorkloads,
  quickWorkloads,
  seedOf,
  writeWorkload,
  type GeneratedInput,
  type InputFormat,
  type WorkloadId,
  type WorkloadSpec,
} from './workloads.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'cli-child.js');
const TIME = '/usr/bin/time';

type Mode = 'verify' | 'no-verify';

interface Options {
  quick: boolean;
  only: WorkloadId[];
  formats: InputFormat[];
  reps: number;
  modes: Mode[] | undefined;
  allModes: boolean;
  profile: boolean;
  tmp: string;
  keep: boolean;
  json: string | undefined;
  fsync: boolean;
}

function usage(msg?: string): never {
  if (msg) console.error(`bench: ${msg}`);
  console.error(
    'usage: node dist/bench/run.js [--quick] [--only a,b,c,d] [--formats fsm,jsonl] [--reps N]\n' +
      '       [--verify | --no-verify | --all-modes] [--profile] [--tmp DIR] [--keep] [--json FILE] [--no-fsync]',
  );
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    only: ['a', 'b', 'c', 'd'],
    formats: ['fsm', 'jsonl'],
    reps: 0,
    modes: undefined,
    allModes: false,
    profile: false,
    tmp: os.tmpdir(),
    keep: false,
    json: undefined,
    fsync: true,
  };
  const modes = new Set<Mode>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--only': {
        const ids = value().split(',').filter(Boolean);
        for (const id of ids) if (!['a', 'b', 'c', 'd'].includes(id)) usage(`unknown workload ${id}`);
        o.only = ids as WorkloadId[];
        break;
      }
      case '--formats': {
        const fs = value().split(',').filter(Boolean);
        for (const f of fs) if (f !== 'fsm' && f !== 'jsonl') usage(`unknown format ${f}`);
        o.formats = fs as InputFormat[];
        break;
      }
      case '--reps':
        o.reps = Number(value());
        if (!Number.isInteger(o.reps) || o.reps < 1) usage('--reps must be a positive integer');
        break;
      case '--verify':
        modes.add('verify');
        break;
      case '--no-verify':
        modes.add('no-verify');
        break;
      case '--all-modes':
        o.allModes = true;
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--tmp':
        o.tmp = value();
        break;
      case '--keep':
        o.keep = true;
        break;
      case '--json':
        o.json = value();
        break;
      case '--no-fsync':
        o.fsync = false;
        break;
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown option ${a}`);
    }
  }
  if (modes.size > 0) o.modes = (['verify', 'no-verify'] as Mode[]).filter((m) => modes.has(m));
  if (o.reps === 0) o.reps = o.quick ? 1 : 3;
  return o;
}

function modesFor(o: Options, f: InputFormat): Mode[] {
  if (o.modes) return o.modes;
  if (o.allModes || f === 'fsm') return ['verify', 'no-verify'];
  return ['verify'];
}

// ------------------------------------------------------------------ formatting

function human(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

function table(headers: string[], rows: string[][], right: boolean[]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (right[i] ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  const sep = `|${w.map((n, i) => (right[i] ? `${'-'.repeat(n + 1)}:` : `${'-'.repeat(n + 2)}`)).join('|')}|`;
  return [line(headers), sep, ...rows.map(line)].join('\n');
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

// ------------------------------------------------------------------ machine

const FS_TYPES: Record<number, string> = {
  0xef53: 'ext2/3/4',
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x6969: 'nfs',
  0x65735546: 'fuse',
};

function machine(tmp: string): string[] {
  const cpus = os.cpus();
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.join(here, '..', '..'), encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: path.join(here, '..', '..'), encoding: 'utf8' });
  const commit = git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? ' (lib/ has uncommitted changes)' : ''}` : 'unknown';
  let fsType = 'unknown';
  try {
    const st = statfsSync(tmp);
    fsType = FS_TYPES[st.type] ?? `0x${st.type.toString(16)}`;
  } catch {
    // ignore
  }
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'} × ${cpus.length} (available parallelism ${os.availableParallelism()})`,
    `Memory: ${(os.totalmem() / GiB).toFixed(1)} GiB; OS: ${os.type()} ${os.release()} ${os.arch()}`,
    `Node: ${process.version}; commit: ${commit}`,
    `Temp: ${tmp} (${fsType}); peak RSS via ${existsSync(TIME) ? `${TIME} -f %M` : '/proc/self/status VmHWM'}; writes via /proc/<pid>/io`,
  ];
}

// ------------------------------------------------------------------ CLI runs

interface RunResult {
  wallS: number;
  exitCode: number;
  peakRssKiB: number;
  cpuS: number;
  io: Record<string, number>;
  objects: number;
  bodyBytes: number;
  files: number;
}

function runCli(input: string, outDir: string, mode: Mode, statsPath: string, nodeArgs: string[] = []): Promise<RunResult> {
  const timePath = `${statsPath}.time`;
  const cliArgs = [...nodeArgs, CHILD, input, '-o', outDir, '--log-format', 'json', ...(mode === 'no-verify' ? ['--no-verify'] : [])];
  const useTime = existsSync(TIME);
  const [cmd, args] = useTime ? [TIME, ['-f', '%M', '-o', timePath, process.execPath, ...cliArgs]] : [process.execPath, cliArgs];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EKV_BENCH_STATS: statsPath } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      let stats: ChildStats | undefined;
      try {
        stats = JSON.parse(readFileSync(statsPath, 'utf8')) as ChildStats;
        unlinkSync(statsPath);
      } catch {
        stats = undefined;
      }
      let peak = stats?.vmHwmKiB || stats?.maxRssKiB || 0;
      if (useTime && existsSync(timePath)) {
        const m = /(\d+)\s*$/.exec(readFileSync(timePath, 'utf8'));
        if (m) peak = Number(m[1]);
        unlinkSync(timePath);
      }
      const summaryLine = stderr.split('\n').find((l) => l.includes('"event":"summary"'));
      const summary = summaryLine ? (JSON.parse(summaryLine) as { objects: number; bodyBytes: number; files: number }) : undefined;
      if (code !== 0 || !summary || !stats) {
        reject(new Error(`CLI exited with ${code} on ${path.basename(input)} (${mode}):\n${stderr.trim().split('\n').slice(-10).join('\n')}`));
        return;
      }
      resolve({
        wallS,
        exitCode: code,
        peakRssKiB: peak,
        cpuS: (stats.userCpuUs + stats.systemCpuUs) / 1e6,
        io: stats.io,
        objects: summary.objects,
        bodyBytes: summary.bodyBytes,
        files: summary.files,
      });
    });
  });
}

// ------------------------------------------------------------------ main

interface Row {
  workload: WorkloadSpec;
  format: InputFormat;
  mode: Mode;
  input: GeneratedInput;
  runs: RunResult[];
  error?: string;
}

interface WorkloadResult {
  workload: WorkloadSpec;
  floor?: FloorResult;
  files?: FilesFloor;
  generated: GeneratedInput[];
}

function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const workloads = (o.quick ? quickWorkloads() : fullWorkloads()).filter((w) => o.only.includes(w.id));
  if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: build first (npx tsc -p tsconfig.json)`);

  // Free space: the largest input, plus the floor copy or the output (body
  // bytes, sidecars) and a possible scratch spill of the same size.
  let need = 0;
  let keepNeed = 0;
  for (const w of workloads) {
    const input = Math.max(...o.formats.map((f) => estimateInputBytes(w, f)));
    need = Math.max(need, input + 2 * bodyBytes(w) + 256 * MiB);
    keepNeed += o.formats.reduce((s, f) => s + estimateInputBytes(w, f), 0) + o.formats.length * 2 * bodyBytes(w);
  }
  if (o.keep) need = Math.max(need, keepNeed);
  const free = freeBytes(o.tmp);
  if (free < need) throw new Error(`not enough free space in ${o.tmp}: need ~${human(need)}, have ${human(free)} (use --tmp DIR or --only)`);

  const root = mkdtempSync(path.join(o.tmp, 'ekv-bench-'));
  const cleanup = (): void => {
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const started = Date.now();
  const header = [
    `# ekv-s3-decode benchmark (${o.quick ? 'quick' : 'full'}; ${new Date().toISOString()})`,
    '',
    ...machine(o.tmp).map((l) => `- ${l}`),
    `- Plan: workloads ${workloads.map((w) => `(${w.id}) ${w.title}`).join('; ')}`,
    `- Formats: ${o.formats.map((f) => `${f} [${modesFor(o, f).join(', ')}]`).join('; ')}; ${o.reps} run${o.reps === 1 ? '' : 's'} per row (median), floor ${o.reps} rep${o.reps === 1 ? '' : 's'}`,
    `- Free space in temp: ${human(free)} (need ~${human(need)})`,
  ];
  log(header.join('\n'));

  const rows: Row[] = [];
  const results: WorkloadResult[] = [];
  const profiles: Array<{ label: string; top: { totalMs: number; rows: SelfTime[] } }> = [];
  try {
    for (const w of workloads) {
      const wr: WorkloadResult = { workload: w, generated: [] };
      results.push(wr);
      for (const [fi, f] of o.formats.entries()) {
        const inputPath = path.join(root, `${w.id}.${f}`);
        log(`[${w.id} ${f}] generating ${w.title} …`);
        const t0 = Date.now();
        const gen = writeWorkload(w, f, inputPath, o.fsync);
        wr.generated.push(gen);
        log(
          `[${w.id} ${f}] ${human(gen.inputBytes)} input, ${gen.records} records, ${human(gen.bodyBytes)} body: ` +
            `${gen.seconds.toFixed(1)} s${o.fsync ? ` (+ fsync, ${((Date.now() - t0) / 1000).toFixed(1)} s total)` : ''}`,
        );
        if (fi === 0) {
          wr.floor = measureFloor({ bodyBytes: gen.bodyBytes, source: inputPath, dir: root, reps: o.reps, seed: seedOf(w) });
          const fl = wr.floor;
          log(
            `[${w.id}] floor ${fl.floorS.toFixed(2)} s: write (${fl.writeMethod}) ${fl.writeS.toFixed(2)} s, sha256 ${fl.sha256S.toFixed(2)} s, md5 ${fl.md5S.toFixed(2)} s`,
          );
          if (w.objects >= 1000) {
            wr.files = filesFloor(root, w.objects, w.objectSize, seedOf(w));
            log(`[${w.id}] create ${wr.files.files} files of ${human(w.objectSize)}: ${wr.files.seconds.toFixed(2)} s`);
          }
        }
        const modes = modesFor(o, f);
        const fRows = modes.map((mode): Row => ({ workload: w, format: f, mode, input: gen, runs: [] }));
        rows.push(...fRows);
        // Interleave the modes, so drift (thermal, page cache) hits both alike.
        for (let rep = 0; rep < o.reps; rep++) {
          for (const row of fRows) {
            if (row.error) continue;
            const out = path.join(root, `out-${w.id}-${f}-${row.mode}-${rep}`);
            try {
              const r = await runCli(inputPath, out, row.mode, path.join(root, 'stats.json'));
              if (r.bodyBytes !== gen.bodyBytes || r.objects !== w.objects) {
                throw new Error(`CLI wrote ${r.objects} objects / ${r.bodyBytes} body bytes, expected ${w.objects} / ${gen.bodyBytes}`);
              }
              row.runs.push(r);
              log(
                `[${w.id} ${f} ${row.mode} ${rep + 1}/${o.reps}] ${r.wallS.toFixed(2)} s, ${(gen.bodyBytes / 1e6 / r.wallS).toFixed(0)} MB/s, ` +
                  `RSS ${(r.peakRssKiB / 1024).toFixed(0)} MiB, cpu ${r.cpuS.toFixed(2)} s, write_bytes ${human(r.io['write_bytes'] ?? 0)}, wchar ${human(r.io['wchar'] ?? 0)}`,
              );
            } catch (e) {
              row.error = (e as Error).message;
              log(`[${w.id} ${f} ${row.mode}] FAILED: ${row.error}`);
            }
            if (!o.keep || rep < o.reps - 1) rmSync(out, { recursive: true, force: true });
          }
        }
        if (o.profile) {
          const profDir = path.join(root, 'profiles');
          const name = `${w.id}-${f}.cpuprofile`;
          const out = path.join(root, `out-${w.id}-${f}-profile`);
          try {
            await runCli(inputPath, out, 'verify', path.join(root, 'stats.json'), ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', name]);
            const top = selfTimes(path.join(profDir, name), 10);
            profiles.push({ label: `(${w.id}) ${w.title}, ${f}, verify`, top });
          } catch (e) {
            log(`[${w.id} ${f}] profile FAILED: ${(e as Error).message}`);
          }
          rmSync(out, { recursive: true, force: true });
        }
        if (!o.keep) rmSync(inputPath, { force: true });
      }
    }
  } finally {
    cleanup();
  }

  // ---------------------------------------------------------------- report
  const elapsed = (Date.now() - started) / 1000;
  const floorOf = (w: WorkloadSpec): FloorResult | undefined => results.find((r) => r.workload === w)?.floor;
  const tableRows = rows.map((r) => {
    const w = r.workload;
    const body = r.input.bodyBytes;
    const label = [`(${w.id}) ${w.title}`, r.format, r.mode === 'verify' ? 'on' : 'off'];
    if (r.runs.length === 0) return [...label, human(r.input.inputBytes), human(body), 'FAILED', '', '', '', '', '', '', ''];
    const wall = median(r.runs.map((x) => x.wallS));
    const rss = Math.max(...r.runs.map((x) => x.peakRssKiB));
    const cpu = median(r.runs.map((x) => x.cpuS));
    const wb = median(r.runs.map((x) => x.io['write_bytes'] ?? 0));
    const wchar = median(r.runs.map((x) => x.io['wchar'] ?? 0));
    const disk = wb > 0 ? (wb / body).toFixed(2) : wchar > 0 ? `${(wchar / body).toFixed(2)}*` : 'n/a';
    const floor = floorOf(w);
    return [
      ...label,
      human(r.input.inputBytes),
      human(body),
      `${wall.toFixed(2)} (${r.runs.length})`,
      (body / 1e6 / wall).toFixed(0),
      (w.objects / wall).toFixed(w.objects / wall >= 100 ? 0 : 1),
      (rss / 1024).toFixed(0),
      cpu.toFixed(2),
      disk,
      wchar > 0 ? (wchar / body).toFixed(2) : 'n/a',
      floor ? `${(wall / floor.floorS).toFixed(2)}×` : 'n/a',
    ];
  });
  const mainTable = table(
    ['workload', 'input', 'verify', 'input bytes', 'body bytes', 'wall s (n)', 'MB/s', 'objects/s', 'peak RSS MiB', 'CPU s', 'disk wr/body', 'wchar/body', 'vs floor'],
    tableRows,
    [false, false, false, true, true, true, true, true, true, true, true, true, true],
  );
  const floorTable = table(
    ['workload', 'body bytes', 'write s', 'write MB/s', 'sha256 s', 'sha256 MB/s', 'floor s', 'md5 s (info)', 'md5 MB/s', 'create files (info)'],
    results
      .filter((r) => r.floor)
      .map((r) => {
        const f = r.floor!;
        const mb = f.bodyBytes / 1e6;
        return [
          `(${r.workload.id}) ${r.workload.title}`,
          human(f.bodyBytes),
          `${f.writeS.toFixed(2)} (${f.writeMethod})`,
          (mb / f.writeS).toFixed(0),
          f.sha256S.toFixed(2),
          (mb / f.sha256S).toFixed(0),
          f.floorS.toFixed(2),
          f.md5S.toFixed(2),
          (mb / f.md5S).toFixed(0),
          r.files ? `${r.files.files} × ${human(r.files.size)}: ${r.files.seconds.toFixed(2)} s (${(r.files.files / r.files.seconds).toFixed(0)}/s)` : '',
        ];
      }),
    [false, true, true, true, true, true, true, true, true, false],
  );
  const genTable = table(
    ['workload', 'input', 'records', 'input bytes', 'generate s'],
    results.flatMap((r) => r.generated.map((g) => [`(${r.workload.id}) ${r.workload.title}`, g.format, String(g.records), String(g.inputBytes), g.seconds.toFixed(1)])),
    [false, false, true, true, true],
  );

  const out: string[] = [
    ...header,
    '',
    '## Decode runs (directory mode, -o)',
    '',
    mainTable,
    '',
    'wall s: median of n runs, process spawn to exit (includes Node start-up). MB/s: body bytes (10^6) per second of wall time.',
    'peak RSS: the maximum over runs. CPU s: user + system, median. disk wr/body: write_bytes of /proc/<pid>/io (bytes the CLI',
    'dirtied in the page cache, whole 4 KiB pages, before any cancellation) per body byte; `*` = write_bytes was 0 (tmpfs/overlay)',
    'so wchar is shown. wchar/body: bytes passed to write() (bodies, sidecars, CHECKSUMS, scratch spill, stderr) per body byte.',
    'vs floor: median wall / floor s of the workload (below).',
    '',
    '## Floor (same run, same filesystem, same byte count)',
    '',
    floorTable,
    '',
    'write: `dd if=INPUT of=TMP/floor.bin bs=1M count=<body bytes> iflag=count_bytes` (page cache, no fsync), median.',
    'sha256: node:crypto SHA-256 of the body bytes on one core, 1 MiB updates, median. floor = max(write, sha256).',
    'md5 (info): the extra per-byte work of verification. create files (info): one synchronous open/write/close per object.',
    '',
    '## Inputs',
    '',
    genTable,
    '',
  ];
  for (const p of profiles) out.push(`## Profile: ${p.label} — top 10 self time`, '', formatSelfTimes(p.top), '');
  const failed = rows.filter((r) => r.error);
  for (const r of failed) out.push(`FAILED (${r.workload.id} ${r.format} ${r.mode}): ${r.error}`);
  out.push(`Total bench time: ${elapsed.toFixed(0)} s`);
  console.log(out.join('\n'));

  if (o.json) {
    writeFileSync(
      o.json,
      JSON.stringify(
        { machine: machine(o.tmp), options: o, elapsedS: elapsed, workloads: results, rows: rows.map((r) => ({ ...r, workload: r.workload.id })), profiles },
        null,
        2,
      ),
    );
  }
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
