/**
 * `npm run bench`: end-to-end throughput of the ekv-s3-decode CLI.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/run.js [options]
 *
 * For each workload (bench/workloads.ts) and input format it generates the
 * snapshot into a temp directory (streamed, deterministic), measures a floor
 * on the same data (bench/floor.ts), then runs the CLI (directory mode, -o)
 * and prints, per row: input bytes, body bytes, median wall time, MB/s of
 * body bytes, objects/s, peak RSS, CPU time, bytes written per body byte
 * (/proc/<pid>/io of the CLI process), the ratio to the floor, and how busy
 * the rest of the machine was meanwhile.
 *
 * Repetitions and the time budget (--budget, default 300 s for the full
 * bench: the issue's "~5 minutes"). Pass 1 runs every row once, except that
 * a row whose predicted cost (from a row of the same workload already run)
 * no longer fits the budget is skipped and shown as such; the first row of
 * each workload (native, verify on: the target) always runs. The workload
 * with many small objects (c) runs last, since its cost per run is the
 * least predictable. Pass 2 then adds repetitions, up to --reps per row,
 * cheapest rows first, while the measured costs fit the budget. The
 * "wall s (n)" column shows how many runs each median is over.
 *
 * Options:
 *   --quick            small sizes, 1 run per row: a smoke run (< 1 min)
 *   --only a,c         workloads to run (default all: a,b,c,d,e); (a) with native
 *                      input also runs split over 4 Raft groups, as 4 inputs
 *                      of the same bytes (SPEC §10), row "fsm-4groups"
 *   --formats fsm,jsonl  input formats (default both)
 *   --reps N           runs per row at most (default 3; --quick: 1)
 *   --budget S|none    total seconds to aim for (default 300; --quick 60;
 *                      none when --reps is given without --budget)
 *   --verify           measure only with verification on
 *   --no-verify        measure only with --no-verify
 *                      (default: both, but the many-small-objects workload
 *                      (c) and (e) verify only)
 *   --all-modes        verify and --no-verify for every format
 *   --profile          one extra run per row set with --cpu-prof (verify on);
 *                      prints the top 10 self-time functions (not timed)
 *   --objects c=20000  override a workload's object count (scaling studies)
 *   --scale            only workload (e) at 3 000 000 objects, one run (not
 *                      part of the default run: it takes several minutes)
 *   --tmp DIR          where to put temp data (default os.tmpdir())
 *   --keep             keep the temp directory (inputs, each row's first output)
 *   --json FILE        also write all measurements as JSON
 *   --no-fsync         do not fsync generated inputs (default: fsync, so
 *                      their writeback does not overlap the timed runs)
 *   --commands LIST    decode,encode,verify (default decode): encode and
 *                      verify rows run ekv-s3-encode / ekv-s3-verify on a
 *                      dump decoded (untimed) from the native input
 *                      (bench/restore.ts); e.g. --commands encode,verify;
 *                      s3: decode of (a) to s3:// vs to a directory and
 *                      restore-objects of (c) (10 000 objects unless
 *                      --objects c=N) on a local s3rver (bench/s3.ts)
 *   --baseline DIR     also run every row with the build in DIR (another
 *                      worktree, built: DIR/dist/bench/cli-child.js), as a
 *                      row marked "before", alternating with this build's
 *                      runs: a before/after comparison from one run
 *   --warm-up          first write and delete as much page cache as the
 *                      bench needs (helps on VMs where the first touch of
 *                      guest memory is slow, unless freed pages go back to
 *                      the host, as with virtio-balloon free page reporting)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildStats } from './cli-child.js';
import { formatSelfTimes, selfTimes, type SelfTimes } from './cpuprofile.js';
import { human, table } from './format.js';
import { benchRestore, type RestoreCommand } from './restore.js';
import { benchS3 } from './s3.js';
import { filesFloor, measureFloor, median, pipelineFloor, smallFilesFloor, warmPageCache, type FilesFloor, type FloorResult, type PipelineRun } from './floor.js';
import {
  bodyBytes,
  estimateInputBytes,
  fullWorkloads,
  SCALE_OBJECTS,
  quickWorkloads,
  resize,
  seedOf,
  writeWorkload,
  writeWorkloadGroups,
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
/** Workloads with at least this many objects: many small files (their outputs are deleted last). */
const MANY_FILES = 1000;
/**
 * Workloads decoded to a tar on stdout (/dev/null) rather than a directory:
 * (e) measures per-object metadata at a million objects, not file creation
 * (whose floor (c) shows), and its 2 million files would take minutes to
 * delete. Native input only.
 */
const TAR_WORKLOADS: ReadonlySet<WorkloadId> = new Set(['e']);

/** Whether a run of w leaves a directory of many files (deleted only at the end). */
function manyFiles(w: WorkloadSpec): boolean {
  return w.objects >= MANY_FILES && !TAR_WORKLOADS.has(w.id);
}
/** Workload (a) also runs split over this many Raft groups, as that many inputs (SPEC §10 performance contract). */
const SPLIT_GROUPS = 4;
/**
 * Deleting a small file, seconds, for the budget: 1.6 million files of (c)
 * outputs took 112 s here (the root filesystem is mounted with `discard`, so
 * each freed block is trimmed as it is freed).
 */
const RM_S_PER_FILE = 70e-6;
/** Files created for the "create files" information line, at most. */
const FILES_FLOOR_MAX = 10_000;
/**
 * File-writer threads of the small-files floor (bench/small-files-floor.ts):
 * with the little else it does, two create (c)'s files faster than one
 * (4.5-5.3 s against 5.4-7.3 s on a journaled ext4, 2026-12-06, streaming;
 * 4.7-4.9 s in two phases, as the bench runs it).
 */
const SMALL_FILES_FLOOR_WRITERS = 2;
/** Runs of the Node pipeline floor per mode (bench/pipeline-floor.ts), alternating modes. */
const PIPELINE_REPS = 2;

type Mode = 'verify' | 'no-verify';
type Command = 'decode' | RestoreCommand | 's3';

interface Options {
  quick: boolean;
  only: WorkloadId[];
  formats: InputFormat[];
  reps: number;
  budget: number | undefined;
  modes: Mode[] | undefined;
  allModes: boolean;
  profile: boolean;
  tmp: string;
  keep: boolean;
  json: string | undefined;
  fsync: boolean;
  warmUp: boolean;
  commands: Command[];
  objects: Map<WorkloadId, number>;
  /** Another build's CLI child (--baseline), run as "before" rows. */
  baseline: string | undefined;
}

const USAGE =
  'usage: node dist/bench/run.js [--quick | --scale] [--only a,b,c,d,e] [--formats fsm,jsonl] [--reps N] [--budget S]\n' +
  '       [--verify | --no-verify | --all-modes] [--profile] [--objects ID=N,...]\n' +
  '       [--tmp DIR] [--keep] [--json FILE] [--no-fsync] [--warm-up] [--commands decode,encode,verify,s3] [--baseline DIR]';

function usage(msg?: string): never {
  if (msg) console.error(`bench: ${msg}`);
  console.error(USAGE);
  process.exit(msg ? 2 : 0);
}

/** Objects of w per wall second, as the tables print it. */
function objectsPerSecond(w: WorkloadSpec, wallS: number): string {
  const n = w.objects / wallS;
  return n.toFixed(n >= 100 ? 0 : 1);
}

/** Seconds x per GiB of body bytes, for a table cell. */
function perGiBOf(x: number, bodyBytes: number): string {
  return (x / (bodyBytes / GiB)).toFixed(2);
}

/** CPU seconds that decoding the workload's bytes cannot go below: the floor's copy, its SHA-256 and, verifying, its MD5. */
function cpuBound(f: FloorResult, verify: boolean): number {
  return f.writeCpuS + f.sha256S + (verify ? f.md5S : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false,
    only: ['a', 'b', 'c', 'd', 'e'],
    formats: ['fsm', 'jsonl'],
    reps: 0,
    budget: undefined,
    modes: undefined,
    allModes: false,
    profile: false,
    tmp: os.tmpdir(),
    keep: false,
    json: undefined,
    fsync: true,
    warmUp: false,
    commands: ['decode'],
    objects: new Map(),
    baseline: undefined,
  };
  const modes = new Set<Mode>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--scale':
        o.only = ['e'];
        o.objects.set('e', SCALE_OBJECTS);
        o.reps = 1;
        break;
      case '--only': {
        const ids = value().split(',').filter(Boolean);
        for (const id of ids) if (!['a', 'b', 'c', 'd', 'e'].includes(id)) usage(`unknown workload ${id}`);
        o.only = ids as WorkloadId[];
        break;
      }
      case '--formats': {
        const list = value().split(',').filter(Boolean);
        for (const f of list) if (f !== 'fsm' && f !== 'jsonl') usage(`unknown format ${f}`);
        o.formats = list as InputFormat[];
        break;
      }
      case '--reps':
        o.reps = Number(value());
        if (!Number.isInteger(o.reps) || o.reps < 1) usage('--reps must be a positive integer');
        break;
      case '--budget': {
        const v = value();
        o.budget = v === 'none' ? Infinity : Number(v);
        if (!(o.budget > 0)) usage('--budget must be a positive number of seconds, or none');
        break;
      }
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
      case '--objects':
        for (const kv of value().split(',')) {
          const m = /^([abcde])=(\d+)$/.exec(kv);
          if (!m || Number(m[2]) < 1) usage('--objects wants ID=N[,ID=N], e.g. c=20000');
          o.objects.set(m[1] as WorkloadId, Number(m[2]));
        }
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
      case '--warm-up':
        o.warmUp = true;
        break;
      case '--baseline':
        o.baseline = path.resolve(value(), 'dist', 'bench', 'cli-child.js');
        if (!existsSync(o.baseline)) usage(`${o.baseline} is missing: build that tree first`);
        break;
      case '--commands': {
        const list = value().split(',').filter(Boolean);
        for (const c of list) if (c !== 'decode' && c !== 'encode' && c !== 'verify' && c !== 's3') usage(`unknown command ${c}`);
        o.commands = list as Command[];
        break;
      }
      case '-h':
      case '--help':
        usage();
        break;
      default:
        usage(`unknown option ${a}`);
    }
  }
  if (modes.size > 0) o.modes = (['verify', 'no-verify'] as Mode[]).filter((m) => modes.has(m));
  const repsGiven = o.reps > 0;
  if (!repsGiven) o.reps = o.quick ? 1 : 3;
  if (o.budget === undefined && !repsGiven) o.budget = o.quick ? 60 : 300;
  return o;
}

/**
 * The rows of a workload and format: by default with and without
 * verification, each a target of issue 14 (JSON lines' too, since the
 * least Node pipeline on them became a row of its own). Many small files:
 * verification on only, since file creation bounds them either way and
 * each run leaves 200 000 files to delete (~14 s here, see RM_S_PER_FILE).
 */
function modesFor(o: Options, w: WorkloadSpec): Mode[] {
  if (o.modes) return o.modes;
  if (o.allModes || w.objects < MANY_FILES) return ['verify', 'no-verify'];
  return ['verify'];
}

/** Workloads whose native input is also decoded through a pipe (a row "fsm via pipe"). */
const PIPE_WORKLOADS = new Set(['d']);

/** The rows of a workload and format: modesFor's, each twice with --baseline (this build, then the other); and a piped one, verification on. */
function rowsFor(o: Options, f: InputFormat, w: WorkloadSpec): Row[] {
  const piped = f === 'fsm' && PIPE_WORKLOADS.has(w.id) && modesFor(o, w).includes('verify') ? rowsOf(o, ['verify']).map((r) => ({ ...r, pipe: true })) : [];
  return [...rowsOf(o, modesFor(o, w)), ...piped];
}

/**
 * Whether a group decodes its workload's one input to a directory: what the
 * Node pipeline floors (bench/pipeline-floor.ts, bench/small-files-floor.ts)
 * read and write too, so its rows are compared with them. Split and tar
 * groups are not.
 */
function hasPipelineFloor(g: { tar?: boolean; split?: number }): boolean {
  return !g.tar && !g.split;
}

/** A row's input column and log name: its group's, "via pipe" when piped. */
function inputLabel(g: { label: string }, row: Row): string {
  return row.pipe ? `${g.label} via pipe` : g.label;
}

/** A row per mode, each twice with --baseline. */
function rowsOf(o: Options, modes: readonly Mode[]): Row[] {
  return modes.flatMap((mode): Row[] => [{ mode, runs: [], extra: 0 }, ...(o.baseline ? [{ mode, child: o.baseline, runs: [], extra: 0 }] : [])]);
}

// ------------------------------------------------------------------ formatting

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
  const repo = path.join(here, '..', '..');
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: repo, encoding: 'utf8' });
  const commit = git.status === 0 ? `${git.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted changes in lib/' : ''}` : 'unknown';
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
    `Temp: ${tmp} (${fsType}); peak RSS via ${existsSync(TIME) ? `${TIME} -f %M` : '/proc/<pid>/status VmHWM'}; writes via /proc/<pid>/io`,
    `Free page reporting: ${pageReporting()}`,
  ];
}

/**
 * Whether the guest hands freed memory back to the host (virtio-balloon free
 * page reporting), after which each page costs a host fault when touched
 * again: it decides how much system time writing the page cache costs on
 * this VM (docs/PERFORMANCE.md, "The machine").
 */
function pageReporting(): string {
  try {
    const order = Number(readFileSync('/sys/module/page_reporting/parameters/page_reporting_order', 'latin1').trim());
    // /proc/buddyinfo has a column per order: a reporting order above the largest never finds a free block to report.
    const largest = readFileSync('/proc/buddyinfo', 'latin1').split('\n')[0]!.trim().split(/\s+/).length - 5;
    return order > largest ? `off (page_reporting_order ${order} > the largest order ${largest})` : `on (blocks of order ${order} and up)`;
  } catch {
    return 'not present';
  }
}

/** Busy CPU seconds of the whole machine so far (/proc/stat), or undefined. */
function machineBusyS(): number | undefined {
  try {
    const f = readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return busy / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ CLI runs

interface RunResult {
  wallS: number;
  peakRssKiB: number;
  cpuS: number;
  userS: number;
  sysS: number;
  /** CPU cores kept busy by everything else on the machine during the run (kernel writeback included). */
  otherCores: number | undefined;
  io: Record<string, number>;
  objects: number;
  bodyBytes: number;
  files: number;
  /** Wall seconds of the run plus removing its output: what a repetition costs. */
  costS: number;
}

function runCli(inputs: string[], outDir: string, mode: Mode, statsPath: string, nodeArgs: string[] = [], child = CHILD, pipe = false): Promise<Omit<RunResult, 'costS'>> {
  const timePath = `${statsPath}.time`;
  const input = inputs[0]!;
  const cliArgs = [...nodeArgs, child, ...(pipe ? ['-'] : inputs), ...(outDir === '' ? [] : ['-o', outDir]), '--log-format', 'json', ...(mode === 'no-verify' ? ['--no-verify'] : [])];
  const useTime = existsSync(TIME);
  const [cmd, args] = useTime ? [TIME, ['-f', '%M', '-o', timePath, process.execPath, ...cliArgs]] : [process.execPath, cliArgs];
  return new Promise((resolve, reject) => {
    const busy0 = machineBusyS();
    const t0 = process.hrtime.bigint();
    // Piped by the shell, as a user runs it: a pipe (Node's own stdio pipes are socket pairs). cat's CPU counts as other load.
    const [exe, argv] = pipe ? ['/bin/sh', ['-c', 'cat -- "$0" | exec "$@"', input, cmd, ...args]] : [cmd, args];
    const child = spawn(exe, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, EKV_BENCH_STATS: statsPath } });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const busy1 = machineBusyS();
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
      const cpuS = (stats.userCpuUs + stats.systemCpuUs) / 1e6;
      resolve({
        wallS,
        peakRssKiB: peak,
        cpuS,
        userS: stats.userCpuUs / 1e6,
        sysS: stats.systemCpuUs / 1e6,
        otherCores: busy0 !== undefined && busy1 !== undefined ? Math.max(0, (busy1 - busy0 - cpuS) / wallS) : undefined,
        io: stats.io,
        objects: summary.objects,
        bodyBytes: summary.bodyBytes,
        files: summary.files,
      });
    });
  });
}

// ------------------------------------------------------------------ plan

interface Row {
  mode: Mode;
  /** The CLI child of another build (--baseline): a "before" row. */
  child?: string;
  runs: RunResult[];
  /** Repetitions granted in pass 2. */
  extra: number;
  error?: string;
  /** Not run: predicted not to fit the budget. */
  skipped?: boolean;
  /** The input piped to stdin by `cat` (`cat IN | ekv-s3-decode -`), as most users run it, instead of named. */
  pipe?: boolean;
}

/** One workload in one input format: one input file, one row per mode. */
interface Group {
  w: WorkloadSpec;
  f: InputFormat;
  path: string;
  rows: Row[];
  input?: GeneratedInput;
  /** The input column: the format, or "fsm-4groups" for a workload split over Raft groups. */
  label: string;
  /** Decoded to a tar on stdout (TAR_WORKLOADS) instead of -o DIR. */
  tar?: boolean;
  /** Split over this many groups (SPEC §10): one input per group, from writeWorkloadGroups. */
  split?: number;
  /** The split inputs, once generated. */
  inputs?: string[];
  /** Seconds to generate the input (with fsync). */
  genS: number;
}

interface WorkloadResult {
  w: WorkloadSpec;
  floor?: FloorResult;
  files?: FilesFloor;
  /** bench/pipeline-floor.ts per input format and mode (large-object workloads); bench/small-files-floor.ts for (c), native. */
  pipeline?: Partial<Record<InputFormat, Partial<Record<Mode, PipelineRun[]>>>>;
}

function freeBytes(dir: string): number {
  const st = statfsSync(dir);
  return st.bavail * st.bsize;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const workloads = (o.quick ? quickWorkloads() : fullWorkloads())
    .filter((w) => o.only.includes(w.id))
    .map((w) => (o.objects.has(w.id) ? resize(w, o.objects.get(w.id)!) : w));
  if (!existsSync(CHILD)) throw new Error(`${CHILD} is missing: build first (npx tsc -p tsconfig.json)`);

  // Free space: the largest input, plus the larger of the floor copy and
  // the output (body bytes, sidecars) with a possible scratch spill of the
  // same size. Inputs are deleted after use (unless --keep).
  let need = 0;
  let keepNeed = 0;
  for (const w of workloads) {
    const input = Math.max(...o.formats.map((f) => estimateInputBytes(w, f)));
    need = Math.max(need, input + 2 * bodyBytes(w) + 256 * MiB);
    keepNeed += o.formats.reduce((s, f) => s + estimateInputBytes(w, f) + modesFor(o, w).length * 1.1 * bodyBytes(w), 0); // + one output per row
  }
  if (o.keep) need = Math.max(need, keepNeed + 2 * GiB);
  mkdirSync(o.tmp, { recursive: true });
  const free = freeBytes(o.tmp);
  if (free < need) throw new Error(`not enough free space in ${o.tmp}: need ~${human(need)}, have ${human(free)} (use --tmp DIR or --only)`);

  const root = mkdtempSync(path.join(o.tmp, 'ekv-bench-'));
  // Outputs with many files are deleted only at the end. ext4 without a
  // journal (this VM's root filesystem) will not reuse an inode deleted in
  // the last 60 s (5 min while its inode table block is dirty) and checks
  // every such candidate when allocating one (fs/ext4/ialloc.c,
  // recently_deleted): creating files right after deleting 200 000 took
  // 0.3-0.7 ms each, and made each run of workload (c) slower than the last.
  const deferred: string[] = [];
  const cleanup = (): void => {
    deletePending();
    if (o.keep) return;
    for (const d of deferred) rmSync(d, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  };
  let deferredFiles = 0;
  /**
   * PAGE_STATE: the last run's output (or the floor's copy), deleted right
   * before the next run starts, so every run writes into page cache freed
   * a moment ago. This VM hands freed guest memory back to the host within
   * seconds (free page reporting) and each page of it then costs a host
   * fault on first touch: deleted right after a run, the next run's system
   * time depended on how long the floors or the report took in between
   * (0.6 s or 1.7 s per GiB for the same build and row).
   */
  let pending: string | undefined;
  const deletePending = (): void => {
    if (pending) rmSync(pending, { recursive: true, force: true });
    pending = undefined;
  };
  const removeOutput = (w: WorkloadSpec, out: string): void => {
    if (manyFiles(w)) {
      deferred.push(out);
      deferredFiles += 2 * w.objects;
    } else {
      deletePending();
      pending = out;
    }
  };
  /** Predicted seconds to delete what a run of w leaves for the end (body + sidecar per object). */
  const deletionS = (w: WorkloadSpec): number => (manyFiles(w) ? 2 * w.objects * RM_S_PER_FILE : 0);
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  const started = Date.now();
  const elapsed = (): number => (Date.now() - started) / 1000;
  const header = [
    `# ekv-s3-decode benchmark (${o.quick ? 'quick' : 'full'}; ${new Date().toISOString()})`,
    '',
    ...machine(o.tmp).map((l) => `- ${l}`),
    `- Workloads: ${workloads.map((w) => `(${w.id}) ${w.title}`).join('; ')}`,
    o.commands.includes('decode')
      ? `- Rows: ${workloads.map((w) => `(${w.id}) ${o.formats.map((f) => `${f} [verify ${modesFor(o, w).map((m) => (m === 'verify' ? 'on' : 'off')).join(', ')}]`).join(', ')}`).join('; ')}`
      : `- Rows: ${o.commands.join(', ')} on a dump decoded from the native input of each workload`,
    `- Runs per row: up to ${o.reps}${o.budget !== undefined && Number.isFinite(o.budget) ? `, within a ${o.budget} s budget (pass 1: each row once unless predicted not to fit; pass 2: more runs, cheapest rows first, while they fit)` : ''}; floor: ${o.reps} rep${o.reps === 1 ? '' : 's'}`,
    `- Free space in temp: ${human(free)} (need ~${human(need)})`,
  ];
  log(header.join('\n'));
  const load0 = os.loadavg();
  if (o.warmUp) {
    const warmS = warmPageCache(root, need);
    header.push(`- Warm-up: wrote and deleted ${human(need)} of page cache first (${warmS.toFixed(1)} s)`);
    log(header[header.length - 1]!);
  }

  const restoreCommands = o.commands.filter((c): c is RestoreCommand => c === 'encode' || c === 'verify');
  const restoreReport = async (): Promise<string[]> => [
    ...(restoreCommands.length === 0 ? [] : await benchRestore({ workloads, commands: restoreCommands, root, reps: o.reps, fsync: o.fsync, log, ...(o.baseline ? { baseline: o.baseline } : {}) })),
    ...(o.commands.includes('s3') ? await benchS3({ workloads, objectsGiven: o.objects.has('c'), root, reps: o.reps, fsync: o.fsync, log }) : []),
  ];
  if (!o.commands.includes('decode')) {
    try {
      console.log([...header, '', ...(await restoreReport()), `Total bench time: ${elapsed().toFixed(0)} s`].join('\n'));
    } finally {
      cleanup();
    }
    return;
  }

  const groups: Group[] = [];
  // Many-small-object workloads last: their cost is the least predictable.
  const order = [...workloads].sort((x, y) => Number(x.objects >= MANY_FILES) - Number(y.objects >= MANY_FILES));
  for (const w of order) {
    for (const f of o.formats) {
      if (TAR_WORKLOADS.has(w.id)) {
        // Verification on only (with --baseline, the other build's too).
        if (f === 'fsm') groups.push({ w, f, label: 'fsm-tar', tar: true, path: path.join(root, `${w.id}.${f}`), rows: rowsOf(o, ['verify']), genS: 0 });
        continue;
      }
      groups.push({ w, f, label: f, path: path.join(root, `${w.id}.${f}`), rows: rowsFor(o, f, w), genS: 0 });
    }
    // (a) again, split over Raft groups: N inputs of the same bytes must decode as fast, in as little memory.
    if (w.id === 'a' && o.formats.includes('fsm')) {
      const label = `fsm-${SPLIT_GROUPS}groups`;
      groups.push({ w, f: 'fsm', label, split: SPLIT_GROUPS, path: path.join(root, `${w.id}-${label}`), rows: rowsFor(o, 'fsm', w), genS: 0 });
    }
  }
  const results: WorkloadResult[] = workloads.map((w) => ({ w }));
  const profiles: Array<{ label: string; top: SelfTimes }> = [];
  const statsPath = path.join(root, 'stats.json');
  let restoreLines: string[] = [];

  const ensureInput = (g: Group): GeneratedInput => {
    if (g.input && existsSync(g.path)) return g.input;
    log(`[${g.w.id} ${g.label}] generating ${g.w.title} …`);
    const t0 = Date.now();
    let gen: GeneratedInput;
    if (g.split) {
      const split = writeWorkloadGroups(g.w, g.path, g.split, o.fsync);
      g.inputs = split.inputs;
      gen = split;
    } else {
      gen = writeWorkload(g.w, g.f, g.path, o.fsync);
    }
    g.genS = (Date.now() - t0) / 1000;
    if (!g.input) {
      log(
        `[${g.w.id} ${g.label}] ${human(gen.inputBytes)} input, ${gen.records} records, ${human(gen.bodyBytes)} body: ` +
          `${gen.seconds.toFixed(1)} s${o.fsync ? ` (${g.genS.toFixed(1)} s with fsync)` : ''}`,
      );
    }
    g.input = gen;
    return gen;
  };
  const dropInput = (g: Group): void => {
    if (!o.keep) rmSync(g.path, { force: true, recursive: true });
  };

  const runRow = async (g: Group, row: Row, rep: number): Promise<void> => {
    if (row.error) return;
    const gen = g.input!;
    const out = path.join(root, `out-${g.w.id}-${g.label}-${row.mode}${row.pipe ? '-pipe' : ''}${row.child ? '-before' : ''}-${rep}`);
    const t0 = Date.now();
    try {
      deletePending();
      const r = await runCli(g.inputs ?? [g.path], g.tar ? '' : out, row.mode, statsPath, [], row.child, row.pipe);
      if (r.bodyBytes !== gen.bodyBytes || r.objects !== g.w.objects) {
        throw new Error(`CLI wrote ${r.objects} objects / ${r.bodyBytes} body bytes, expected ${g.w.objects} / ${gen.bodyBytes}`);
      }
      if (!o.keep || rep > 1) removeOutput(g.w, out);
      row.runs.push({ ...r, costS: (Date.now() - t0) / 1000 });
      log(
        `[${g.w.id} ${inputLabel(g, row)} verify ${row.mode === 'verify' ? 'on' : 'off'} #${rep}] ${r.wallS.toFixed(2)} s, ${(gen.bodyBytes / 1e6 / r.wallS).toFixed(0)} MB/s, ` +
          `${(g.w.objects / r.wallS).toFixed(0)} obj/s, RSS ${(r.peakRssKiB / 1024).toFixed(0)} MiB, cpu ${r.cpuS.toFixed(2)} s, ` +
          `write_bytes ${human(r.io['write_bytes'] ?? 0)}, wchar ${human(r.io['wchar'] ?? 0)}, other load ${r.otherCores?.toFixed(2) ?? '?'} cores`,
      );
    } catch (e) {
      removeOutput(g.w, out);
      row.error = (e as Error).message;
      log(`[${g.w.id} ${inputLabel(g, row)} ${row.mode}] FAILED: ${row.error}`);
    }
  };

  try {
    // Pass 1: every row once; floors; profiles.
    /** Whether a row's first run fits the budget (the first row of a workload always does), and its predicted cost. */
    const predict = (g: Group, i: number): { fits: boolean; predicted: number } => {
      const first = i === 0 && !groups.some((x) => x !== g && x.w === g.w && x.rows.some((r) => r.runs.length > 0));
      if (first || o.budget === undefined) return { fits: true, predicted: 0 };
      // Predict from the rows of this workload run so far (JSONL costs more than native).
      const known = groups
        .filter((x) => x.w === g.w)
        .flatMap((x) => x.rows.flatMap((r) => r.runs.map((run) => run.costS * (g.f === 'jsonl' && x.f === 'fsm' ? 1.5 : 1))));
      const predicted = known.length ? Math.max(...known) : 0;
      return { fits: elapsed() + predicted + deletionS(g.w) + deferredFiles * RM_S_PER_FILE <= o.budget, predicted };
    };
    const skip = (g: Group, row: Row, predicted: number): void => {
      row.skipped = true;
      log(`[${g.w.id} ${inputLabel(g, row)} verify ${row.mode === 'verify' ? 'on' : 'off'}] skipped: ~${predicted.toFixed(0)} s would exceed the ${o.budget} s budget`);
    };
    for (const g of groups) {
      if (!g.rows.some((_, i) => predict(g, i).fits)) {
        for (const [i, row] of g.rows.entries()) skip(g, row, predict(g, i).predicted);
        continue;
      }
      const gen = ensureInput(g);
      const wr = results.find((r) => r.w === g.w)!;
      if (!wr.floor) {
        wr.floor = measureFloor({ bodyBytes: gen.bodyBytes, source: g.path, dir: root, reps: o.reps, seed: seedOf(g.w), keepCopy: true });
        deletePending();
        pending = wr.floor.copy;
        const fl = wr.floor;
        log(
          `[${g.w.id}] floor ${fl.floorS.toFixed(2)} s: write (${fl.writeMethod}) ${fl.writeS.toFixed(2)} s, sha256 ${fl.sha256S.toFixed(2)} s, md5 ${fl.md5S.toFixed(2)} s, md5 ×16 ${fl.md5LanesS.toFixed(2)} s`,
        );
        if (manyFiles(g.w)) {
          wr.files = filesFloor(root, Math.min(g.w.objects, FILES_FLOOR_MAX), g.w.objectSize, seedOf(g.w));
          deferred.push(wr.files.root);
          log(`[${g.w.id}] create ${wr.files.files} files of ${human(g.w.objectSize)}: ${wr.files.seconds.toFixed(2)} s`);
          if (g.f === 'fsm' && hasPipelineFloor(g) && g.rows.some((r) => r.mode === 'verify')) {
            // The least Node program writing this decode's files (once: its 2 files per object are deleted at the end, like a row's).
            const out = path.join(root, `pipeline-${g.w.id}-verify`);
            const run = smallFilesFloor(g.path, out, SMALL_FILES_FLOOR_WRITERS);
            removeOutput(g.w, out);
            wr.pipeline = { fsm: { verify: [run] } };
            log(`[${g.w.id}] Node small-files floor: ${run.wallS.toFixed(2)} s, cpu ${run.userS.toFixed(2)} + ${run.sysS.toFixed(2)} s`);
          }
        }
      }
      if (!manyFiles(g.w) && hasPipelineFloor(g) && !wr.pipeline?.[g.f]) {
        // The least Node program doing this decode's unavoidable work for this input format, run like a row (after the last output is deleted).
        const modes = [...new Set(g.rows.map((r) => r.mode))];
        const runs: Partial<Record<Mode, PipelineRun[]>> = {};
        for (let rep = 1; rep <= PIPELINE_REPS; rep++) {
          for (const mode of modes) {
            const out = path.join(root, `pipeline-${g.w.id}-${g.f}-${mode}-${rep}`);
            deletePending();
            const run = pipelineFloor(g.path, out, mode === 'verify', g.w.objects, g.f === 'jsonl' ? gen.bodyBytes : undefined);
            pending = out;
            (runs[mode] ??= []).push(run);
            log(`[${g.w.id}] Node pipeline floor, ${g.f}, verify ${mode === 'verify' ? 'on' : 'off'} #${rep}: ${run.wallS.toFixed(2)} s, cpu ${run.userS.toFixed(2)} + ${run.sysS.toFixed(2)} s`);
          }
        }
        (wr.pipeline ??= {})[g.f] = runs;
      }
      for (const [i, row] of g.rows.entries()) {
        const p = predict(g, i);
        if (p.fits) await runRow(g, row, 1);
        else skip(g, row, p.predicted);
      }
      if (o.profile) {
        const profDir = path.join(root, 'profiles');
        const name = `${g.w.id}-${g.label}.cpuprofile`;
        const out = path.join(root, `out-${g.w.id}-${g.label}-profile`);
        try {
          deletePending();
          await runCli(g.inputs ?? [g.path], out, 'verify', statsPath, ['--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-name', name]);
          profiles.push({ label: `(${g.w.id}) ${g.w.title}, ${g.label}, verify on`, top: selfTimes(path.join(profDir, name), 10) });
        } catch (e) {
          log(`[${g.w.id} ${g.label}] profile FAILED: ${(e as Error).message}`);
        }
        removeOutput(g.w, out);
      }
      dropInput(g);
    }

    // Plan pass 2: grant repetitions round by round, cheapest rows first.
    if (o.reps > 1) {
      // 5 s: report and inputs; then the deferred deletions.
      let left = o.budget === undefined ? Infinity : o.budget - elapsed() - 5 - deferredFiles * RM_S_PER_FILE;
      const regen = new Set<Group>();
      const candidates = groups.flatMap((g) => g.rows.filter((r) => !r.error && r.runs.length > 0).map((r) => ({ g, r, cost: r.runs[0]!.costS + deletionS(g.w) })));
      candidates.sort((x, y) => x.cost - y.cost);
      for (let round = 1; round < o.reps; round++) {
        for (const c of candidates) {
          const extra = c.cost + (regen.has(c.g) ? 0 : c.g.genS);
          if (extra > left) continue;
          left -= extra;
          regen.add(c.g);
          c.r.extra++;
        }
      }
      const skipped = candidates.filter((c) => c.r.extra < o.reps - 1).length;
      if (skipped > 0) log(`[plan] budget allows ${o.reps} runs for ${candidates.length - skipped} of ${candidates.length} rows; the others get fewer`);
      // Pass 2.
      for (const g of groups) {
        const most = Math.max(0, ...g.rows.map((r) => r.extra));
        if (most === 0) continue;
        ensureInput(g);
        for (let k = 1; k <= most; k++) for (const row of g.rows) if (row.extra >= k) await runRow(g, row, 1 + k);
        dropInput(g);
      }
    }
    restoreLines = await restoreReport();
  } finally {
    const t0 = Date.now();
    cleanup();
    if (deferredFiles > 0) log(`[cleanup] deleted ~${deferredFiles} files of many-file outputs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }

  // ---------------------------------------------------------------- report
  const total = elapsed();
  const load1 = os.loadavg();
  const tableRows: string[][] = [];
  for (const g of groups) {
    const body = g.input?.bodyBytes ?? bodyBytes(g.w);
    const floor = results.find((r) => r.w === g.w)?.floor;
    const files = results.find((r) => r.w === g.w)?.files;
    const pipeline = hasPipelineFloor(g) ? results.find((r) => r.w === g.w)?.pipeline?.[g.f] : undefined;
    for (const row of g.rows) {
      const inputBytes = g.input ? human(g.input.inputBytes) : `~${human(estimateInputBytes(g.w, g.f))}`;
      const label = [`(${g.w.id}) ${g.w.title}`, inputLabel(g, row), `${row.mode === 'verify' ? 'on' : 'off'}${row.child ? ', before' : ''}`, inputBytes, human(body)];
      if (row.runs.length === 0) {
        tableRows.push([...label, row.skipped ? 'skipped (budget)' : 'FAILED', '', '', '', '', '', '', '', '', '', '', '', '']);
        continue;
      }
      const rs = row.runs;
      const wall = median(rs.map((x) => x.wallS));
      const rss = Math.max(...rs.map((x) => x.peakRssKiB));
      const cpu = median(rs.map((x) => x.cpuS));
      const perGiB = (x: number): string => perGiBOf(x, body);
      const wb = median(rs.map((x) => x.io['write_bytes'] ?? 0));
      const wchar = median(rs.map((x) => x.io['wchar'] ?? 0));
      const other = rs.map((x) => x.otherCores).filter((x): x is number => x !== undefined);
      const disk = wb > 0 ? (wb / body).toFixed(2) : wchar > 0 ? `${(wchar / body).toFixed(2)}*` : 'n/a';
      tableRows.push([
        ...label,
        `${wall.toFixed(2)} (${rs.length})`,
        (body / 1e6 / wall).toFixed(0),
        objectsPerSecond(g.w, wall),
        (rss / 1024).toFixed(0),
        cpu.toFixed(2),
        `${perGiB(cpu)} (${perGiB(median(rs.map((x) => x.userS)))}+${perGiB(median(rs.map((x) => x.sysS)))})`,
        floor ? perGiB(cpu - cpuBound(floor, row.mode === 'verify')) : 'n/a',
        disk,
        wchar > 0 ? (wchar / body).toFixed(2) : 'n/a',
        floor ? `${(wall / floor.floorS).toFixed(2)}×` : 'n/a',
        pipeline?.[row.mode] ? `${(wall / median(pipeline[row.mode]!.map((x) => x.wallS))).toFixed(2)}×` : '',
        files ? `${(wall / ((2 * g.w.objects * files.seconds) / files.files)).toFixed(2)}×` : '',
        other.length ? median(other).toFixed(2) : '?',
      ]);
    }
  }
  const mainTable = table(
    ['workload', 'input', 'verify', 'input bytes', 'body bytes', 'wall s (n)', 'MB/s', 'objects/s', 'peak RSS MiB', 'CPU s', 'CPU s/GiB (user+sys)', 'CPU s/GiB over bound', 'disk wr/body', 'wchar/body', 'vs floor', 'vs Node pipeline', 'vs file floor', 'other load'],
    tableRows.sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)),
    [false, false, false, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true],
  );
  const pipelineTable = table(
    ['workload', 'input', 'verify', 'wall s (n)', 'objects/s', 'CPU s', 'CPU s/GiB (user+sys)', 'vs floor'],
    results.flatMap((r) =>
      (['fsm', 'jsonl'] as const).flatMap((f) =>
        (['verify', 'no-verify'] as const)
          .filter((m) => r.pipeline?.[f]?.[m])
          .map((m) => {
            const runs = r.pipeline![f]![m]!;
            const body = r.floor?.bodyBytes ?? bodyBytes(r.w);
            const wall = median(runs.map((x) => x.wallS));
            const perGiB = (x: number): string => perGiBOf(x, body);
            const user = median(runs.map((x) => x.userS));
            const sys = median(runs.map((x) => x.sysS));
            return [
              `(${r.w.id}) ${r.w.title}`,
              f,
              m === 'verify' ? 'on' : 'off',
              `${wall.toFixed(2)} (${runs.length})`,
              objectsPerSecond(r.w, wall),
              median(runs.map((x) => x.userS + x.sysS)).toFixed(2),
              `${perGiB(user + sys)} (${perGiB(user)}+${perGiB(sys)})`,
              r.floor ? `${(wall / r.floor.floorS).toFixed(2)}×` : 'n/a',
            ];
          }),
      ),
    ),
    [false, false, false, true, true, true, true, true],
  );
  const floorTable = table(
    ['workload', 'body bytes', 'write s', 'write MB/s', 'write CPU s', 'write direct s (CPU s, info)', 'sha256 s', 'sha256 MB/s', 'floor s', 'md5 s (info)', 'md5 MB/s', 'md5 ×16 s (info)', 'create files (info)'],
    results
      .filter((r) => r.floor)
      .map((r) => {
        const f = r.floor!;
        const mb = f.bodyBytes / 1e6;
        return [
          `(${r.w.id}) ${r.w.title}`,
          human(f.bodyBytes),
          `${f.writeS.toFixed(2)} (${f.writeMethod})`,
          (mb / f.writeS).toFixed(0),
          f.writeCpuS.toFixed(2),
          f.writeDirect ? `${f.writeDirect.s.toFixed(2)} (${f.writeDirect.cpuS.toFixed(2)})` : '',
          f.sha256S.toFixed(2),
          (mb / f.sha256S).toFixed(0),
          f.floorS.toFixed(2),
          f.md5S.toFixed(2),
          (mb / f.md5S).toFixed(0),
          f.md5LanesS.toFixed(2),
          r.files ? `${r.files.files} × ${human(r.files.size)}: ${r.files.seconds.toFixed(2)} s = ${(r.files.files / r.files.seconds).toFixed(0)}/s` : '',
        ];
      }),
    [false, true, true, true, true, true, true, true, true, true, true, true, false],
  );
  const genTable = table(
    ['workload', 'input', 'records', 'input bytes', 'generate s'],
    [...groups].sort((x, y) => (x.w.id < y.w.id ? -1 : x.w.id > y.w.id ? 1 : 0)).filter((g) => g.input).map((g) => [`(${g.w.id}) ${g.w.title}`, g.f, String(g.input!.records), String(g.input!.inputBytes), g.input!.seconds.toFixed(1)]),
    [false, false, true, true, true],
  );

  const out: string[] = [
    ...header,
    `- Load average (1/5/15 min): ${load0.map((x) => x.toFixed(2)).join(' ')} at start, ${load1.map((x) => x.toFixed(2)).join(' ')} at end`,
    '',
    '## Decode runs (directory mode, -o)',
    '',
    mainTable,
    '',
    'wall s: median of n runs, process spawn to exit (includes Node start-up, ~0.05 s). MB/s: body bytes (10^6) per wall second.',
    'peak RSS: maximum over the runs. CPU s: user + system of the CLI, median; per GiB of body bytes (medians of user and system). disk wr/body: write_bytes of /proc/<pid>/io',
    '(bytes the CLI dirtied in the page cache, whole 4 KiB pages, before any cancellation) per body byte; `*` = write_bytes was',
    '0 (tmpfs/overlay), wchar shown instead. wchar/body: bytes passed to write() (bodies, sidecars, CHECKSUMS, any scratch',
    'spill, stderr) per body byte. vs floor: median wall / floor s of the workload (below). vs file floor: median wall /',
    'the time the "create files" line below implies for 2 files (body + sidecar) per object. other load: CPU cores the rest',
    'of the machine kept busy during the run (/proc/stat minus the CLI; includes kernel writeback), median — above ~0.2 the',
    'numbers are disturbed by other processes. CPU s/GiB over bound: CPU s/GiB minus the CPU the unavoidable work took in',
    "the floor measurements of the same run (the kernel's copy: write CPU s of the floor table; SHA-256; with verification",
    'MD5), per GiB: what this tool spends beyond hashing and the page-cache copy (a VM that must back fresh page-cache pages',
    'again after a deletion raises both the system time and the bound by the same amount).',
    'fsm via pipe: the same input piped to the CLI\'s stdin by `cat` (`cat IN | ekv-s3-decode - -o DIR`), as it is most often run;',
    "cat's own CPU counts as other load.",
    '',
    '## Floor (same run, same filesystem, same byte count)',
    '',
    floorTable,
    '',
    'write: `dd if=INPUT of=TMP/floor.bin bs=1M count=<body bytes> iflag=count_bytes` (page cache, no fsync), median;',
    "write CPU s: dd's user + system time (/proc/self/stat cutime + cstime around it), median: the kernel's copy of the bytes.",
    'write direct s: the same dd with oflag=direct, once (the decoder writes a directory\'s large objects past the page cache: lib/io/direct-writer.ts).',
    'sha256: node:crypto SHA-256 of the body bytes on one core, 1 MiB updates, median. floor = max(write, sha256).',
    'md5 (info, one run): the extra per-byte work of verification, one stream. md5 ×16 (info, one run): the same bytes as 16 streams',
    'hashed side by side (bench/md5-lanes.ts, WebAssembly SIMD): what MD5s of many objects or parts could cost.',
    `create files (info): synchronous open/write/close of up to ${FILES_FLOOR_MAX} files`,
    'of the object size, 1000 per directory (the CLI writes two files per object: body and sidecar).',
    '',
    '## Node pipeline floor (same run)',
    '',
    pipelineTable,
    '',
    '`node dist/bench/pipeline-floor.js INPUT OUT --objects N [--md5] [--jsonl BODY_BYTES]` (bench/pipeline-floor.ts): the least a Node program must do',
    'for the decode, and nothing of this tool: the input read in 4 MiB pieces into reused shared memory, CRC-32C on the main',
    'thread, SHA-256 (and with verification MD5) on worker threads (one stream each for one object; with several, SHA-256 on one',
    "worker and each object's MD5 on the other, from its file once written, side by side as the decoder does:",
    'lib/stages/md5-files-queue.ts), every byte written to one file per object (1 MiB pieces, lib/io/serial-writer.ts), all overlapped. Run',
    `like a row (the last output deleted just before), ${PIPELINE_REPS} runs per mode, alternating; wall s from spawn to exit.`,
    'On JSON lines (`--jsonl BODY_BYTES`): the input read in 4 MiB pieces into one reused buffer, its lines found, each blob line\'s value',
    "decoded from base64 (the decoder's strict decoder, lib/core/base64.ts) into the shared memory, the other lines skipped; no CRC-32C.",
    `For many small objects (c): \`node dist/bench/small-files-floor.js INPUT OUT --writers ${SMALL_FILES_FLOOR_WRITERS} --two-phase\` (bench/small-files-floor.ts),`,
    "once, before the rows: the input read and CRC-32C'd on the main thread, its entries cut out, each blob's value MD5'd; then, as",
    'a decode must (SPEC §5.8: every key known before the first file), only after the last entry, the values read back from the input',
    "and each blob's SHA-256'd and written as a body file with a modification time, each manifest's written as a sidecar and",
    "SHA-256'd, 1000 objects per directory, through the decoder's small-file writer (batches to worker threads, a directory's to",
    'one), then a CHECKSUMS list: no records, sorting, naming, rendering or ETag checks. It runs first, so the rows find more files on the file system than it did',
    '(outputs are deleted at the end): where that slows creation, the ratio overstates the gap.',
    "vs Node pipeline (table above): a row's wall / this wall for the same workload, input format and verify mode (not the split rows).",
    '',
    '## Inputs',
    '',
    genTable,
    '',
  ];
  out.push(...restoreLines);
  for (const p of profiles) out.push(`## Profile: ${p.label} — top 10 self time`, '', formatSelfTimes(p.top), '');
  const failed = groups.flatMap((g) => g.rows.filter((r) => r.error).map((r) => `FAILED (${g.w.id} ${g.label} ${r.mode}): ${r.error}`));
  out.push(...failed);
  out.push(`Total bench time: ${total.toFixed(0)} s`);
  console.log(out.join('\n'));

  if (o.json) {
    const data = {
      header,
      options: { ...o, objects: Object.fromEntries(o.objects) },
      elapsedS: total,
      floors: results.map((r) => ({ workload: r.w, floor: r.floor, files: r.files, pipeline: r.pipeline })),
      rows: groups.flatMap((g) => g.rows.map((r) => ({ workload: g.w, format: g.f, input: g.input, mode: r.mode, runs: r.runs, error: r.error }))),
      profiles,
    };
    writeFileSync(o.json, JSON.stringify(data, null, 2));
  }
  if (failed.length > 0) process.exitCode = 1;
}

main().catch((e: unknown) => {
  // A system error (a path, a disk) is the operator's to fix: its message says what; anything else is a bug, with its stack.
  const err = e as NodeJS.ErrnoException;
  console.error(`bench: ${err.code && err.syscall ? err.message : (err.stack ?? String(e))}`);
  process.exit(1);
});
