/**
 * MD5 (RFC 1321) of many streams at once: 4·sets streams side by side in
 * WebAssembly SIMD (md5-lanes-wasm.ts), each stream read 512 KiB at a time
 * into its lane's buffer in the module's memory. Pays when many streams
 * wait: on Node 24, 16 lanes took 0.48–0.58 s of CPU per GiB against
 * node:crypto's 1.47–1.52 one stream after another; on Node 20 and 22, 8 or
 * 16 lanes 1.07–1.33 s against 1.48–1.74; one stream alone in 4 lanes
 * 4.6 s (reads from the page cache included: bench/md5-lanes.ts,
 * docs/bench-runs/2026-12-05-md5-lanes.txt).
 */
import { createHash } from 'node:crypto';
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

/** Bytes read into a lane at a time: 16 lanes' buffers are 8 MiB (1 MiB each measured the same CPU per byte). */
const CHUNK = 512 << 10;
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
    // Compiled with the optimizing tier from the start (a process-wide V8 setting: it applies to
    // every WebAssembly module compiled from now on, and this project compiles no other).
    // Otherwise the first calls run the baseline tier's code, several times slower for SIMD,
    // until V8's tier-up lands: 0.93-0.97 s/GiB instead of 0.50-0.61 in 2 of 9 runs on Node 24.
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

/** Reads the stream into `buf` a piece at a time, handing each piece to `use` (valid until the next). */
export function readPieces(stream: Md5Stream, buf: Uint8Array, use: (piece: Uint8Array) => void): void {
  for (let pos = 0; pos < stream.length; pos += buf.length) {
    const piece = buf.subarray(0, Math.min(buf.length, stream.length - pos));
    stream.read(piece, pos);
    use(piece);
  }
}

/** The MD5 of one stream with node:crypto, read into `buf` a piece at a time: what side by side is measured against, and what a lone stream costs least with. */
export function md5Alone(stream: Md5Stream, buf: Uint8Array): Buffer {
  const h = createHash('md5');
  readPieces(stream, buf, (piece) => h.update(piece));
  return h.digest();
}
