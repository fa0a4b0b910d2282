import test from 'ava';
import { createHash } from 'node:crypto';
import { FsmDecoder } from '../lib/core/fsm-decoder.js';
import { JsonlDecoder } from '../lib/core/jsonl-decoder.js';
import { DecodeError } from '../lib/errors.js';
import { BLOCK_BYTES, blockOf, hold, release, releaseBlock, takeBlock, takeShared, takeValueBuffer } from '../lib/io/shared-blocks.js';
import { openInputFile } from '../lib/io/input-file.js';
import { alignedAt } from '../lib/io/aligned-memory.js';
import { createFsmReader } from '../lib/stages/read-snapshot.js';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HashPool } from '../lib/stages/hash-pool.js';
import type { SnapshotRecord } from '../lib/types.js';
import { buildFsm } from './helpers/fsm.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff));

test('takeValueBuffer: blob-chunk-sized values (64 KiB to 1 MiB) get a block, others a plain buffer', (t) => {
  for (const n of [0, 100, 64 * 1024 - 1, BLOCK_BYTES + 1]) {
    const b = takeValueBuffer(n);
    t.is(b.length, n);
    t.false(b.buffer instanceof SharedArrayBuffer, `${n} bytes`);
  }
  for (const n of [64 * 1024, BLOCK_BYTES]) {
    const b = takeValueBuffer(n);
    t.is(b.length, n);
    t.truthy(blockOf(b), `${n} bytes`);
    releaseBlock(b);
  }
});

test('takeShared: whole 64 KiB pages (blocks, input reads) are page-aligned memory that O_DIRECT can write from; other sizes plain shared memory', (t) => {
  const block = takeBlock(1000);
  t.true(alignedAt(block, 0));
  t.true(alignedAt(takeShared(4 << 20), 0));
  const odd = takeShared(1000);
  t.is(odd.length, 1000);
  t.true(odd.buffer instanceof SharedArrayBuffer);
  t.false(alignedAt(odd, 0));
  releaseBlock(block);
});

test('a block is reused only once every hold is released, and a second release of a free block does not free it twice', (t) => {
  const a = takeBlock(1000);
  const sab = blockOf(a)!;
  hold(sab); // a reader
  releaseBlock(a); // the owner is done, the reader is not
  const b = takeBlock(1000);
  t.not(b.buffer, sab, 'still held: not handed out again');
  release(sab); // the reader is done: free
  t.is(blockOf(a), undefined);
  release(sab); // a bug elsewhere: must not put it on the free list twice
  const c = takeBlock(10);
  const d = takeBlock(10);
  t.is(c.buffer, sab, 'the freed block is reused');
  t.not(d.buffer, sab, 'and handed out once only');
  for (const x of [b, c, d]) releaseBlock(x);
});

test('FsmDecoder with valueBuffer: every large value is copied or assembled into its buffer, for every split point, so the input can be reused', (t) => {
  const value = pattern(70_000, 3);
  const input = buildFsm([{ key: 'k1', value: 'small', commitTs: 1n }, { key: 'k2', value, commitTs: 2n }], { header: 'v1', footer: true });
  for (const split of [20, 40, 41, 1000, 35_000, input.length - 10, input.length]) {
    const given: Buffer[] = [];
    const d = new FsmDecoder({ valueBuffer: (n) => (given.push(Buffer.alloc(n)), given[given.length - 1]!) });
    const out: SnapshotRecord[] = [];
    for (const piece of [input.subarray(0, split), input.subarray(split)].map((p) => Buffer.from(p))) {
      d.write(piece, (r) => out.push(r));
      piece.fill(0xee); // the caller reuses its read buffer
    }
    d.end();
    t.deepEqual(out[1]!.value, value, `split at ${split}`);
    t.deepEqual(out.map((r) => r.key.toString()), ['k1', 'k2']);
    t.deepEqual(out[0]!.value, Buffer.from('small'));
    t.is(given.length, 1, `split at ${split}`);
    t.is(out[1]!.value, given[0]!);
  }
});

test('JSONL with a reusing framer: lines and values survive the reuse of every input chunk', (t) => {
  const value = pattern(200_000, 5);
  const text = Buffer.from(`{"key":"azE=","value":"${value.toString('base64')}"}\n{"key":"azI=","value":"djE="}\n`);
  for (const size of [7, 4096, 65_536, 100_000]) {
    const d = new JsonlDecoder(undefined, takeValueBuffer);
    const out: SnapshotRecord[] = [];
    for (let at = 0; at < text.length; at += size) {
      const piece = Buffer.from(text.subarray(at, at + size));
      d.write(piece, (r) => out.push(r));
      piece.fill(0x41);
    }
    d.end(() => {});
    t.deepEqual(out.map((r) => [r.key.toString(), r.value]), [['k1', value], ['k2', Buffer.from('v1')]], `pieces of ${size}`);
    releaseBlock(out[0]!.value!);
  }
});

test('JSONL: a value decoded into a block is the same bytes; bad base64 there still names its line', (t) => {
  const value = pattern(90_000, 9);
  const line = (v: string) => `{"key":"azE=","value":"${v}","commit_ts":1}\n`;
  const d = new JsonlDecoder(undefined, takeValueBuffer);
  const out: SnapshotRecord[] = [];
  d.write(Buffer.from(line(value.toString('base64'))), (r) => out.push(r));
  t.deepEqual(out[0]!.value, value);
  t.truthy(blockOf(out[0]!.value!));
  releaseBlock(out[0]!.value!);
  const bad = value.toString('base64');
  const damaged = `${bad.slice(0, 50_000)}*${bad.slice(50_001)}`;
  const err = t.throws(() => d.write(Buffer.from(line(damaged)), () => {}), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_JSONL_LINE');
  t.deepEqual(err?.context, { line: 2 });
  t.regex(err?.message ?? '', /"value": invalid base64 character at position 50000/);
});

test('HashPool: bytes in blocks are hashed in place, the blocks held until hashed; SHA-256 and MD5s of several parts', async (t) => {
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const parts = [pattern(BLOCK_BYTES, 1), pattern(300_000, 2), pattern(BLOCK_BYTES, 3)];
  pool.begin(1);
  const blocks: Buffer[] = [];
  for (const [i, p] of parts.entries()) {
    const b = takeBlock(p.length);
    p.copy(b);
    blocks.push(b);
    await pool.update(1, BigInt(i + 1), 0n, b);
    releaseBlock(b); // the owner (the spiller) is done with it
  }
  const h = await pool.seal(1);
  t.deepEqual(h.sha256, sha256(Buffer.concat(parts)));
  t.deepEqual(
    h.parts.map((p) => [p.partNo, p.length, p.md5]),
    parts.map((p, i) => [BigInt(i + 1), p.length, md5(p)]),
  );
  // Every hold is released: the blocks are free again.
  for (const b of blocks) t.is(blockOf(b), undefined);
});

test('HashPool: a hash worker that dies rejects what waits for it instead of hanging', async (t) => {
  const pool = new HashPool({ md5: true });
  pool.begin(1);
  await pool.update(1, 1n, 0n, pattern(1000, 1));
  const workers = (pool as unknown as { workers: Array<{ thread: { worker: { terminate(): Promise<number> } } }> }).workers;
  await workers[1]!.thread.worker.terminate();
  await t.throwsAsync(pool.seal(1), { message: /hash worker exited/ });
  await pool.close();
});

// Serial: it watches which shared buffers the free lists hand out.
test.serial('a value of 256 KiB or more inside one file read is passed on as a view of the read (no copy), which is not reused until the value is released; one across reads is copied into a block', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-views-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const values = Array.from({ length: 7 }, (_, i) => pattern(300_000 + i, i));
  const file = path.join(dir, 's.fsm');
  fs.writeFileSync(file, buildFsm(values.map((value, i) => ({ key: `k${i}`, value, commitTs: 1n })), { header: 'v1', footer: true }));
  const READ = 2 * BLOCK_BYTES; // reads and blocks differ in size, so each value shows where it lies
  const got: Buffer[] = [];
  await pipeline(
    await openInputFile(file, { readSize: READ, shared: true }),
    createFsmReader(),
    new Writable({ objectMode: true, write: (r: SnapshotRecord, _e, cb) => (got.push(r.value!), cb()) }),
  );
  t.deepEqual(got.map((v) => sha256(v).toString('hex')), values.map((v) => sha256(v).toString('hex')));
  const views = got.filter((v) => v.buffer.byteLength === READ);
  const copies = got.filter((v) => v.buffer.byteLength === BLOCK_BYTES);
  // 7 values of ~300 KB in 2 MiB reads: 6 lie inside a read, 1 straddles the first boundary.
  t.is(views.length, 6);
  t.is(copies.length, 1);
  for (const v of got) t.truthy(blockOf(v), 'held for the consumer');
  const viewed = new Set(views.map((v) => v.buffer));
  const taken = Array.from({ length: 4 }, () => takeShared(READ));
  t.false(taken.some((b) => viewed.has(b.buffer as SharedArrayBuffer)), 'a read buffer a value still views is not handed out again');
  for (const b of taken) releaseBlock(b);
  for (const v of got) releaseBlock(v);
  for (const v of got) t.is(blockOf(v), undefined, 'released by its last holder');
  const again = Array.from({ length: 8 }, () => takeShared(READ));
  t.true(again.some((b) => viewed.has(b.buffer as SharedArrayBuffer)), 'once released, a read buffer is reused');
  for (const b of again) releaseBlock(b);
});

test('openInputFile reads into shared memory only when asked: other consumers, which do not hand reads back, get plain buffers', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-plain-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, pattern(3 * 65536 + 5, 9));
  for (const shared of [false, true]) {
    const kinds = new Set<string>();
    const got: Buffer[] = [];
    for await (const c of await openInputFile(file, { readSize: 65536, shared })) {
      kinds.add((c as Buffer).buffer.constructor.name);
      got.push(Buffer.from(c as Buffer));
    }
    t.deepEqual([...kinds], [shared ? 'SharedArrayBuffer' : 'ArrayBuffer']);
    t.true(Buffer.concat(got).equals(fs.readFileSync(file)));
  }
});

// Serial: it watches which shared buffers hold the pieces.
test.serial('the pieces of a value too large for one block are views of the file read they lie in, not copies; one across reads is copied', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-pieceviews-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const value = pattern(2 * BLOCK_BYTES + 400_000, 7); // pieces of 1 MiB, 1 MiB and 400 000 bytes
  const file = path.join(dir, 's.fsm');
  fs.writeFileSync(file, buildFsm([{ key: 'big', value, commitTs: 1n }], { header: 'v1', footer: true }));
  for (const [READ, views] of [[8 * BLOCK_BYTES, 3], [2 * BLOCK_BYTES + 200_000, 2]] as const) {
    const pieces: Buffer[] = [];
    await pipeline(
      await openInputFile(file, { readSize: READ, shared: true }),
      createFsmReader({ valuePieces: true }),
      new Writable({ objectMode: true, write: (item: SnapshotRecord | { kind: 'piece'; bytes: Buffer }, _e, cb) => ('kind' in item ? (pieces.push(item.bytes), cb()) : cb()) }),
    );
    t.deepEqual(pieces.map((p) => p.length), [BLOCK_BYTES, BLOCK_BYTES, 400_000]);
    t.true(Buffer.concat(pieces).equals(value));
    // With reads of 2 MiB + 200 000 bytes the third piece straddles the first read's end.
    t.is(pieces.filter((p) => p.buffer.byteLength === READ).length, views, `${READ} byte reads`);
    for (const p of pieces) releaseBlock(p);
  }
});
