/**
 * MD5 of many streams at once (md5-lanes-wasm.ts), against node:crypto's
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
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { md5LanesModule } from './md5-lanes-wasm.js';

/** What this file uses of the WebAssembly JS API (not in the TypeScript libraries this project compiles with). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

const CHUNK = 1 << 20;
/** A lane's buffer: a chunk, and room for the padding after the last one. */
const LANE_BYTES = CHUNK + 128;
const IV = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];

/** Where a stream's bytes come from: `read(into, position)` fills `into` from byte `position` of the stream. */
export interface Md5Stream {
  length: number;
  read(into: Uint8Array, position: number): void;
}

interface Lane {
  stream: number;
  /** Bytes of the stream read so far. */
  pos: number;
  /** Bytes in the lane's buffer (the last chunk with its padding) and how many of them are hashed. */
  filled: number;
  used: number;
  last: boolean;
}

/** Runs the MD5s of 4·sets streams at a time; `hash` takes any number of streams. */
export class Md5Lanes {
  readonly lanes: number;
  private readonly memory: WasmMemory;
  private readonly blocks: (...args: number[]) => void;
  private readonly base: number;

  constructor(readonly sets: number) {
    this.lanes = 4 * sets;
    // Compiled with the optimizing tier from the start (for every module this process compiles
    // from now on: a bench-only setting). Otherwise the first calls run the baseline tier's code,
    // several times slower for SIMD, until V8's tier-up lands, and some runs measured that
    // (Node 24: 0.93-0.97 s/GiB instead of 0.50-0.61 in 2 of 9 runs).
    v8.setFlagsFromString('--no-liftoff');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(md5LanesModule(sets)));
    this.memory = instance.exports.memory as WasmMemory;
    this.blocks = instance.exports.blocks as (...args: number[]) => void;
    // Page 0: the states; then one buffer per lane and one for idle lanes to hash.
    this.base = 65536;
    const need = this.base + (this.lanes + 1) * LANE_BYTES;
    this.memory.grow(Math.ceil(need / 65536) - this.memory.buffer.byteLength / 65536);
  }

  /** The MD5 of every stream, in order. */
  hash(streams: Md5Stream[]): Buffer[] {
    const out: Buffer[] = new Array<Buffer>(streams.length);
    const lanes: Array<Lane | undefined> = new Array<Lane | undefined>(this.lanes).fill(undefined);
    const idle = this.base + this.lanes * LANE_BYTES;
    const state = new Uint32Array(this.memory.buffer, 0, 16 * this.sets);
    const mem = new Uint8Array(this.memory.buffer);
    const ptrs = new Array<number>(this.lanes + 1).fill(idle);
    let next = 0;
    for (;;) {
      let active = 0;
      let n = Infinity;
      for (let i = 0; i < this.lanes; i++) {
        let lane = lanes[i];
        if (lane === undefined && next < streams.length) {
          lanes[i] = lane = { stream: next++, pos: 0, filled: 0, used: 0, last: false };
          for (let w = 0; w < 4; w++) state[(i >> 2) * 16 + w * 4 + (i & 3)] = IV[w]!;
        }
        if (lane === undefined) {
          ptrs[i] = idle;
          continue;
        }
        const buf = this.base + i * LANE_BYTES;
        if (lane.used === lane.filled) this.fill(lane, streams[lane.stream]!, mem.subarray(buf, buf + LANE_BYTES));
        ptrs[i] = buf + lane.used;
        n = Math.min(n, (lane.filled - lane.used) / 64);
        active++;
      }
      if (active === 0) return out;
      ptrs[this.lanes] = n;
      this.blocks(...ptrs);
      for (let i = 0; i < this.lanes; i++) {
        const lane = lanes[i];
        if (lane === undefined) continue;
        lane.used += 64 * n;
        if (lane.used === lane.filled && lane.last) {
          const digest = Buffer.alloc(16);
          for (let w = 0; w < 4; w++) digest.writeUInt32LE(state[(i >> 2) * 16 + w * 4 + (i & 3)]!, 4 * w);
          out[lane.stream] = digest;
          lanes[i] = undefined;
        }
      }
    }
  }

  /** Reads the lane's next chunk; after the stream's last byte, the padding (RFC 1321 §3.1–3.2). */
  private fill(lane: Lane, stream: Md5Stream, buf: Uint8Array): void {
    const take = Math.min(CHUNK, stream.length - lane.pos);
    if (take > 0) stream.read(buf.subarray(0, take), lane.pos);
    lane.pos += take;
    lane.used = 0;
    lane.filled = take;
    if (lane.pos < stream.length) return;
    // Room for 0x80 and the 8-byte length, up to a whole block.
    const padded = (take + 8 + 64) & ~63;
    buf.fill(0, take, padded);
    buf[take] = 0x80;
    const bits = stream.length * 8;
    const view = new DataView(buf.buffer, buf.byteOffset + padded - 8, 8);
    view.setUint32(0, bits % 2 ** 32, true);
    view.setUint32(4, Math.floor(bits / 2 ** 32), true);
    lane.filled = padded;
    lane.last = true;
  }
}

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
function fileStreams(fd: number, size: number, n: number): Md5Stream[] {
  const each = Math.ceil(size / n);
  return Array.from({ length: n }, (_, i) => {
    const start = Math.min(size, i * each);
    const length = Math.min(each, size - start);
    return {
      length,
      read(into: Uint8Array, position: number) {
        for (let at = 0; at < into.length; ) {
          const got = readSync(fd, into, at, into.length - at, start + position + at);
          if (got === 0) throw new Error(`unexpected end of file at ${start + position + at}`);
          at += got;
        }
      },
    };
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
  const streams = fileStreams(fd, size, n);
  const engine = new Md5Lanes(sets);
  engine.hash(fileStreams(fd, Math.min(size, 64 << 20), engine.lanes)); // warm-up: V8 compiles the module's function
  let lanes: Buffer[] = [];
  const lanesS = cpuSeconds(() => (lanes = engine.hash(streams)));
  const buf = Buffer.allocUnsafe(CHUNK);
  let native: Buffer[] = [];
  const nativeS = cpuSeconds(() => {
    native = streams.map((s) => {
      const h = createHash('md5');
      for (let pos = 0; pos < s.length; pos += CHUNK) {
        const piece = buf.subarray(0, Math.min(CHUNK, s.length - pos));
        s.read(piece, pos);
        h.update(piece);
      }
      return h.digest();
    });
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
