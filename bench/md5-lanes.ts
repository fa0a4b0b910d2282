/**
 * MD5 of many streams at once (lib/core/md5-lanes.ts), against node:crypto's
 * MD5 of the same streams one after another: what hashing the MD5s of many
 * objects or parts would cost if they were computed side by side, read back
 * from the page cache, instead of each as one stream while it is written.
 *
 *   node dist/bench/md5-lanes.js FILE [--streams N] [--sets K]
 *
 * FILE (in the page cache) is cut into N streams of equal length (default
 * 64: workload (a)'s objects). Both ways read each stream 1 MiB at a time
 * with readSync; the lanes read into the WebAssembly memory, node:crypto
 * into one reused buffer. Prints the CPU seconds of each (this thread:
 * process.cpuUsage, nothing else runs) and checks that every digest agrees.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { md5Alone, Md5Lanes, type Md5Stream } from '../lib/core/md5-lanes.js';
import { fileRangeStream } from '../lib/io/file-range-stream.js';

const CHUNK = 1 << 20;

/**
 * `bytes` bytes cut into n streams of equal length (the last one shorter),
 * their content `data` repeated: for timing the hashing of a byte count
 * larger than the sample held in memory.
 */
export function cyclicStreams(data: Buffer, bytes: number, n: number): Md5Stream[] {
  const each = Math.ceil(bytes / n);
  return Array.from({ length: n }, (_, i) => {
    const start = Math.min(bytes, i * each);
    return {
      length: Math.min(each, bytes - start),
      read(into: Uint8Array, position: number) {
        for (let at = 0; at < into.length; ) {
          const from = (start + position + at) % data.length;
          at += data.copy(into, at, from, Math.min(data.length, from + into.length - at));
        }
      },
    };
  });
}

/** Stream i of n equal pieces of the file open at fd (the last one shorter). */
function fileStreams(fd: number, file: string, size: number, n: number): Md5Stream[] {
  const each = Math.ceil(size / n);
  return Array.from({ length: n }, (_, i) => {
    const start = Math.min(size, i * each);
    return fileRangeStream(fd, file, start, Math.min(each, size - start));
  });
}

function cpuSeconds(f: () => void): number {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1e6;
}

function main(args: string[]): void {
  const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const opt = (name: string, dflt: number) => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args[at + 1]) : dflt;
  };
  const n = opt('--streams', 64);
  const sets = opt('--sets', 4);
  if (file === undefined || !(n >= 1) || !(sets >= 1)) {
    process.stderr.write('usage: md5-lanes FILE [--streams N] [--sets K]\n');
    process.exit(2);
  }
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const streams = fileStreams(fd, file, size, n);
  const engine = new Md5Lanes(sets);
  engine.hash(fileStreams(fd, file, Math.min(size, 64 << 20), engine.lanes)); // warm-up: V8 compiles the module's function
  let lanes: Buffer[] = [];
  const lanesS = cpuSeconds(() => (lanes = engine.hash(streams)));
  const buf = Buffer.allocUnsafe(CHUNK);
  let native: Buffer[] = [];
  const nativeS = cpuSeconds(() => {
    native = streams.map((s) => md5Alone(s, buf));
  });
  closeSync(fd);
  const agree = lanes.every((d, i) => d.equals(native[i]!));
  const GiB = size / 2 ** 30;
  process.stdout.write(
    `${JSON.stringify({ node: process.version, bytes: size, streams: n, lanes: engine.lanes, lanesCpuS: lanesS, nativeCpuS: nativeS, agree })}\n` +
      `${n} streams of ${file}: ${engine.lanes} lanes ${(lanesS / GiB).toFixed(3)} s/GiB, node:crypto ${(nativeS / GiB).toFixed(3)} s/GiB of CPU (reads included): ${(nativeS / lanesS).toFixed(2)}×; digests ${agree ? 'agree' : 'DIFFER'}\n`,
  );
  if (!agree) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
