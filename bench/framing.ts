/**
 * JSON-lines framing: the project's LineFramer against split2 and
 * stream-json's JSONL parser, on the lines a snapshot has (blob lines of
 * ~1.4 MB of base64, and small metadata lines), fed in 64 KiB reads as a
 * file stream delivers them. Why the decoder frames lines itself
 * (docs/PERFORMANCE.md): split2 re-splits its carry-over on every chunk, so
 * a long line costs time quadratic in its length.
 *
 *   node dist/bench/framing.js [--mib N]   (blob megabytes, default 64)
 */
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import split2 from 'split2';
// stream-json ships CommonJS without an exports map: its JSONL parser by path.
import jsonlParser from 'stream-json/jsonl/Parser.js';
import { JsonlDecoder } from '../lib/core/jsonl-decoder.js';
import { LineFramer } from '../lib/core/line-framer.js';

const mib = Number(process.argv[process.argv.indexOf('--mib') + 1]) || 64;
const READ = 64 * 1024;

function input(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < mib; i++) lines.push(JSON.stringify({ key: randomBytes(60).toString('base64'), value: randomBytes(1 << 20).toString('base64'), commit_ts: i }));
  for (let i = 0; i < 20_000; i++) lines.push(JSON.stringify({ key: randomBytes(40).toString('base64'), value: randomBytes(200).toString('base64') }));
  return Buffer.from(lines.join('\n') + '\n');
}

function chunks(data: Buffer): Readable {
  let at = 0;
  return new Readable({
    read() {
      this.push(at < data.length ? data.subarray(at, (at += READ)) : null);
    },
  });
}

const sink = (onItem: () => void) =>
  new Writable({
    objectMode: true,
    write(_x, _e, cb) {
      onItem();
      cb();
    },
  });

async function time(label: string, fn: () => Promise<number>, bytes: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const lines = await fn();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${label.padEnd(38)} ${s.toFixed(3)} s  ${(bytes / s / 1e6).toFixed(0).padStart(6)} MB/s  ${lines} lines`);
  return s;
}

const data = input();
console.log(`input: ${(data.length / 1e6).toFixed(1)} MB (${mib} blob lines of ~1.4 MB, 20 000 small lines), ${READ / 1024} KiB reads`);
for (let round = 0; round < 2; round++) {
  const framer = await time(
    'LineFramer',
    async () => {
      let n = 0;
      const f = new LineFramer();
      for await (const c of chunks(data)) f.write(c as Buffer, () => n++);
      f.end(() => n++);
      return n;
    },
    data.length,
  );
  const decoder = await time(
    'JsonlDecoder (records, base64 decoded)',
    async () => {
      let n = 0;
      const d = new JsonlDecoder();
      for await (const c of chunks(data)) d.write(c as Buffer, () => n++);
      return n;
    },
    data.length,
  );
  const split = await time(
    'split2',
    async () => {
      let n = 0;
      await pipeline(chunks(data), split2(), sink(() => n++));
      return n;
    },
    data.length,
  );
  const streamJson = await time(
    'stream-json jsonl/Parser + base64',
    async () => {
      let n = 0;
      const decode = (x: { value: { key: string; value: string } }) => void (Buffer.from(x.value.key, 'base64'), Buffer.from(x.value.value, 'base64'), n++);
      await pipeline(chunks(data), jsonlParser.make(), new Writable({ objectMode: true, write: (x, _e, cb) => (decode(x), cb()) }));
      return n;
    },
    data.length,
  );
  console.log(`  split2 / LineFramer: ${(split / framer).toFixed(1)}×;  stream-json / JsonlDecoder: ${(streamJson / decoder).toFixed(1)}×`);
}
