/**
 * CRC-32C candidates, and the native snapshot parser, on large inputs.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/crc32c.js [MiB per pass] [passes]
 *   node dist/bench/crc32c.js --parse     # FsmDecoder throughput
 *
 * Default: 256 MiB × 4 passes = 1 GiB per candidate, fed in 1 MiB pieces
 * (the shape of fs.createReadStream chunks). Optional packages
 * (fast-crc32c, sse4_crc32) are measured only when installed.
 */
import { createRequire } from 'node:module';
import { crc32c, crc32cJs, crc32cImplementation } from '../lib/core/crc32c.js';
import { FsmDecoder } from '../lib/core/fsm-decoder.js';
import { FsmEncoder } from '../lib/core/fsm-encoder.js';

const require = createRequire(import.meta.url);

type Crc = (buf: Buffer, crc: number) => number;

/** The textbook slicing-by-8 table CRC, for comparison with slicing-by-16. */
const slicing8: Crc = (() => {
  const T = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    T[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    let c = T[i]!;
    for (let s = 1; s < 8; s++) {
      c = T[c & 0xff]! ^ (c >>> 8);
      T[s * 256 + i] = c;
    }
  }
  return (b: Buffer, crc: number): number => {
    let c = ~crc;
    let i = 0;
    const n = b.length;
    for (; i + 8 <= n; i += 8) {
      const a = c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
      c =
        T[1792 + (a & 0xff)]! ^
        T[1536 + ((a >>> 8) & 0xff)]! ^
        T[1280 + ((a >>> 16) & 0xff)]! ^
        T[1024 + (a >>> 24)]! ^
        T[768 + b[i + 4]!]! ^
        T[512 + b[i + 5]!]! ^
        T[256 + b[i + 6]!]! ^
        T[b[i + 7]!]!;
    }
    for (; i < n; i++) c = T[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
    return ~c >>> 0;
  };
})();

function optional(name: string, pick: (mod: Record<string, unknown>) => Crc | undefined): Crc | undefined {
  try {
    return pick(require(name) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}

function candidates(): Array<[string, Crc]> {
  const list: Array<[string, Crc]> = [
    ['hand-written slicing-by-8', slicing8],
    ['hand-written slicing-by-16 (crc32cJs)', (b, c) => crc32cJs(b, c)],
  ];
  const noders = optional('@node-rs/crc32', (m) => {
    const f = m['crc32c'] as ((b: Buffer, c?: number) => number) | undefined;
    return f ? (b, c) => f(b, c) : undefined;
  });
  if (noders) list.push(['@node-rs/crc32 crc32c', noders]);
  const fast = optional('fast-crc32c', (m) => {
    const f = m['calculate'] as ((b: Buffer, c?: number) => number) | undefined;
    return f ? (b, c) => f(b, c) : undefined;
  });
  if (fast) list.push(['fast-crc32c', fast]);
  const sse = optional('sse4_crc32', (m) => {
    const f = m['calculate'] as ((b: Buffer, c?: number) => number) | undefined;
    return f ? (b, c) => f(b, c) : undefined;
  });
  if (sse) list.push(['sse4_crc32', sse]);
  list.push([`lib crc32c() (dispatches to ${crc32cImplementation()})`, (b, c) => crc32c(b, c)]);
  return list;
}

function benchCrc(mib: number, passes: number): void {
  const data = Buffer.allocUnsafe(mib << 20);
  let x = 0x12345678;
  for (let i = 0; i < data.length; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    data.writeInt32LE(x, i);
  }
  const piece = 1 << 20;
  console.log(`CRC-32C over ${mib} MiB × ${passes} passes in ${piece >> 10} KiB pieces (node ${process.version})`);
  let reference: number | undefined;
  for (const [name, f] of candidates()) {
    if (f(Buffer.from('123456789'), 0) >>> 0 !== 0xe3069283) {
      console.log(`${name}: WRONG check value, skipped`);
      continue;
    }
    // Warm up (JIT), then time each pass separately.
    for (let o = 0; o < 16 << 20; o += piece) f(data.subarray(o, o + piece), 0);
    let crc = 0;
    let total = 0;
    let best = Infinity;
    for (let p = 0; p < passes; p++) {
      const t0 = process.hrtime.bigint();
      for (let o = 0; o < data.length; o += piece) crc = f(data.subarray(o, o + piece), crc);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      total += s;
      best = Math.min(best, s);
    }
    const s = total;
    const bytes = data.length * passes;
    reference ??= crc >>> 0;
    const same = reference === crc >>> 0 ? '' : ' (DIFFERENT RESULT)';
    console.log(
      `${name.padEnd(48)} ${(bytes / s / 1e6).toFixed(0).padStart(6)} MB/s overall, ${(data.length / best / 1e6).toFixed(0).padStart(6)} MB/s best pass, ${s.toFixed(2)} s${same}`,
    );
  }
}

function synthetic(count: number, valueSize: number): Buffer {
  const enc = new FsmEncoder({ lastCommitTs: 1n, header: 'v1', footer: true });
  const parts: Buffer[] = [enc.preamble()];
  const value = Buffer.alloc(valueSize, 0x61);
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`!s3|blob|bucket\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01object-${i}\x00\x01up\x00\x01`, 'latin1');
    parts.push(...enc.entry({ key, value, commitTs: BigInt(i + 1), tombstone: false }));
  }
  parts.push(enc.finish());
  return Buffer.concat(parts);
}

function benchParse(): void {
  const runs: Array<[string, Buffer, number]> = [];
  const big = synthetic(1024, 1 << 20);
  runs.push(['1024 × 1 MiB values, 1 MiB chunks', big, 1 << 20]);
  runs.push(['1024 × 1 MiB values, 64 KiB chunks', big, 64 << 10]);
  const small = synthetic(100_000, 100);
  runs.push(['100k × 100 B values, 64 KiB chunks', small, 64 << 10]);
  console.log(`FsmDecoder (CRC: ${crc32cImplementation()}; best of 5; node ${process.version})`);
  for (const [name, input, chunk] of runs) {
    let best = Infinity;
    let records = 0;
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint();
      const d = new FsmDecoder();
      records = 0;
      for (let o = 0; o < input.length; o += chunk) d.write(input.subarray(o, o + chunk), () => records++);
      d.end();
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(
      `${name.padEnd(40)} ${(input.length / best / 1e6).toFixed(0).padStart(6)} MB/s  ${(records / best / 1e6).toFixed(2)} M records/s  (${(input.length / 1e6).toFixed(0)} MB, ${records} records)`,
    );
  }
}

const args = process.argv.slice(2);
if (args[0] === '--parse') {
  benchParse();
} else {
  benchCrc(Number(args[0] ?? 256), Number(args[1] ?? 4));
}
