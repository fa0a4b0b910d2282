import test, { type ExecutionContext } from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError, type ErrorCode } from '../lib/errors.js';
import { createJsonlReader, createSnapshotReader, type SnapshotReaderOptions } from '../lib/stages/read-snapshot.js';
import type { SnapshotHeader, SnapshotRecord } from '../lib/types.js';
import { buildFsm, withFooter } from './helpers/fsm.js';

// SPEC §2: the input format is detected from the first bytes — EKVPBBL1,
// EKVTHLC… or EKVSSTI1 → native snapshot (§3.2); anything else → JSON lines
// (§3.1); --input-format forces one.

interface Run {
  records: SnapshotRecord[];
  headers: SnapshotHeader[];
  /** 'header' and 'record' in the order they were observed. */
  events: string[];
  bytesRead: number;
  header: SnapshotHeader | undefined;
}

async function run(chunks: Buffer[], opts?: SnapshotReaderOptions): Promise<Run> {
  const reader = createSnapshotReader(opts);
  const records: SnapshotRecord[] = [];
  const headers: SnapshotHeader[] = [];
  const events: string[] = [];
  reader.on('header', (h: SnapshotHeader) => {
    headers.push(h);
    events.push('header');
  });
  const sink = new Writable({
    objectMode: true,
    write(rec: SnapshotRecord, _enc, cb) {
      records.push(rec);
      events.push('record');
      cb();
    },
  });
  await pipeline(Readable.from(chunks), reader, sink);
  return { records, headers, events, bytesRead: reader.bytesRead, header: reader.header };
}

async function runFails(t: ExecutionContext, chunks: Buffer[], code: ErrorCode, opts?: SnapshotReaderOptions): Promise<DecodeError | undefined> {
  const err = await t.throwsAsync(run(chunks, opts), { instanceOf: DecodeError });
  t.is(err?.code, code);
  return err;
}

/** Every split of `input` into two chunks, plus 1-byte chunks. */
function splits(input: Buffer): Array<[string, Buffer[]]> {
  const out: Array<[string, Buffer[]]> = [];
  for (let i = 0; i <= input.length; i++) out.push([`split at ${i}`, [input.subarray(0, i), input.subarray(i)].filter((b) => b.length > 0)]);
  const ones: Buffer[] = [];
  for (let i = 0; i < input.length; i++) ones.push(input.subarray(i, i + 1));
  out.push(['1-byte chunks', ones]);
  return out;
}

const JSONL = Buffer.from('{"key":"azE=","value":"djE=","commit_ts":5}\n{"key":"azI=","tombstone":true}\n');
const JSONL_RECORDS: SnapshotRecord[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), commitTs: 5n, tombstone: false, where: { line: 1 } },
  { key: Buffer.from('k2'), value: null, commitTs: 0n, tombstone: true, where: { line: 2 } },
];

const ENTRIES = [
  { key: 'k1', value: 'v1', commitTs: 5n },
  { key: 'k2', commitTs: 3n, tombstone: true },
];
/** The records of ENTRIES when the first entry starts at byte offset `o`. */
function fsmRecords(o: number): SnapshotRecord[] {
  // Entry 1: keyLen(8) + "k1" ‖ ~ts(2 + 8) + valLen(8) + flags(1) + expireAt(8) + "v1"(2) = 37 bytes.
  return [
    { key: Buffer.from('k1'), value: Buffer.from('v1'), commitTs: 5n, tombstone: false, where: { offset: o } },
    { key: Buffer.from('k2'), value: Buffer.alloc(0), commitTs: 3n, tombstone: true, where: { offset: o + 37 } },
  ];
}

// ------------------------------------------------------------ detection

test('detection: EKVPBBL1 first → native snapshot (header carries lastCommitTS)', async (t) => {
  const input = buildFsm(ENTRIES, { lastCommitTs: 9n });
  t.is(input.toString('latin1', 0, 8), 'EKVPBBL1');
  const r = await run([input]);
  t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 9n }]);
  t.deepEqual(r.header, { format: 'fsm', lastCommitTs: 9n });
  t.deepEqual(r.records, fsmRecords(16)); // magic 8 + lastCommitTS 8
});

test('detection: EKVTHLC1 first → native snapshot with an HLC header', async (t) => {
  const input = buildFsm(ENTRIES, { header: 'v1', lastCommitTs: 7n, footer: true });
  t.is(input.toString('latin1', 0, 8), 'EKVTHLC1');
  const r = await run([input]);
  t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 7n }]);
  t.deepEqual(r.records, fsmRecords(32)); // HLC header 16 + 16
});

test('detection: EKVTHLC2 first → native snapshot', async (t) => {
  const input = buildFsm(ENTRIES, { header: 'v2', v2ExtraBytes: 3, lastCommitTs: 7n });
  t.is(input.toString('latin1', 0, 8), 'EKVTHLC2');
  const r = await run([input]);
  t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 7n }]);
  t.deepEqual(r.records, fsmRecords(45)); // 8 + 2 + 16 + 3 extra, then 16
});

test('detection: an EKVTHLC prefix with another version byte is native → ERR_SNAPSHOT_UNKNOWN_HEADER', async (t) => {
  const input = Buffer.concat([Buffer.from('EKVTHLC9'), Buffer.alloc(40)]);
  await runFails(t, [input], 'ERR_SNAPSHOT_UNKNOWN_HEADER');
});

test('detection: EKVSSTI1 first → native, refused as ERR_SNAPSHOT_UNSUPPORTED (not JSONL, not bad magic)', async (t) => {
  const input = Buffer.concat([Buffer.from('EKVSSTI1'), Buffer.alloc(40)]);
  const err = await runFails(t, [input], 'ERR_SNAPSHOT_UNSUPPORTED');
  t.regex(err?.message ?? '', /SST/);
});

test('detection: "{" first → JSON lines', async (t) => {
  const r = await run([JSONL]);
  t.deepEqual(r.headers, [{ format: 'jsonl' }]);
  t.deepEqual(r.header, { format: 'jsonl' });
  t.deepEqual(r.records, JSONL_RECORDS);
});

test('detection: blank lines first are JSON lines too', async (t) => {
  const r = await run([Buffer.concat([Buffer.from('\n\r\n  \n'), JSONL])]);
  t.deepEqual(r.headers, [{ format: 'jsonl' }]);
  t.deepEqual(
    r.records.map((x) => x.where.line),
    [4, 5],
  );
});

test('detection: input that is neither a native magic nor JSON text is ERR_SNAPSHOT_BAD_MAGIC, its first bytes in printable form', async (t) => {
  for (const magic of ['EKVPBBL2', 'ekvpbbl1', 'XKVPBBL1', 'EKVSSTI2', 'EKVTHL_1', '\n\n<html>']) {
    const err = await runFails(t, [Buffer.concat([Buffer.from(magic), Buffer.alloc(16)])], 'ERR_SNAPSHOT_BAD_MAGIC');
    t.is(err?.context.offset, 0, magic);
    t.regex(err?.message ?? '', /neither a native snapshot nor JSON lines/);
  }
  const binary = Buffer.from([0x1b, 0x5d, 0x30, 0x3b, 0x07, 0x00, 0xff, 0x9b, 0x7b]);
  const err = await runFails(t, [binary], 'ERR_SNAPSHOT_BAD_MAGIC');
  t.true(err?.message.includes('\\x1b]0;\\x07\\x00\\xff\\x9b'), err?.message);
  t.false(/[\x00-\x1f\x7f-\x9f]/.test(err?.message ?? ''), 'no control character in the message');
  // Found at the end of an input shorter than 8 bytes too.
  await runFails(t, [Buffer.from('\x00\x01')], 'ERR_SNAPSHOT_BAD_MAGIC');
  // Text that can start JSON is still JSON lines, failing on its line.
  for (const start of ['[1]', '"s"', '-1', '7', 'true', 'false', 'null']) {
    const e = await runFails(t, [Buffer.from(`\n${start}\n`)], 'ERR_JSONL_LINE');
    t.is(e?.context.line, 2, start);
  }
});

test('detection works when the first chunk is shorter than 8 bytes (native, splits around the magic and 1-byte chunks)', async (t) => {
  for (const header of [undefined, 'v1', 'v2'] as const) {
    const input = buildFsm(ENTRIES, header ? { header, lastCommitTs: 1n } : { lastCommitTs: 1n });
    const offset = header === 'v1' ? 32 : header === 'v2' ? 42 : 16; // v2: 8 + 2 + 16, then 16
    const all = splits(input);
    for (const [name, chunks] of [...all.slice(0, 20), all[all.length - 1]!]) {
      const r = await run(chunks);
      t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 1n }], `${header ?? 'bare'} ${name}`);
      t.deepEqual(r.records, fsmRecords(offset), `${header ?? 'bare'} ${name}`);
      t.is(r.bytesRead, input.length);
    }
  }
});

test('detection works when the first chunk is shorter than 8 bytes (JSONL, every split and 1-byte chunks)', async (t) => {
  for (const [name, chunks] of splits(JSONL)) {
    const r = await run(chunks);
    t.deepEqual(r.headers, [{ format: 'jsonl' }], name);
    t.deepEqual(r.records, JSONL_RECORDS, name);
    t.is(r.bytesRead, JSONL.length, name);
  }
});

test('an input shorter than 8 bytes in total is decided at the end: JSON lines', async (t) => {
  const r = await run([Buffer.from('\n \r\n')]);
  t.deepEqual(r.headers, [{ format: 'jsonl' }]);
  t.deepEqual(r.records, []);
  const err = await runFails(t, [Buffer.from('[1]'), Buffer.from('\n')], 'ERR_JSONL_LINE');
  t.is(err?.context.line, 1);
});

test('an empty input (0 bytes) is JSON lines with no records', async (t) => {
  const r = await run([]);
  t.deepEqual(r.headers, [{ format: 'jsonl' }]);
  t.deepEqual(r.header, { format: 'jsonl' });
  t.deepEqual(r.records, []);
  t.is(r.bytesRead, 0);
});

// ------------------------------------------------------------ forced format

test('forced format jsonl: a native magic is then just an invalid JSON line', async (t) => {
  const err = await runFails(t, [buildFsm(ENTRIES)], 'ERR_JSONL_LINE', { format: 'jsonl' });
  t.is(err?.context.line, 1);
  const r = await run([JSONL], { format: 'jsonl' });
  t.deepEqual(r.records, JSONL_RECORDS);
  const r2 = await run([JSONL], {});
  t.deepEqual(r2.records, JSONL_RECORDS);
});

test('createJsonlReader forces JSON lines', async (t) => {
  const reader = createJsonlReader();
  const out: SnapshotRecord[] = [];
  const err = await t.throwsAsync(
    pipeline(
      Readable.from([buildFsm(ENTRIES)]),
      reader,
      new Writable({ objectMode: true, write: (r: SnapshotRecord, _e, cb) => (out.push(r), cb()) }),
    ),
    { instanceOf: DecodeError },
  );
  t.is(err?.code, 'ERR_JSONL_LINE');
});

test('forced format fsm: JSON input is a bad magic', async (t) => {
  await runFails(t, [JSONL], 'ERR_SNAPSHOT_BAD_MAGIC', { format: 'fsm' });
});

test('forced format fsm: decodes a native snapshot fed in 1-byte chunks', async (t) => {
  const input = buildFsm(ENTRIES, { lastCommitTs: 2n });
  const chunks: Buffer[] = [];
  for (let i = 0; i < input.length; i++) chunks.push(input.subarray(i, i + 1));
  const r = await run(chunks, { format: 'fsm' });
  t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 2n }]);
  t.deepEqual(r.records, fsmRecords(16));
});

test('forced format fsm: an empty input is a truncated snapshot', async (t) => {
  await runFails(t, [], 'ERR_SNAPSHOT_TRUNCATED', { format: 'fsm' });
});

// ------------------------------------------------------------ 'header' event

test("'header' is emitted once, before the first record (native and JSONL)", async (t) => {
  const a = await run([buildFsm(ENTRIES, { lastCommitTs: 4n })]);
  t.deepEqual(a.events, ['header', 'record', 'record']);
  const b = await run([JSONL]);
  t.deepEqual(b.events, ['header', 'record', 'record']);
});

test("'header' of a native snapshot without entries", async (t) => {
  const r = await run([buildFsm([], { lastCommitTs: 18446744073709551615n })]);
  t.deepEqual(r.headers, [{ format: 'fsm', lastCommitTs: 18446744073709551615n }]);
  t.deepEqual(r.records, []);
});

// ------------------------------------------------------------ errors

test('errors surface through stream/promises pipeline: truncated native snapshot', async (t) => {
  const input = buildFsm(ENTRIES);
  const err = await runFails(t, [input.subarray(0, input.length - 1)], 'ERR_SNAPSHOT_TRUNCATED');
  t.is(err?.context.offset, 53); // the second entry starts at 16 + 37
});

test('errors surface through stream/promises pipeline: bad JSONL line, with its line number', async (t) => {
  const input = Buffer.concat([JSONL, Buffer.from('\n{"key":"a b"}\n'), JSONL]);
  const err = await runFails(t, [input], 'ERR_JSONL_LINE');
  t.is(err?.context.line, 4);
});

test('errors surface through stream/promises pipeline: bad last JSONL line (no newline) at flush', async (t) => {
  const err = await runFails(t, [JSONL, Buffer.from('{"key":"azE="')], 'ERR_JSONL_LINE');
  t.is(err?.context.line, 3);
});

test('errors surface through stream/promises pipeline: native CRC footer mismatch', async (t) => {
  const input = buildFsm(ENTRIES, { footer: true });
  input[input.length - 1] = input[input.length - 1]! ^ 0xff;
  await runFails(t, [input], 'ERR_SNAPSHOT_CRC_MISMATCH');
});

// ------------------------------------------------------------ the footer speaks for the whole file

test('a damaged byte in a snapshot with a footer is ERR_SNAPSHOT_CRC_MISMATCH, not the record error it causes (file or pipe-sized chunks)', async (t) => {
  const entries = [...ENTRIES, { key: 'k3', value: 'v3'.repeat(100), commitTs: 1n }];
  const flags = 32 + 26; // EKVTHLC1 header (16) + EKVPBBL1 ‖ lastCommitTS (16), then keyLen, key ‖ ~ts, valLen: the first flags byte
  const keyLen = 32 + 37 + 7; // top byte of the second entry's keyLen: an oversize length
  for (const [at, byte, recordError] of [
    [flags, 0x08, 'ERR_SNAPSHOT_RESERVED_FLAGS'],
    [flags, 0x02, 'ERR_SNAPSHOT_ENCRYPTED'],
    [keyLen, 0x7f, 'ERR_SNAPSHOT_CORRUPT'],
  ] as const) {
    const good = buildFsm(entries, { header: 'v1', lastCommitTs: 7n, footer: true });
    const bad = Buffer.from(good);
    bad[at] = byte;
    for (const chunks of [[bad], splits(bad).at(-1)![1], [bad.subarray(0, at + 1), bad.subarray(at + 1)]]) {
      const err = await runFails(t, chunks, 'ERR_SNAPSHOT_CRC_MISMATCH');
      t.regex(err?.message ?? '', new RegExp(`first problem found: ${recordError}`));
    }
    // The same damage under a footer that matches it: the record error is real and is reported.
    await runFails(t, [withFooter(bad.subarray(0, bad.length - 4))], recordError);
    // A bare stream without footer: nothing speaks for the file, the record error stands.
    const bare = buildFsm(entries, { lastCommitTs: 7n });
    const bareBad = Buffer.from(bare);
    bareBad[at - 16] = byte;
    await runFails(t, [bareBad], recordError);
  }
});

test('emptyIsError: an input of 0 bytes is ERR_IO naming the source (decodeSnapshot asks for it)', async (t) => {
  const err = await runFails(t, [], 'ERR_IO', { emptyIsError: true, source: 'snap.fsm' });
  t.regex(err?.message ?? '', /snap\.fsm: input is empty/);
  t.deepEqual((await run([Buffer.from('\n')], { emptyIsError: true })).records, [], 'a blank line is not empty');
});

test('footerVerified: true after a matching CRC32C footer, false (with snapshot_unverified) without one, undefined for JSON lines', async (t) => {
  const warnings: unknown[] = [];
  const readWith = async (input: Buffer) => {
    const reader = createSnapshotReader({ onWarning: (w) => warnings.push(w), source: 'snap.fsm' });
    await pipeline(Readable.from([input]), reader, new Writable({ objectMode: true, write: (_r, _e, cb) => cb() }));
    return reader.footerVerified;
  };
  t.true(await readWith(withFooter(buildFsm(ENTRIES, { header: 'v1' }))));
  t.deepEqual(warnings, []);
  t.false(await readWith(buildFsm(ENTRIES, { header: 'v1' })));
  t.like(warnings, [{ event: 'snapshot_unverified', input: 'snap.fsm' }]);
  warnings.length = 0;
  t.is(await readWith(Buffer.from('{"key":"YQ==","value":"Yg=="}\n')), undefined);
  t.deepEqual(warnings, []);
});
