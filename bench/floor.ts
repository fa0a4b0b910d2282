/**
 * The "floor" a decode run is compared with, measured in the same run, on
 * the same machine and filesystem, for the same number N of body bytes:
 *
 *   write  — copy N bytes of the generated input file to a new file in the
 *            same temp directory: `dd if=INPUT of=TMP/floor.bin bs=1M
 *            count=N iflag=count_bytes` (no fsync: the CLI does not fsync
 *            either, so both land in the page cache). The input was just
 *            written, so its read is a page-cache read, as for the CLI.
 *            Without dd, the same copy is done in-process with 1 MiB
 *            readSync/writeSync.
 *   sha256 — SHA-256 of N bytes on one core, in-process (node:crypto), fed
 *            in 1 MiB pieces of the workload's own body bytes.
 *
 * floor = max(write, sha256): the time the slower of the two unavoidable
 * jobs takes on its own. MD5 of the same bytes is measured too, for
 * information only (with verification on, the CLI also computes MD5 of
 * every body byte).
 *
 * For workloads with many small objects the byte floor says nothing about
 * per-file cost, so `filesFloor` also times creating one file per object
 * (same size, 1000 per directory, open/write/close, synchronous).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Md5Lanes } from '../lib/core/md5-lanes.js';
import { cyclicStreams } from './md5-lanes.js';
import { ByteSource } from './workloads.js';

const MiB = 1024 * 1024;

export interface FloorResult {
  bodyBytes: number;
  reps: number;
  writeMethod: 'dd' | 'node';
  /** Median seconds. */
  writeS: number;
  /** CPU seconds (user + system) of the copy, median: the kernel's page-cache read and write of N bytes, at this moment of the VM. */
  writeCpuS: number;
  /**
   * The same copy with `dd oflag=direct`, once, information only: the write
   * path of a decode to a directory (lib/io/direct-writer.ts), which skips
   * the page cache. undefined without dd.
   */
  writeDirect?: { s: number; cpuS: number };
  sha256S: number;
  md5S: number;
  /**
   * The same bytes cut into 16 streams whose MD5s are computed side by side
   * (bench/md5-lanes.ts, WebAssembly SIMD), one run: what the MD5s of many
   * objects or parts cost when they are not each hashed as one stream.
   */
  md5LanesS: number;
  /** max(writeS, sha256S). */
  floorS: number;
  /** The copy's path (still there with keepCopy). */
  copy: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

let ddAvailable: boolean | undefined;
function haveDd(): boolean {
  if (ddAvailable === undefined) {
    const r = spawnSync('dd', ['--version'], { stdio: 'ignore' });
    ddAvailable = r.status === 0;
  }
  return ddAvailable;
}

/** CPU seconds (user + system) of this process's waited-for children so far (/proc/self/stat cutime + cstime). */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 (cutime, cstime) of proc(5), counted from field 3 (state), in clock ticks.
  return (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
}
/** sysconf(_SC_CLK_TCK): 100 on Linux x86-64 and arm64. */
const CLOCK_TICKS = 100;

/** Copies the first n bytes of source to dest; returns wall seconds and the copy's CPU seconds. */
function copyBytes(source: string, dest: string, n: number, direct = false): { s: number; cpuS: number; method: 'dd' | 'node' } {
  if (haveDd()) {
    let status: number | null = null;
    let stderr = '';
    const cpu0 = childrenCpuS();
    const s = seconds(() => {
      const args = [`if=${source}`, `of=${dest}`, 'bs=1M', `count=${n}`, 'iflag=count_bytes', 'status=none', ...(direct ? ['oflag=direct'] : [])];
      const r = spawnSync('dd', args, { encoding: 'latin1' });
      status = r.status;
      stderr = r.stderr;
    });
    if (status !== 0) throw new Error(`dd failed (${status}): ${stderr}`);
    return { s, cpuS: childrenCpuS() - cpu0, method: 'dd' };
  }
  const buf = Buffer.allocUnsafe(MiB);
  const cpu0 = process.cpuUsage();
  const s = seconds(() => {
    const inFd = openSync(source, 'r');
    const outFd = openSync(dest, 'wx', 0o600);
    let done = 0;
    while (done < n) {
      const got = readSync(inFd, buf, 0, Math.min(MiB, n - done), done);
      if (got === 0) throw new Error(`${source} is shorter than ${n} bytes`);
      let off = 0;
      while (off < got) off += writeSync(outFd, buf, off, got - off);
      done += got;
    }
    closeSync(inFd);
    closeSync(outFd);
  });
  const cpu = process.cpuUsage(cpu0);
  return { s, cpuS: (cpu.user + cpu.system) / 1e6, method: 'node' };
}

/** 16 MiB of the workload's body bytes, to hash cyclically. */
function sample(seed: string): Buffer {
  const src = new ByteSource(seed);
  const pieces: Buffer[] = [];
  for (let i = 0; i < 16; i++) pieces.push(Buffer.from(src.next(MiB)));
  return Buffer.concat(pieces);
}

function hashSeconds(algo: 'sha256' | 'md5', data: Buffer, n: number): number {
  return seconds(() => {
    const h = createHash(algo);
    let done = 0;
    while (done < n) {
      const off = done % data.length;
      const len = Math.min(MiB, n - done, data.length - off);
      h.update(data.subarray(off, off + len));
      done += len;
    }
    h.digest();
  });
}

export interface FloorOptions {
  bodyBytes: number;
  /** A file of at least bodyBytes bytes (the generated input), in the page cache. */
  source: string;
  /** Directory on the filesystem the CLI writes to. */
  dir: string;
  reps: number;
  /** Seed of the workload's ByteSource. */
  seed: string;
  /** Leave the last copy (`copy` of the result) for the caller to delete right before its next run. */
  keepCopy?: boolean;
}

export function measureFloor(o: FloorOptions): FloorResult {
  const dest = path.join(o.dir, 'floor.bin');
  const data = sample(o.seed);
  hashSeconds('sha256', data, 64 * MiB); // warm-up
  hashSeconds('md5', data, 16 * MiB);
  const writes: number[] = [];
  const writeCpus: number[] = [];
  const shas: number[] = [];
  const md5s: number[] = [];
  let method: 'dd' | 'node' = 'dd';
  // Each measured copy writes into the page cache the copy before it freed a moment ago, as each
  // decode run does (see PAGE_STATE in run.ts): an unmeasured copy first, then delete-and-copy.
  if (existsSync(dest)) unlinkSync(dest);
  copyBytes(o.source, dest, o.bodyBytes);
  for (let r = 0; r < o.reps; r++) {
    unlinkSync(dest);
    const c = copyBytes(o.source, dest, o.bodyBytes);
    method = c.method;
    writes.push(c.s);
    writeCpus.push(c.cpuS);
  }
  let writeDirect: { s: number; cpuS: number } | undefined;
  if (method === 'dd') {
    const direct = `${dest}.direct`;
    const c = copyBytes(o.source, direct, o.bodyBytes, true);
    unlinkSync(direct);
    writeDirect = { s: c.s, cpuS: c.cpuS };
  }
  if (!o.keepCopy) unlinkSync(dest);
  for (let r = 0; r < o.reps; r++) shas.push(hashSeconds('sha256', data, o.bodyBytes));
  md5s.push(hashSeconds('md5', data, o.bodyBytes)); // information only: once
  const lanes = new Md5Lanes(4);
  lanes.hash(cyclicStreams(data, 16 * MiB, lanes.lanes)); // warm-up
  const md5LanesS = seconds(() => lanes.hash(cyclicStreams(data, o.bodyBytes, lanes.lanes)));
  const writeS = median(writes);
  const sha256S = median(shas);
  return { bodyBytes: o.bodyBytes, reps: o.reps, writeMethod: method, writeS, writeCpuS: median(writeCpus), ...(writeDirect ? { writeDirect } : {}), sha256S, md5S: median(md5s), md5LanesS, floorS: Math.max(writeS, sha256S), copy: dest };
}

/** One run of bench/pipeline-floor.ts: the least Node program doing the unavoidable work of a native decode. */
export interface PipelineRun {
  /** Spawn to exit, like a CLI row's wall s. */
  wallS: number;
  userS: number;
  sysS: number;
}

/**
 * Runs bench/pipeline-floor.ts on input once: every byte read, CRC-32C'd,
 * SHA-256'd (and MD5'd with md5) and written to outDir (which must not
 * exist; left for the caller to delete), cut into `objects` objects. With
 * jsonlBodyBytes the input is JSON lines whose blob values (that many
 * bytes) are decoded and cut instead, with no CRC-32C.
 */
export function pipelineFloor(input: string, outDir: string, md5: boolean, objects: number, jsonlBodyBytes?: number): PipelineRun {
  return runFloorScript('pipeline-floor.js', [input, outDir, '--objects', String(objects), ...(md5 ? ['--md5'] : []), ...(jsonlBodyBytes !== undefined ? ['--jsonl', String(jsonlBodyBytes)] : [])]);
}

/**
 * Runs bench/small-files-floor.ts on a native input of many small objects
 * once, in two phases (no file before the last entry is read, as a decode
 * must): each blob's value hashed and written as a body file, each
 * manifest's as a sidecar, into outDir (which must not exist; left for the
 * caller to delete), by `writers` file-writer threads.
 */
export function smallFilesFloor(input: string, outDir: string, writers: number): PipelineRun {
  return runFloorScript('small-files-floor.js', [input, outDir, '--writers', String(writers), '--two-phase']);
}

/** Spawns one of the floor scripts beside this file; its JSON line gives its CPU seconds. */
function runFloorScript(script: string, args: string[]): PipelineRun {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), script);
  let r: ReturnType<typeof spawnSync> | undefined;
  const wallS = seconds(() => {
    r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8' });
  });
  if (r!.status !== 0) throw new Error(`${script} failed (${r!.status}): ${String(r!.stderr).trim()}`);
  const out = JSON.parse(String(r!.stdout)) as { userS: number; systemS: number };
  return { wallS, userS: out.userS, sysS: out.systemS };
}

export interface FilesFloor {
  files: number;
  size: number;
  seconds: number;
  /** Where the files are: the caller removes them (deleting many files slows creating the next ones, see run.ts). */
  root: string;
}

/** Creates `files` files of `size` bytes under dir (1000 per subdirectory), synchronously. */
export function filesFloor(dir: string, files: number, size: number, seed: string): FilesFloor {
  const root = path.join(dir, 'floor-files');
  const src = new ByteSource(seed);
  const body = Buffer.from(src.next(Math.min(size, MiB)));
  const s = seconds(() => {
    mkdirSync(root, { mode: 0o755 });
    for (let i = 0; i < files; i++) {
      const sub = path.join(root, String(Math.floor(i / 1000)).padStart(3, '0'));
      if (i % 1000 === 0) mkdirSync(sub, { mode: 0o755 });
      const fd = openSync(path.join(sub, `obj-${String(i).padStart(6, '0')}.bin`), 'wx', 0o600);
      let left = size;
      while (left > 0) left -= writeSync(fd, body, 0, Math.min(left, body.length));
      closeSync(fd);
    }
  });
  return { files, size, seconds: s, root };
}

/**
 * Writes `bytes` zero bytes to a file under dir and deletes it; returns wall
 * seconds. On some VMs (Firecracker, ballooned guests) the first touch of a
 * guest page costs a host page fault: writing 1 GiB into never-used page
 * cache took 2.7 s here, the next 1 GiB 0.18 s. Doing that once up front, for
 * as much page cache as the bench needs, keeps the first measured run from
 * paying it. Freed page-cache pages are reused for later files.
 */
export function warmPageCache(dir: string, bytes: number): number {
  const file = path.join(dir, 'warm-up.bin');
  const zero = Buffer.alloc(MiB);
  const s = seconds(() => {
    const fd = openSync(file, 'wx', 0o600);
    for (let done = 0; done < bytes; ) {
      const n = writeSync(fd, zero, 0, Math.min(MiB, bytes - done));
      done += n;
    }
    closeSync(fd);
  });
  unlinkSync(file);
  return s;
}
