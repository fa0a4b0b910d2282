// SPEC §9: a value larger than a block is never held whole — it travels as
// its record followed by ValuePiece items (lib/stages/value-pieces.ts), from
// the native decoder through the resolver, classifier and filter to the
// spiller, which writes and hashes it piece by piece.
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FsmDecoder } from '../lib/core/fsm-decoder.js';
import { DecodeError } from '../lib/errors.js';
import { createKeyClassifier } from '../lib/stages/classify.js';
import { createRecordFilter } from '../lib/stages/filter.js';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import { createVersionResolver } from '../lib/stages/resolve-versions.js';
import { createBlobSpiller } from '../lib/stages/spill.js';
import type { ClassifiedRecord, SealedRunRecord, SnapshotRecord, SpilledBlobRecord, SpilledChunkBlobRecord, SpilledRecord, ValuePiece } from '../lib/types.js';
import { buildFsm, buildFsmPreamble, type FsmTestEntry } from './helpers/fsm.js';
import { run as runFsm } from './helpers/fsm-decode.js';
import { blobKey, chunkblobKey, manifestKey } from './helpers/keys.js';

const MiB = 1 << 20;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A deterministic byte pattern (not a repeated byte, so misplaced pieces show). */
const pattern = (n: number, seed = 1): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  return b;
};
const piece = (bytes: Buffer | string, last: boolean): ValuePiece => ({ kind: 'piece', bytes: Buffer.from(bytes), last });

// ---------------------------------------------------------------- decoder

type Item = { key: string; value: string | null; valueLength?: number; tombstone: boolean; offset?: number } | { piece: string; last: boolean };

/** Decodes `input` cut at `cuts`, with values over `pieceBytes` in pieces; records and pieces in emission order. */
function decodeItems(input: Buffer, cuts: number[], pieceBytes: number, valueBuffer?: (n: number) => Buffer): Item[] {
  const items: Item[] = [];
  const d = new FsmDecoder({
    pieceBytes,
    onPiece: (p) => items.push({ piece: p.bytes.toString('hex'), last: p.last }),
    ...(valueBuffer ? { valueBuffer } : {}),
  });
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    d.write(input.subarray(prev, c), (r) =>
      items.push({ key: r.key.toString(), value: r.value === null ? null : r.value.toString('hex'), ...(r.valueLength !== undefined ? { valueLength: r.valueLength } : {}), tombstone: r.tombstone, offset: r.where.offset }),
    );
    prev = c;
  }
  d.end();
  return items;
}

const BIG = pattern(100);
const ENTRIES: FsmTestEntry[] = [
  { key: 'a-small', value: 'tiny' },
  { key: 'b-big', value: BIG, commitTs: 7n },
  { key: 'c-exact', value: pattern(16, 2) },
  { key: 'd-tomb', value: pattern(40, 3), tombstone: true },
  { key: 'e-after', value: 'end' },
];

/** What the decoder must emit for ENTRIES with 16-byte pieces, written out from the format, not from the decoder. */
function expectedItems(): Item[] {
  const start = buildFsmPreamble().length;
  const entryLen = (e: FsmTestEntry) => 16 + Buffer.from(e.key).length + 8 + 9 + Buffer.from(e.value ?? '').length;
  const offsets: number[] = [];
  let off = start;
  for (const e of ENTRIES) {
    offsets.push(off);
    off += entryLen(e);
  }
  const pieces = (v: Buffer): Item[] => {
    const out: Item[] = [];
    for (let i = 0; i < v.length; i += 16) out.push({ piece: v.subarray(i, i + 16).toString('hex'), last: i + 16 >= v.length });
    return out;
  };
  const tomb = pattern(40, 3);
  return [
    { key: 'a-small', value: Buffer.from('tiny').toString('hex'), tombstone: false, offset: offsets[0]! },
    { key: 'b-big', value: null, valueLength: 100, tombstone: false, offset: offsets[1]! },
    ...pieces(BIG),
    { key: 'c-exact', value: pattern(16, 2).toString('hex'), tombstone: false, offset: offsets[2]! },
    { key: 'd-tomb', value: null, valueLength: 40, tombstone: true, offset: offsets[3]! },
    ...pieces(tomb),
    { key: 'e-after', value: Buffer.from('end').toString('hex'), tombstone: false, offset: offsets[4]! },
  ];
}

test('decoder: a value longer than pieceBytes is its record (value null, valueLength) then pieces of at most pieceBytes; one of exactly pieceBytes stays whole', (t) => {
  t.deepEqual(decodeItems(buildFsm(ENTRIES), [], 16), expectedItems());
});

test('decoder: the same records and pieces whatever the input boundaries (every single cut, and many cuts)', (t) => {
  const input = buildFsm(ENTRIES);
  const want = expectedItems();
  for (let c = 1; c < input.length; c++) t.deepEqual(decodeItems(input, [c], 16), want, `cut at ${c}`);
  for (const step of [1, 2, 3, 5, 7, 16, 17, 33]) {
    const cuts: number[] = [];
    for (let c = step; c < input.length; c += step) cuts.push(c);
    t.deepEqual(decodeItems(input, cuts, 16), want, `cuts every ${step} bytes`);
  }
});

test('decoder: a 5 MiB value fed in 64 KiB reads comes as 1 MiB pieces, each from valueBuffer, none larger', (t) => {
  const value = pattern(5 * MiB + 3, 4);
  const input = buildFsm([{ key: 'k', value }]);
  const asked: number[] = [];
  const cuts: number[] = [];
  for (let c = 64 * 1024; c < input.length; c += 64 * 1024) cuts.push(c);
  const items = decodeItems(input, cuts, MiB, (n) => (asked.push(n), Buffer.allocUnsafe(n)));
  const pieces = items.filter((i): i is { piece: string; last: boolean } => 'piece' in i);
  t.deepEqual(pieces.map((p) => p.piece.length / 2), [MiB, MiB, MiB, MiB, MiB, 3]);
  t.deepEqual(pieces.map((p) => p.last), [false, false, false, false, false, true]);
  t.deepEqual(asked, [MiB, MiB, MiB, MiB, MiB, 3]);
  t.is(sha256(Buffer.concat(pieces.map((p) => Buffer.from(p.piece, 'hex')))), sha256(value));
});

test('decoder: EOF inside a value in pieces is the same ERR_SNAPSHOT_TRUNCATED (offset, bytes present) as for a whole value', (t) => {
  const input = buildFsm(ENTRIES);
  const start = buildFsmPreamble().length + 16 + 'a-small'.length + 8 + 9 + 4;
  const bodyStart = start + 16 + 'b-big'.length + 8 + 9;
  for (const cut of [bodyStart + 1, bodyStart + 16, bodyStart + 50, bodyStart + 99]) {
    const whole = runFsm(input.subarray(0, cut));
    const pieced = runFsm(input.subarray(0, cut), [], { pieceBytes: 16, onPiece: () => {} });
    t.false(pieced.ok);
    if (whole.ok || pieced.ok) continue;
    t.is(pieced.code, 'ERR_SNAPSHOT_TRUNCATED');
    t.is(pieced.offset, start);
    t.is(pieced.message, whole.message);
    t.regex(pieced.message, new RegExp(`its value body of 100 bytes \\(${cut - bodyStart} bytes present\\)`));
  }
});

// ---------------------------------------------------------------- reader

test('reader: valuePieces turns a native value over 1 MiB into pieces; without it (the library default) the value is whole', async (t) => {
  const value = pattern(3 * MiB + 5, 5);
  const input = buildFsm([{ key: 'k', value }, { key: 'l', value: 'x' }]);
  const read = async (valuePieces: boolean) => {
    const out: Array<SnapshotRecord | ValuePiece> = [];
    const reader = createSnapshotReader({ valuePieces });
    await pipeline(Readable.from([input]), reader, new Writable({ objectMode: true, write: (r: SnapshotRecord | ValuePiece, _e, cb) => (out.push('kind' in r ? { ...r, bytes: Buffer.from(r.bytes) } : r), cb()) }));
    return { out, records: reader.records };
  };
  const pieced = await read(true);
  t.is(pieced.records, 2);
  t.deepEqual(pieced.out.map((r) => ('kind' in r ? `piece ${r.bytes.length}${r.last ? ' last' : ''}` : `${r.key.toString()} ${r.valueLength}`)), ['k 3145733', `piece ${MiB}`, `piece ${MiB}`, `piece ${MiB}`, 'piece 5 last', 'l undefined']);
  t.is(sha256(Buffer.concat(pieced.out.filter((r): r is ValuePiece => 'kind' in r).map((p) => p.bytes))), sha256(value));
  const whole = await read(false);
  t.is(whole.out.length, 2);
  t.is(sha256((whole.out[0] as SnapshotRecord).value!), sha256(value));
});

// ---------------------------------------------------------------- stages before the spiller

async function through<T>(stage: Transform, items: unknown[]): Promise<T[]> {
  const out: T[] = [];
  await pipeline(Readable.from(items), stage, new Writable({ objectMode: true, write: (r: T, _e, cb) => (out.push(r), cb()) }));
  return out;
}

const snap = (key: Buffer | string, valueLength: number | undefined, commitTs = 5n, tombstone = false): SnapshotRecord => ({
  key: Buffer.from(key),
  value: valueLength === undefined ? Buffer.from('v') : null,
  ...(valueLength !== undefined ? { valueLength } : {}),
  commitTs,
  tombstone,
  where: { offset: 0 },
});
const describeItem = (r: { kind?: string; key?: Buffer; bytes?: Buffer; last?: boolean }): string => (r.kind === 'piece' ? `piece ${r.bytes!.toString()}${r.last ? '.' : ''}` : `rec ${r.key!.toString()}`);

test('resolver: the pieces of a superseded version are dropped with it; those of the winner pass right behind it', async (t) => {
  const out = await through<{ key?: Buffer; kind?: string }>(createVersionResolver(), [
    snap('a', 4, 9n),
    piece('ab', false),
    piece('cd', true),
    snap('a', 2, 3n),
    piece('xy', true),
    snap('b', undefined),
  ]);
  t.deepEqual(out.map(describeItem), ['rec a', 'piece ab', 'piece cd.', 'rec b']);
});

test('classifier: a blob or chunkblob keeps its pieces (payloadLength); a manifest is gathered whole; a tombstone or a foreign key drops them', async (t) => {
  const bk = blobKey({ bucket: 'b', generation: 1, object: 'o', uploadId: 'u', partNo: 1, chunkNo: 0 });
  const digest = 'ab'.repeat(32);
  const out = await through<ClassifiedRecord | ValuePiece>(createKeyClassifier(), [
    snap(bk, 4),
    piece('ab', false),
    piece('cd', true),
    snap(chunkblobKey(digest), 2),
    piece('ef', true),
    snap(manifestKey('b', 1, 'o'), 5),
    piece('{"a"', false),
    piece(':1}', true),
    snap(bk, 2, 9n, true),
    piece('tt', true),
    snap('!redis|x', 2),
    piece('rr', true),
  ]);
  t.deepEqual(
    out.map((r) => (r.kind === 'piece' ? describeItem(r) : `${r.kind} ${'payloadLength' in r ? r.payloadLength : ''}${'value' in r && r.value ? ` ${r.value.toString()}` : ''}`)),
    ['blob 4', 'piece ab', 'piece cd.', 'chunkblob 2', 'piece ef.', 'manifest  {"a":1}', 'blob '],
  );
  const tomb = out.at(-1) as ClassifiedRecord;
  t.true(tomb.kind === 'blob' && tomb.tombstone && tomb.payload === null);
});

test('filter: the pieces of a record of another bucket are dropped with it', async (t) => {
  const key = (bucket: string) => blobKey({ bucket, generation: 1, object: 'o', uploadId: 'u', partNo: 1, chunkNo: 0 });
  const classified = await through<ClassifiedRecord | ValuePiece>(createKeyClassifier(), [snap(key('x'), 2), piece('xx', true), snap(key('keep'), 2), piece('kk', true)]);
  const out = await through<ClassifiedRecord | ValuePiece>(createRecordFilter({ buckets: ['keep'] }), classified);
  t.deepEqual(out.map((r) => (r.kind === 'piece' ? describeItem(r) : `${r.kind} ${r.kind === 'blob' ? r.addr.bucket.toString() : ''}`)), ['blob keep', 'piece kk.']);
});

// ---------------------------------------------------------------- spiller

async function spill(items: Array<ClassifiedRecord | ValuePiece>): Promise<{ out: SpilledRecord[]; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pieces-'));
  try {
    return { out: await through<SpilledRecord>(createBlobSpiller({ scratchDir: dir }), items), dir };
  } catch (e) {
    fs.rmSync(dir, { recursive: true });
    throw e;
  }
}

const address = (partNo: number, chunkNo: number) => ({ bucket: Buffer.from('b'), generation: 1n, object: Buffer.from('o'), uploadId: Buffer.from('u'), partNo: BigInt(partNo), chunkNo: BigInt(chunkNo), partVersion: 0n });
const blobRec = (partNo: number, chunkNo: number, payload: Buffer | number): ClassifiedRecord => ({
  kind: 'blob',
  addr: address(partNo, chunkNo),
  ...(typeof payload === 'number' ? { payload: null, payloadLength: payload } : { payload }),
  tombstone: false,
  where: { offset: 0 },
  key: Buffer.from('k'),
});
/** A payload as pieces of at most `size` bytes. */
const piecesOf = (payload: Buffer, size: number): ValuePiece[] => {
  const out: ValuePiece[] = [];
  for (let i = 0; i < payload.length; i += size) out.push(piece(payload.subarray(i, i + size), i + size >= payload.length));
  return out;
};
const readSpan = (s: { file: { path: string }; offset: number; length: number }) => fs.readFileSync(s.file.path).subarray(s.offset, s.offset + s.length);

test('spiller: a chunk 0 in pieces starts a run that the next chunk continues; the run holds and hashes the body', async (t) => {
  const big = pattern(3 * 1000 + 1, 6);
  const next = pattern(70 * 1024, 7);
  const { out, dir } = await spill([blobRec(1, 0, big.length), ...piecesOf(big, 1000), blobRec(1, 1, next)]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const blobs = out.filter((r): r is SpilledBlobRecord => r.kind === 'blob');
  t.deepEqual(blobs.map((b) => [b.addr.chunkNo, b.span!.file.kind, b.span!.offset, b.span!.length]), [[0n, 'run', 0, big.length], [1n, 'run', big.length, next.length]]);
  t.is(blobs[0]!.span!.file, blobs[1]!.span!.file);
  const body = Buffer.concat([big, next]);
  t.is(sha256(fs.readFileSync(blobs[0]!.span!.file.path)), sha256(body));
  const run = out.find((r): r is SealedRunRecord => r.kind === 'run')!.run;
  t.is(run.size, body.length);
  t.is(run.hashes.sha256.toString('hex'), sha256(body));
  t.is(run.hashes.parts[0]!.md5!.toString('hex'), createHash('md5').update(body).digest('hex'));
});

test('spiller: a later chunk in pieces that continues no run goes to the pool, in one span', async (t) => {
  const big = pattern(2500, 8);
  const { out, dir } = await spill([blobRec(2, 3, big.length), ...piecesOf(big, 1000)]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const b = out.find((r): r is SpilledBlobRecord => r.kind === 'blob')!;
  t.is(b.span!.file.kind, 'pool');
  t.is(sha256(readSpan(b.span!)), sha256(big));
});

test('spiller: a chunkblob in pieces is hashed as it arrives: a match is stored in the pool, a mismatch fails the run', async (t) => {
  const payload = pattern(2500, 9);
  const cbRec = (digest: string): ClassifiedRecord => ({ kind: 'chunkblob', digest, payload: null, payloadLength: payload.length, tombstone: false, where: { offset: 40 }, key: chunkblobKey(digest) });
  const { out, dir } = await spill([cbRec(sha256(payload)), ...piecesOf(payload, 1000)]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const c = out.find((r): r is SpilledChunkBlobRecord => r.kind === 'chunkblob')!;
  t.is(sha256(readSpan(c.span!)), sha256(payload));
  const wrong = 'cd'.repeat(32);
  const err = await t.throwsAsync(spill([cbRec(wrong), ...piecesOf(payload, 1000)]), { instanceOf: DecodeError });
  t.is(err.code, 'ERR_S3_CHUNKBLOB_HASH_MISMATCH');
  t.is(err.context.offset, 40);
  t.regex(err.message, new RegExp(`hashes to ${sha256(payload)}, key says ${wrong}`));
});

test('spiller: a record whose pieces never end is a usage error, not a silent truncation', async (t) => {
  const err = await t.throwsAsync(spill([blobRec(1, 0, 10), piece('abc', false)]), { instanceOf: DecodeError });
  t.is(err.code, 'ERR_USAGE');
});
