/**
 * JSONL → native (lib/convert/to-fsm.ts), and the round trips through both
 * converters. Expected native bytes come from the independent
 * test/helpers/fsm.ts (buildFsm); S3-shaped snapshots from
 * test/helpers/snapshot.ts (SnapshotBuilder).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import { createFsmWriter, createJsonlToFsm, type FsmWriterOptions } from '../lib/convert/to-fsm.js';
import { createFsmToJsonl } from '../lib/convert/to-jsonl.js';
import { decodeSnapshot } from '../lib/decode.js';
import { DecodeError } from '../lib/errors.js';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import { readTree, type ReadTree } from './e2e/harness.js';
import { buildFsm, testEncodedKey, type BuildFsmOptions, type FsmTestEntry } from './helpers/fsm.js';
import { manifestKey } from './helpers/keys.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

const MAX64 = (1n << 64n) - 1n;
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// ------------------------------------------------------------------ helpers

function tmp(t: ExecutionContext, prefix = 'ekv-convert-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(stream: Duplex, input: Iterable<unknown>): Promise<Buffer> {
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
  return Buffer.concat(out);
}

function split(b: Buffer, sizes: number[]): Buffer[] {
  if (sizes.length === 0) return [b];
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

interface Rec {
  key: Buffer;
  /** null: no "value" field (tombstones only). */
  value: Buffer | null;
  commitTs: bigint;
  tombstone: boolean;
}

const b64 = (b: Buffer): string => b.toString('base64');

/** A JSONL line for a record, in one of a few equivalent spellings (SPEC §3.1). */
function inputLine(r: Rec, style = 0): string {
  const ts = r.commitTs;
  if (style === 1) {
    // Every field present, commit_ts always a string, tombstone false spelled out.
    return JSON.stringify({ key: b64(r.key), value: r.value === null ? null : b64(r.value), commit_ts: ts.toString(), tombstone: r.tombstone }) + '\n';
  }
  if (style === 2) {
    // Reordered, spaced, unpadded base64, commit_ts omitted when 0, CRLF.
    const f: string[] = [];
    if (r.tombstone) f.push('"tombstone" : true');
    if (ts !== 0n) f.push(`"commit_ts": ${ts <= SAFE ? ts : `"${ts}"`}`);
    if (r.value !== null) f.push(`"value": "${b64(r.value).replace(/=+$/, '')}"`);
    f.push(`"key":"${b64(r.key).replace(/=+$/, '')}"`, '"extra": {"ignored": [1, 2]}');
    return ` { ${f.join(' , ')} }\r\n`;
  }
  const f = [`"key":"${b64(r.key)}"`];
  if (r.value !== null) f.push(`"value":"${b64(r.value)}"`);
  f.push(`"commit_ts":${ts <= SAFE ? ts : `"${ts}"`}`);
  if (r.tombstone) f.push('"tombstone":true');
  return `{${f.join(',')}}\n`;
}

/** The converter's output line for an entry (its documented format). */
function outputLine(e: FsmTestEntry & { key: Buffer; value: Buffer }): string {
  const ts = e.commitTs ?? 0n;
  const f = [`"key":"${b64(e.key)}"`];
  if (!e.tombstone || e.value.length > 0) f.push(`"value":"${b64(e.value)}"`);
  f.push(`"commit_ts":${ts <= SAFE ? ts : `"${ts}"`}`);
  if (e.tombstone) f.push('"tombstone":true');
  return `{${f.join(',')}}\n`;
}

/**
 * What the converter must write for these records: one entry per (key,
 * commit_ts), the later record winning, sorted by encoded key; a
 * tombstone's body is its value when given.
 */
function model(records: Rec[]): Array<FsmTestEntry & { key: Buffer; value: Buffer }> {
  const last = new Map<string, Rec>();
  for (const r of records) last.set(`${r.key.toString('hex')}:${r.commitTs}`, r);
  const keyed = [...last.values()].map((r) => ({ ek: testEncodedKey(r.key, r.commitTs), e: { key: r.key, value: r.value ?? Buffer.alloc(0), commitTs: r.commitTs, tombstone: r.tombstone } }));
  keyed.sort((a, b) => Buffer.compare(a.ek, b.ek));
  return keyed.map((x) => x.e);
}

const maxTs = (records: Rec[]): bigint => records.reduce((m, r) => (r.commitTs > m ? r.commitTs : m), 0n);

/** A scratch parent for the converter; see clean(). */
function scratch(t: ExecutionContext): string {
  return tmp(t, 'ekv-convert-scratch-');
}

/** Nothing may be left in a scratch parent. */
function clean(t: ExecutionContext, dir: string): void {
  t.deepEqual(fs.readdirSync(dir), [], `scratch directory ${dir} left non-empty`);
}

// --------------------------------------------------------------- arbitraries

/** Keys over a tiny alphabet: prefixes of each other and repeats are common. */
const keyArb = fc.array(fc.constantFrom(0x00, 0x01, 0x61, 0x7f, 0xfe, 0xff), { maxLength: 6 }).map((a) => Buffer.from(a));
const tsArb = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 0xffn, 0x100n, SAFE, SAFE + 1n, MAX64 - 1n, MAX64),
  fc.bigInt({ min: 0n, max: 5n }),
  fc.bigInt({ min: 0n, max: MAX64 }),
);
const bytesArb = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const recArb: fc.Arbitrary<Rec> = fc.oneof(
  fc.record({ key: keyArb, value: bytesArb, commitTs: tsArb, tombstone: fc.constant(false) }),
  fc.record({ key: keyArb, value: fc.option(bytesArb, { nil: null }), commitTs: tsArb, tombstone: fc.constant(true) }),
);
const optsArb = fc.record({
  header: fc.constantFrom(undefined, 'v1' as const, 'v2' as const),
  footer: fc.boolean(),
  lastCommitTs: fc.option(tsArb, { nil: undefined }),
  ceiling: fc.option(tsArb, { nil: undefined }),
  cutover: fc.option(tsArb, { nil: undefined }),
});

// --------------------------------------------------------------- properties

test('property: JSONL → native → JSONL is the identity on records (later duplicate wins), in encoded-key order', async (t) => {
  const dir = scratch(t);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(recArb, fc.nat(2)), { maxLength: 30 }),
      optsArb,
      fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }),
      async (recs, o, sizes) => {
        const records = recs.map(([r]) => r);
        const jsonl = Buffer.from(recs.map(([r, style]) => inputLine(r, style)).join(''), 'utf8');
        const opts: FsmWriterOptions = { scratchDir: dir, footer: o.footer };
        if (o.lastCommitTs !== undefined) opts.lastCommitTs = o.lastCommitTs;
        if (o.header) {
          opts.header = o.header;
          if (o.ceiling !== undefined) opts.ceiling = o.ceiling;
          if (o.header === 'v2' && o.cutover !== undefined) opts.cutover = o.cutover;
        }
        const conv = createJsonlToFsm(opts);
        const fsm = await run(conv, split(jsonl, sizes));

        // Exactly the bytes the independent builder makes for the model.
        const entries = model(records);
        const last = o.lastCommitTs ?? maxTs(records);
        const want: BuildFsmOptions = { lastCommitTs: last, footer: o.footer };
        if (o.header) Object.assign(want, { header: o.header, ceiling: opts.ceiling ?? last, cutover: opts.cutover ?? 0n });
        t.deepEqual(fsm, buildFsm(entries, want));
        t.is(conv.stats.records, records.length);
        t.is(conv.stats.entries, entries.length);
        t.is(conv.stats.duplicates, records.length - entries.length);

        // And back: the same records, one line each, in encoded-key order.
        const back = await run(createFsmToJsonl(), split(fsm, sizes));
        t.is(back.toString('latin1'), entries.map(outputLine).join(''));
      },
    ),
    { numRuns: 100 },
  );
  clean(t, dir);
});

test('property: native → JSONL → native is byte-exact for sorted snapshots without duplicates', async (t) => {
  const dir = scratch(t);
  await fc.assert(
    fc.asyncProperty(fc.array(recArb, { maxLength: 30 }), optsArb, async (records, o) => {
      const entries = model(records);
      const opts: BuildFsmOptions = { lastCommitTs: o.lastCommitTs ?? 7n, footer: o.footer };
      if (o.header) Object.assign(opts, { header: o.header, ceiling: o.ceiling ?? 1n, cutover: o.header === 'v2' ? (o.cutover ?? 0n) : 0n });
      const fsm = buildFsm(entries, opts);
      const jsonl = await run(createFsmToJsonl(), [fsm]);
      const again = await run(
        createJsonlToFsm({
          scratchDir: dir,
          footer: o.footer,
          lastCommitTs: opts.lastCommitTs!,
          ...(o.header ? { header: o.header, ceiling: opts.ceiling!, cutover: opts.cutover! } : {}),
        }),
        [jsonl],
      );
      t.deepEqual(again, fsm);
    }),
    { numRuns: 60 },
  );
  clean(t, dir);
});

// ---------------------------------------------- S3 snapshots: same dump tree

const OBJECT_NAMES = ['a.txt', 'dir/b.bin', 'dir/c', 'e f', 'ü.txt', 'z'];

const s3Arb = fc.record({
  buckets: fc.uniqueArray(fc.constantFrom('b1', 'bkt-2', 'x.y'), { minLength: 1, maxLength: 2 }),
  objects: fc.uniqueArray(
    fc.record({
      bucket: fc.nat(1),
      name: fc.constantFrom(...OBJECT_NAMES),
      size: fc.integer({ min: 0, max: 2500 }),
      chunkSize: fc.constantFrom(100, 1000, 4096),
      parts: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      offloaded: fc.boolean(),
      commitTs: fc.bigInt({ min: 1n, max: MAX64 - 1n }),
      deleted: fc.boolean(),
      seed: fc.nat(255),
    }),
    { minLength: 1, maxLength: 5, selector: (o) => `${o.bucket}/${o.name}` },
  ),
  extra: fc.array(fc.record({ key: bytesArb, value: bytesArb, ts: tsArb, tomb: fc.boolean() }), { maxLength: 3 }),
  shuffle: fc.nat(),
});

type S3Input = typeof s3Arb extends fc.Arbitrary<infer T> ? T : never;

function buildS3(s: S3Input): SnapshotBuilder {
  const snap = new SnapshotBuilder();
  for (const b of s.buckets) snap.bucket(b);
  for (const [i, o] of s.objects.entries()) {
    const bucket = s.buckets[o.bucket % s.buckets.length]!;
    const body = Buffer.alloc(o.size);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + o.seed) & 0xff;
    snap.putObject(bucket, o.name, body, {
      chunkSize: o.chunkSize,
      offloaded: o.offloaded,
      commitTs: o.commitTs,
      ...(o.parts !== undefined ? { parts: o.parts } : {}),
    });
    // The first object is never deleted, so most runs have something to compare.
    if (o.deleted && i > 0) snap.tombstone(manifestKey(bucket, 1, o.name), o.commitTs + 1n);
  }
  for (const x of s.extra) snap.record(Buffer.concat([Buffer.from('other|'), x.key]), x.value, { commitTs: x.ts, tombstone: x.tomb });
  return snap;
}

type Outcome = { tree: ReadTree } | { code: string };

async function decodeTo(input: Buffer, out: string): Promise<Outcome> {
  try {
    await decodeSnapshot(Readable.from([input]), { output: out });
    return { tree: readTree(out) };
  } catch (e) {
    return { code: e instanceof DecodeError ? e.code : String(e) };
  }
}

/** The dump's files, except MANIFEST.json and its CHECKSUMS line (they name the source and time). */
function comparable(o: Outcome): Record<string, string> | string {
  if ('code' in o) return o.code;
  const files: Record<string, string> = {};
  for (const [p, f] of o.tree.files) {
    if (p === 'MANIFEST.json') continue;
    let data = f.data.toString('latin1');
    if (p === 'CHECKSUMS') data = data.replace(/^[0-9a-f]{64} {2}MANIFEST\.json\n/m, '');
    files[p] = data;
  }
  return files;
}

test('property: decoding the native form and the converted JSONL (and back) gives the same dump tree', async (t) => {
  const dir = tmp(t);
  const scr = scratch(t);
  let n = 0;
  let nonEmpty = 0;
  await fc.assert(
    fc.asyncProperty(s3Arb, async (s) => {
      const snap = buildS3(s);
      const run1 = path.join(dir, String(n++));
      fs.mkdirSync(run1);

      // native → JSONL
      const fsm = snap.toFsm({ sort: true, header: 'v1', footer: true, lastCommitTs: 1000n });
      const jsonl = await run(createFsmToJsonl(), [fsm]);
      const a = comparable(await decodeTo(fsm, path.join(run1, 'fsm')));
      const b = comparable(await decodeTo(jsonl, path.join(run1, 'fsm-jsonl')));
      t.deepEqual(b, a, 'native vs converted JSONL');

      // JSONL (shuffled) → native
      const shuffled = snap.toJsonl({ shuffle: s.shuffle });
      const native = await run(createJsonlToFsm({ scratchDir: scr, header: 'v2', footer: true }), [shuffled]);
      const c = comparable(await decodeTo(shuffled, path.join(run1, 'jsonl')));
      const d = comparable(await decodeTo(native, path.join(run1, 'jsonl-fsm')));
      t.deepEqual(d, c, 'JSONL vs converted native');
      if (typeof a !== 'string' && Object.keys(a).some((p) => p.startsWith('s3/') && !p.endsWith('_bucket.json'))) nonEmpty++;
      fs.rmSync(run1, { recursive: true, force: true });
    }),
    { numRuns: 20 },
  );
  t.true(nonEmpty > 5, `only ${nonEmpty} runs produced objects`);
  clean(t, scr);
});

// -------------------------------------------------------------------- units

const k = (s: string): Buffer => Buffer.from(s, 'latin1');

test('entries come out sorted by encoded key, prefixes and u64 timestamps included', async (t) => {
  const records: Rec[] = [
    { key: k('ab'), value: k('1'), commitTs: 5n, tombstone: false },
    { key: k('a'), value: k('2'), commitTs: 1n, tombstone: false },
    { key: k('a'), value: k('3'), commitTs: MAX64, tombstone: false },
    { key: k('a\xff\xff\xff\xff\xff\xff\xff\xfe'), value: k('4'), commitTs: 0n, tombstone: false },
    { key: k(''), value: k('5'), commitTs: 9n, tombstone: false },
    { key: k('a'), value: k('6'), commitTs: 2n, tombstone: false },
  ];
  const conv = createJsonlToFsm({ scratchDir: scratch(t) });
  const fsm = await run(conv, [Buffer.from(records.map((r) => inputLine(r)).join(''))]);
  t.deepEqual(fsm, buildFsm(records.map((r) => ({ ...r, value: r.value! })), { sort: true, lastCommitTs: MAX64 }));
  t.false(conv.stats.inputSorted);
  t.is(conv.stats.lastCommitTs, MAX64);
});

test('equal key and commit_ts: the later record wins', async (t) => {
  const lines = [
    inputLine({ key: k('k'), value: k('first'), commitTs: 3n, tombstone: false }),
    inputLine({ key: k('j'), value: k('other'), commitTs: 3n, tombstone: false }),
    inputLine({ key: k('k'), value: k('second'), commitTs: 3n, tombstone: false }),
    inputLine({ key: k('k'), value: null, commitTs: 4n, tombstone: true }),
    inputLine({ key: k('k'), value: k('third'), commitTs: 3n, tombstone: false }),
  ];
  const conv = createJsonlToFsm({ scratchDir: scratch(t) });
  const fsm = await run(conv, [Buffer.from(lines.join(''))]);
  t.deepEqual(
    fsm,
    buildFsm(
      [
        { key: 'j', value: 'other', commitTs: 3n },
        { key: 'k', commitTs: 4n, tombstone: true },
        { key: 'k', value: 'third', commitTs: 3n },
      ],
      { lastCommitTs: 4n },
    ),
  );
  t.is(conv.stats.duplicates, 2);
  t.is(conv.stats.entries, 3);
  t.is(conv.stats.tombstones, 1);
});

test('a tombstone keeps a non-empty value as its body', async (t) => {
  const lines =
    '{"key":"YQ==","value":"Ym9keQ==","commit_ts":1,"tombstone":true}\n' +
    '{"key":"Yg==","value":"","commit_ts":1,"tombstone":true}\n' +
    '{"key":"Yw==","commit_ts":1,"tombstone":true}\n' +
    '{"key":"ZA==","value":null,"tombstone":true}\n';
  const fsm = await run(createJsonlToFsm({ scratchDir: scratch(t) }), [Buffer.from(lines)]);
  t.deepEqual(
    fsm,
    buildFsm(
      [
        { key: 'a', value: 'body', commitTs: 1n, tombstone: true },
        { key: 'b', commitTs: 1n, tombstone: true },
        { key: 'c', commitTs: 1n, tombstone: true },
        { key: 'd', commitTs: 0n, tombstone: true },
      ],
      { lastCommitTs: 1n },
    ),
  );
});

test('header, footer, lastCommitTS, ceiling and cutover options', async (t) => {
  const dir = scratch(t);
  const records: Rec[] = [
    { key: k('x'), value: k('1'), commitTs: 20n, tombstone: false },
    { key: k('w'), value: k('22'), commitTs: 10n, tombstone: false },
  ];
  const jsonl = Buffer.from(records.map((r) => inputLine(r)).join(''));
  const entries = records.map((r) => ({ key: r.key, value: r.value!, commitTs: r.commitTs }));
  const cases: Array<[FsmWriterOptions, BuildFsmOptions]> = [
    [{}, { lastCommitTs: 20n }],
    [{ footer: true }, { lastCommitTs: 20n, footer: true }],
    [{ header: 'v1' }, { lastCommitTs: 20n, header: 'v1', ceiling: 20n }],
    [{ header: 'v2', footer: true }, { lastCommitTs: 20n, header: 'v2', ceiling: 20n, cutover: 0n, footer: true }],
    [{ header: 'v1', lastCommitTs: 99n }, { lastCommitTs: 99n, header: 'v1', ceiling: 99n }],
    [{ header: 'v2', lastCommitTs: 5n, ceiling: 7n, cutover: MAX64 }, { lastCommitTs: 5n, header: 'v2', ceiling: 7n, cutover: MAX64 }],
  ];
  for (const [opts, want] of cases) {
    const fsm = await run(createJsonlToFsm({ ...opts, scratchDir: dir }), [jsonl]);
    t.deepEqual(fsm, buildFsm(entries, { ...want, sort: true }), Object.keys(opts).join(','));
  }
  clean(t, dir);
});

test('empty input: the preamble (and footer) alone', async (t) => {
  const dir = scratch(t);
  t.deepEqual(await run(createJsonlToFsm({ scratchDir: dir }), []), buildFsm([]));
  t.deepEqual(await run(createJsonlToFsm({ scratchDir: dir, header: 'v1', footer: true }), [Buffer.from('\n  \r\n')]), buildFsm([], { header: 'v1', footer: true }));
  clean(t, dir);
});

test('a last line without a newline is read', async (t) => {
  const fsm = await run(createJsonlToFsm({ scratchDir: scratch(t) }), [Buffer.from('{"key":"YQ==","value":"Yg=="}')]);
  t.deepEqual(fsm, buildFsm([{ key: 'a', value: 'b' }]));
});

test('large values: spilled, read back whole, in any order', async (t) => {
  const dir = scratch(t);
  // ~13 MiB of values, big (direct writes and reads) and small (copied, read through the window).
  const records: Rec[] = [];
  for (let i = 0; i < 40; i++) {
    const size = i % 4 === 0 ? 300 * 1024 + i : i % 4 === 1 ? 70 * 1024 : i % 4 === 2 ? 10 : 20 * 1024;
    const value = Buffer.alloc(size);
    for (let j = 0; j < size; j += 997) value[j] = (i + j) & 0xff;
    records.push({ key: k(`key-${(i * 17) % 40}`), value, commitTs: BigInt(i), tombstone: false });
  }
  for (let i = 0; i < 2000; i++) records.push({ key: k(`small-${(i * 7919) % 2000}`), value: Buffer.alloc(i % 50, i & 0xff), commitTs: 1n, tombstone: false });
  const conv = createJsonlToFsm({ scratchDir: dir });
  const fsm = await run(conv, split(Buffer.from(records.map((r) => inputLine(r)).join('')), [65536]));
  t.true(fsm.equals(buildFsm(model(records), { lastCommitTs: 39n })));
  t.is(conv.stats.spilledBytes, records.reduce((n, r) => n + r.value!.length, 0));
  t.false(conv.stats.inputSorted);
  clean(t, dir);
});

test('SnapshotRecords in: createFsmWriter behind createSnapshotReader', async (t) => {
  const entries: FsmTestEntry[] = [
    { key: 'b', value: 'x', commitTs: 2n },
    { key: 'a', value: 'y', commitTs: 3n, tombstone: true },
    { key: 'a', value: 'z', commitTs: 1n },
  ];
  const unsorted = buildFsm(entries, { header: 'v1', footer: true, lastCommitTs: 50n });
  const out: Buffer[] = [];
  await pipeline(
    Readable.from([unsorted]),
    createSnapshotReader(),
    createFsmWriter({ scratchDir: scratch(t), lastCommitTs: 50n }),
    new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
  );
  t.deepEqual(Buffer.concat(out), buildFsm(entries, { sort: true, lastCommitTs: 50n }));
});

test('output waits for the reader (backpressure on the readable side)', async (t) => {
  const records: Rec[] = [];
  for (let i = 0; i < 30000; i++) records.push({ key: k(`k${i}`), value: Buffer.alloc(200, i & 0xff), commitTs: 1n, tombstone: false });
  const conv = createJsonlToFsm({ scratchDir: scratch(t) });
  conv.end(Buffer.from(records.map((r) => inputLine(r)).join('')));
  conv.read(0); // ask for data once, then read nothing
  await new Promise((r) => conv.once('finish', r));
  await new Promise((r) => setTimeout(r, 100));
  t.true(conv.stats.bytesOut > 0);
  t.true(conv.stats.bytesOut < 4 << 20, `produced ${conv.stats.bytesOut} bytes while not read`);
  const out: Buffer[] = [];
  for await (const c of conv) out.push(c as Buffer);
  t.true(Buffer.concat(out).equals(buildFsm(model(records), { lastCommitTs: 1n })));
});

test('errors: bad lines name the line; a native input is recognised; oversize keys', async (t) => {
  const dir = scratch(t);
  const bad = async (input: string | Buffer, code: string, re: RegExp) => {
    const err = await t.throwsAsync(run(createJsonlToFsm({ scratchDir: dir }), [Buffer.from(input)]), { instanceOf: DecodeError });
    t.is(err?.code as string | undefined, code);
    t.regex(err?.message ?? '', re);
  };
  await bad('{"key":"YQ==","value":"Yg=="}\n\n{"key":"YQ=","value":""}\n', 'ERR_JSONL_LINE', /^line 3: "key": /);
  await bad('{"key":"YQ==","value":"Yg=="}\nnot json\n', 'ERR_JSONL_LINE', /^line 2: not valid JSON/);
  await bad('{"key":"YQ=="}\n', 'ERR_JSONL_LINE', /missing "value"/);
  await bad(buildFsm([{ key: 'a', value: 'b' }], { header: 'v1' }), 'ERR_JSONL_LINE', /native snapshot, not JSON lines/);
  await bad(`{"key":"${Buffer.alloc((1 << 20) + 1).toString('base64')}","value":""}\n`, 'ERR_JSONL_LINE', /^line 1: key of 1048577 bytes is longer than the 1 MiB/);
  clean(t, dir);
});

test('the scratch directory is removed on success, on error and on destroy', async (t) => {
  const dir = scratch(t);
  await run(createJsonlToFsm({ scratchDir: dir }), [Buffer.from('{"key":"YQ==","value":"Yg=="}\n')]);
  t.deepEqual(fs.readdirSync(dir), []);
  await t.throwsAsync(run(createJsonlToFsm({ scratchDir: dir }), [Buffer.from('{"key":"YQ==","value":"Yg=="}\n{\n')]));
  t.deepEqual(fs.readdirSync(dir), []);
  const conv = createJsonlToFsm({ scratchDir: dir });
  conv.write(Buffer.from('{"key":"YQ==","value":"Yg=="}\n'));
  await new Promise((r) => setImmediate(r));
  conv.destroy();
  await new Promise((r) => conv.on('close', r));
  t.deepEqual(fs.readdirSync(dir), []);
  const missing = path.join(dir, 'nope', 'deeper');
  const err = await t.throwsAsync(run(createJsonlToFsm({ scratchDir: missing }), []), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_IO');
  clean(t, dir);
});
