/**
 * Native → JSONL (lib/convert/to-jsonl.ts). Inputs are built with the
 * independent test/helpers/fsm.ts; expected lines are written here from
 * the format the converter documents.
 */
import { Readable, Transform, Writable, type Duplex } from 'node:stream';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openInputFile } from '../lib/io/input-file.js';
import { pipeline } from 'node:stream/promises';
import test from 'ava';
import fc from 'fast-check';
import { createFsmToJsonl, createJsonlWriter, jsonlLine } from '../lib/convert/to-jsonl.js';
import { parseJsonlLine } from '../lib/core/jsonl-decoder.js';
import { DecodeError } from '../lib/errors.js';
import { createFsmReader } from '../lib/stages/read-snapshot.js';
import { buildFsm, type FsmTestEntry } from './helpers/fsm.js';

const MAX64 = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface Entry {
  key: Buffer;
  value: Buffer;
  commitTs: bigint;
  tombstone: boolean;
}

/** The line the converter promises for an entry (written from its documentation). */
function expectedLine(e: Entry): string {
  const f = [`"key":"${e.key.toString('base64')}"`];
  if (!e.tombstone || e.value.length > 0) f.push(`"value":"${e.value.toString('base64')}"`);
  f.push(`"commit_ts":${e.commitTs <= SAFE ? e.commitTs.toString() : `"${e.commitTs}"`}`);
  if (e.tombstone) f.push('"tombstone":true');
  return `{${f.join(',')}}\n`;
}

async function collect(stream: Duplex, input: Iterable<unknown>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(input),
    stream,
    new Writable({
      write(c: Buffer, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return out;
}

/** Splits bytes into pieces of the given sizes (cycled). */
function split(b: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  let k = 0;
  while (i < b.length) {
    const n = Math.max(1, sizes[k++ % sizes.length]!);
    out.push(b.subarray(i, i + n));
    i += n;
  }
  return out;
}

const toFsmEntries = (es: Entry[]): FsmTestEntry[] => es.map((e) => ({ key: e.key, value: e.value, commitTs: e.commitTs, tombstone: e.tombstone }));

test('jsonlLine: field order, tombstones, commit_ts as number or string', (t) => {
  const k = Buffer.from('k');
  t.is(jsonlLine({ key: k, value: Buffer.from('v'), commitTs: 7n, tombstone: false }), '{"key":"aw==","value":"dg==","commit_ts":7}\n');
  t.is(jsonlLine({ key: k, value: Buffer.alloc(0), commitTs: 0n, tombstone: false }), '{"key":"aw==","value":"","commit_ts":0}\n');
  t.is(jsonlLine({ key: k, value: null, commitTs: 0n, tombstone: false }), '{"key":"aw==","value":"","commit_ts":0}\n');
  t.is(jsonlLine({ key: k, value: null, commitTs: 5n, tombstone: true }), '{"key":"aw==","commit_ts":5,"tombstone":true}\n');
  t.is(jsonlLine({ key: k, value: Buffer.alloc(0), commitTs: 5n, tombstone: true }), '{"key":"aw==","commit_ts":5,"tombstone":true}\n');
  t.is(jsonlLine({ key: k, value: Buffer.from('x'), commitTs: 5n, tombstone: true }), '{"key":"aw==","value":"eA==","commit_ts":5,"tombstone":true}\n');
  t.is(jsonlLine({ key: k, value: null, commitTs: SAFE, tombstone: false }), `{"key":"aw==","value":"","commit_ts":${SAFE}}\n`);
  t.is(jsonlLine({ key: k, value: null, commitTs: SAFE + 1n, tombstone: false }), `{"key":"aw==","value":"","commit_ts":"${SAFE + 1n}"}\n`);
  t.is(jsonlLine({ key: k, value: null, commitTs: MAX64, tombstone: false }), `{"key":"aw==","value":"","commit_ts":"${MAX64}"}\n`);
  t.is(jsonlLine({ key: Buffer.alloc(0), value: null, commitTs: 1n, tombstone: false }), '{"key":"","value":"","commit_ts":1}\n');
  t.throws(() => jsonlLine({ key: k, value: null, commitTs: MAX64 + 1n, tombstone: false }), { instanceOf: RangeError });
  t.throws(() => jsonlLine({ key: k, value: null, commitTs: -1n, tombstone: false }), { instanceOf: RangeError });
});

test('every line parses back (SPEC §3.1) to the same record', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.bigInt({ min: 0n, max: MAX64 }),
      fc.boolean(),
      (k, v, ts, tomb) => {
        const e: Entry = { key: Buffer.from(k), value: Buffer.from(v), commitTs: ts, tombstone: tomb };
        const line = jsonlLine(e);
        t.is(line, expectedLine(e));
        const r = parseJsonlLine(Buffer.from(line.slice(0, -1)), 1)!;
        t.deepEqual(r.key, e.key);
        t.is(r.commitTs, ts);
        t.is(r.tombstone, tomb);
        if (!tomb) t.deepEqual(r.value, e.value);
      },
    ),
    { numRuns: 200 },
  );
});

const SAMPLE: Entry[] = [
  { key: Buffer.from('!s3|bucket|meta|b\x00\x01', 'latin1'), value: Buffer.from('{"generation":1}'), commitTs: 10n, tombstone: false },
  { key: Buffer.from('a'), value: Buffer.alloc(0), commitTs: 0n, tombstone: false },
  { key: Buffer.from('a'), value: Buffer.alloc(0), commitTs: MAX64, tombstone: true },
  { key: Buffer.from([0, 0xff, 0x0a, 0x22]), value: Buffer.from([0x0a, 0x0d, 0x5c, 0x22]), commitTs: SAFE + 1n, tombstone: false },
  { key: Buffer.from('t'), value: Buffer.from('kept'), commitTs: 3n, tombstone: true },
];

test('native → JSONL: one line per entry in snapshot order, all four file shapes', async (t) => {
  const want = SAMPLE.map(expectedLine).join('');
  for (const opts of [{}, { footer: true }, { header: 'v1' as const, ceiling: 99n }, { header: 'v2' as const, v2ExtraBytes: 5, footer: true }]) {
    const fsm = buildFsm(toFsmEntries(SAMPLE), { ...opts, lastCommitTs: 42n });
    const conv = createFsmToJsonl();
    let header: unknown;
    conv.on('header', (h) => (header = h));
    const out = Buffer.concat(await collect(conv, [fsm]));
    t.is(out.toString('latin1'), want, Object.keys(opts).join(','));
    t.deepEqual(header, { format: 'fsm', lastCommitTs: 42n });
    t.is(conv.stats.records, SAMPLE.length);
    t.is(conv.stats.tombstones, 2);
    t.is(conv.stats.bytesIn, fsm.length);
    t.is(conv.stats.bytesOut, out.length);
    t.is(conv.stats.footer, opts.footer === true);
  }
});

test('native → JSONL: input split at every size gives the same output', async (t) => {
  const fsm = buildFsm(toFsmEntries(SAMPLE), { header: 'v1', footer: true });
  const want = SAMPLE.map(expectedLine).join('');
  for (const sizes of [[1], [2, 3], [7], [13, 1, 64]]) {
    const out = Buffer.concat(await collect(createFsmToJsonl({ batchBytes: 64 }), split(fsm, sizes)));
    t.is(out.toString('latin1'), want, String(sizes));
  }
});

test('the object-mode JsonlWriter gives the same bytes as FsmToJsonl', async (t) => {
  const entries: Entry[] = [];
  for (let i = 0; i < 500; i++) {
    entries.push({ key: Buffer.from(`key-${String(i).padStart(4, '0')}`), value: Buffer.alloc(i % 37, i), commitTs: BigInt(i) * 1000003n, tombstone: i % 11 === 0 });
  }
  const fsm = buildFsm(toFsmEntries(entries), { footer: true });
  const a = Buffer.concat(await collect(createFsmToJsonl(), split(fsm, [1000])));
  const reader = createFsmReader();
  const writer = createJsonlWriter({ batchBytes: 1000 });
  const out: Buffer[] = [];
  await pipeline(Readable.from(split(fsm, [777])), reader, writer, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
  t.deepEqual(Buffer.concat(out), a);
  t.is(a.toString('latin1'), entries.map(expectedLine).join(''));
  t.is(writer.stats.records, 500);
});

test('lines are pushed in batches, a long line on its own', async (t) => {
  const entries: Entry[] = [];
  for (let i = 0; i < 300; i++) entries.push({ key: Buffer.from(`k${i}`), value: Buffer.from('v'), commitTs: 1n, tombstone: false });
  entries.push({ key: Buffer.from('big'), value: Buffer.alloc(5000, 1), commitTs: 2n, tombstone: false });
  entries.push({ key: Buffer.from('after'), value: Buffer.from('v'), commitTs: 2n, tombstone: false });
  const fsm = buildFsm(toFsmEntries(entries));
  const chunks = await collect(createFsmToJsonl({ batchBytes: 1024 }), [fsm]);
  t.is(Buffer.concat(chunks).toString('latin1'), entries.map(expectedLine).join(''));
  // ~40 bytes a line: far fewer pushes than lines, none over the batch size
  // except the one line that is longer than it.
  t.true(chunks.length < 30, `${chunks.length} chunks`);
  const long = chunks.filter((c) => c.length > 1024);
  t.is(long.length, 1);
  t.is(long[0]!.toString('latin1'), expectedLine(entries[300]!));
  for (const c of chunks) t.is(c[c.length - 1], 0x0a, 'every chunk ends at a line end');
});

test('backpressure: a consumer that does not read stops the converter', async (t) => {
  const entries: Entry[] = [];
  for (let i = 0; i < 20000; i++) entries.push({ key: Buffer.from(`key-${i}`), value: Buffer.alloc(100, i), commitTs: BigInt(i), tombstone: false });
  const fsm = buildFsm(toFsmEntries(entries));
  const pieces = split(fsm, [16 * 1024]);
  const conv = createFsmToJsonl({ batchBytes: 16 * 1024 });
  const src = Readable.from(pieces);
  src.pipe(conv);
  await new Promise((r) => setTimeout(r, 100));
  // Nobody reads conv: only a few chunks were taken from the source.
  t.true(conv.stats.bytesIn < fsm.length / 4, `took ${conv.stats.bytesIn} of ${fsm.length} bytes`);
  t.true(conv.readableLength < 256 * 1024, `readable side holds ${conv.readableLength} bytes`);
  // Now drain it all.
  const out: Buffer[] = [];
  for await (const c of conv) out.push(c as Buffer);
  t.is(Buffer.concat(out).toString('latin1'), entries.map(expectedLine).join(''));
});

test('native decoding errors surface with their codes', async (t) => {
  const fsm = buildFsm(toFsmEntries(SAMPLE), { footer: true });
  const cut = fsm.subarray(0, fsm.length - 10);
  const e1 = await t.throwsAsync(collect(createFsmToJsonl(), [cut]), { instanceOf: DecodeError });
  t.is(e1?.code, 'ERR_SNAPSHOT_TRUNCATED');
  const bad = Buffer.from(fsm);
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
  const e2 = await t.throwsAsync(collect(createFsmToJsonl(), [bad]), { instanceOf: DecodeError });
  t.is(e2?.code, 'ERR_SNAPSHOT_CRC_MISMATCH');
  const e3 = await t.throwsAsync(collect(createFsmToJsonl(), [Buffer.from('{"key":"","value":""}\n')]), { instanceOf: DecodeError });
  t.is(e3?.code, 'ERR_SNAPSHOT_BAD_MAGIC');
});

test('native file → JSONL reuses its read buffers: a few for a file of many reads, and the output is the same', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-tojsonl-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const entries: FsmTestEntry[] = Array.from({ length: 40 }, (_, i) => ({ key: `k${String(i).padStart(3, '0')}`, value: Buffer.alloc(300_000, i), commitTs: BigInt(i + 1) }));
  const file = path.join(dir, 's.fsm');
  fs.writeFileSync(file, buildFsm(entries, { header: 'v1', footer: true }));
  const READ = 1 << 20; // 12 MB of input: 12 reads
  const seen = new Set<ArrayBufferLike>();
  let reads = 0;
  const out: Buffer[] = [];
  await pipeline(
    await openInputFile(file, { readSize: READ, shared: true }),
    new Transform({ transform: (c: Buffer, _e, cb) => (reads++, seen.add(c.buffer), cb(null, c)) }),
    createFsmToJsonl(),
    new Writable({ write: (b: Buffer, _e, cb) => (out.push(b), cb()) }),
  );
  t.true(reads >= 11, `${reads} reads`);
  t.true(seen.size <= 3, `${seen.size} buffers for ${reads} reads`);
  const lines = Buffer.concat(out).toString('latin1').trimEnd().split('\n');
  t.is(lines.length, 40);
  const parsed = lines.map((l) => JSON.parse(l) as { key: string; value: string; commit_ts: number });
  t.deepEqual(
    parsed.map((r) => [Buffer.from(r.key, 'base64').toString(), Buffer.from(r.value, 'base64').equals(Buffer.alloc(300_000, Buffer.from(r.value, 'base64')[0])), Buffer.from(r.value, 'base64')[0], r.commit_ts]),
    entries.map((e, i) => [e.key, true, i, i + 1]),
  );
});
