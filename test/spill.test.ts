import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DecodeError } from '../lib/errors.js';
import { spyOnOpen } from './helpers/open-spy.js';
import { continuesRun, createBlobSpiller, RUN_MIN_BYTES } from '../lib/stages/spill.js';
import { PageCacheCost } from '../lib/io/page-cache-cost.js';
import type { ChunkAddress, ClassifiedRecord, SealedRun, SealedRunRecord, SpilledRecord, SpilledBlobRecord, SpilledChunkBlobRecord, SpillFile } from '../lib/types.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

function addr(object: string, partNo: number, chunkNo: number, opts: { partVersion?: number; uploadId?: string; generation?: number; bucket?: string } = {}): ChunkAddress {
  return {
    bucket: Buffer.from(opts.bucket ?? 'bkt'),
    generation: BigInt(opts.generation ?? 1),
    object: Buffer.from(object),
    uploadId: Buffer.from(opts.uploadId ?? 'up'),
    partNo: BigInt(partNo),
    chunkNo: BigInt(chunkNo),
    partVersion: BigInt(opts.partVersion ?? 0),
  };
}

function blob(a: ChunkAddress, payload: string | Buffer): ClassifiedRecord {
  return { kind: 'blob', addr: a, payload: Buffer.from(payload), tombstone: false, where: { line: 1 }, key: Buffer.from('k') };
}

async function spill(
  records: ClassifiedRecord[],
  md5On = true,
  opts: { direct?: boolean; pageCacheCost?: PageCacheCost; seen?: (r: SpilledRecord) => void } = {},
): Promise<{ out: SpilledRecord[]; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spill-'));
  const out: SpilledRecord[] = [];
  try {
    await pipeline(
      Readable.from(records),
      createBlobSpiller({ scratchDir: dir, md5: md5On, direct: opts.direct ?? false, ...(opts.pageCacheCost ? { pageCacheCost: opts.pageCacheCost } : {}) }),
      new Writable({ objectMode: true, write: (r: SpilledRecord, _e, cb) => (opts.seen?.(r), out.push(r), cb()) }),
    );
  } catch (e) {
    fs.rmSync(dir, { recursive: true });
    throw e;
  }
  return { out, dir };
}

/** A payload of `length` bytes of `ch`; first chunks must reach RUN_MIN_BYTES to start a run. */
const fill = (ch: string, length = RUN_MIN_BYTES) => Buffer.alloc(length, ch);

const blobs = (out: SpilledRecord[]) => out.filter((r): r is SpilledBlobRecord => r.kind === 'blob');
/** The sealed run of a spill file, from the SealedRunRecords the spiller emitted. */
const sealed = (out: SpilledRecord[], file: SpillFile): SealedRun => {
  const runs = out.filter((r): r is SealedRunRecord => r.kind === 'run').map((r) => r.run);
  const run = runs.find((r) => r.file.id === file.id);
  if (!run) throw new Error(`run ${file.id} was not sealed`);
  return run;
};

test('chunks in body order form one run file whose bytes are the body', async (t) => {
  const [a, b, c] = [fill('a'), fill('b', 2), fill('c', 1)];
  const { out, dir } = await spill([blob(addr('o', 1, 0), a), blob(addr('o', 1, 1), b), blob(addr('o', 2, 0), c)]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const locs = blobs(out).map((r) => r.span!);
  t.is(new Set(locs.map((l) => l.file)).size, 1);
  const seg = locs[0]!.file;
  t.is(seg.kind, 'run');
  const n = RUN_MIN_BYTES;
  t.deepEqual(locs.map((l) => [l.offset, l.length]), [[0, n], [n, 2], [n + 2, 1]]);
  const body = Buffer.concat([a, b, c]);
  t.deepEqual(fs.readFileSync(seg.path), body);
  const run = sealed(out, seg);
  t.is(run.size, body.length);
  t.deepEqual(run.hashes.sha256, sha256(body));
  t.deepEqual(
    run.hashes.parts.map((p) => [p.partNo, p.length, p.md5]),
    [[1n, n + 2, md5(Buffer.concat([a, b]))], [2n, 1, md5(c)]],
  );
});

test('direct: runs written past the page cache hold their whole body, and their hashes, when their SealedRunRecord arrives (a run is sealed without waiting for its writes)', async (t) => {
  // Sizes that leave partial blocks: each run's last block goes through the page cache first, then directly.
  const bodies = [3, 5, 2].map((chunks, i) => Array.from({ length: chunks }, (_, c) => fill(String.fromCharCode(97 + i * 5 + c), RUN_MIN_BYTES + 4097 * c + 1)));
  const records = bodies.flatMap((chunks, i) => chunks.map((payload, c) => blob(addr(`o${i}`, 1, c), payload)));
  const atArrival = new Map<number, Buffer>();
  const { out, dir } = await spill(records, true, { direct: true, seen: (r) => r.kind === 'run' && atArrival.set(r.run.file.id, fs.readFileSync(r.run.file.path)) });
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const files = [...new Set(blobs(out).map((r) => r.span!.file))];
  t.is(files.length, 3);
  files.forEach((file, i) => {
    const body = Buffer.concat(bodies[i]!);
    t.true(atArrival.get(file.id)!.equals(body), `run ${i} whole when sealed`);
    const run = sealed(out, file);
    t.is(run.size, body.length);
    t.deepEqual(run.hashes.sha256, sha256(body));
    t.deepEqual(run.hashes.parts.map((p) => p.md5), [md5(body)]);
  });
});

test.serial('direct with MD5s: a run is written through the page cache while its stretch may be read back, and with O_DIRECT from where it grows past 64 MiB; a later part is read back from there', async (t) => {
  const opened = spyOnOpen(t);
  const MiB = 1 << 20;
  // 70 chunks of 1 MiB + 3 bytes: the switch comes at an unaligned end, whose last block is read back.
  const chunks = Array.from({ length: 70 }, (_, c) => Buffer.alloc(MiB + 3, c));
  // A second part after the switch: its MD5 is read back from the part of the file written directly.
  const part2 = [fill('p', MiB + 5), fill('q', 7)];
  const small = fill('s', 5 * MiB);
  const records = [
    ...chunks.map((payload, c) => blob(addr('big', 1, c), payload)),
    ...part2.map((payload, c) => blob(addr('big', 2, c), payload)),
    blob(addr('small', 1, 0), small),
  ];
  const atArrival = new Map<number, boolean>();
  const { out, dir } = await spill(records, true, { direct: true, seen: (r) => r.kind === 'run' && atArrival.set(r.run.file.id, fs.statSync(r.run.file.path).size === r.run.size) });
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const [bigFile, smallFile] = [...new Set(blobs(out).map((r) => r.span!.file))];
  const body = Buffer.concat(chunks);
  const body2 = Buffer.concat(part2);
  t.true(fs.readFileSync(bigFile!.path).equals(Buffer.concat([body, body2])));
  t.deepEqual(sealed(out, bigFile!).hashes.parts.map((p) => p.md5), [md5(body), md5(body2)]);
  t.deepEqual(sealed(out, smallFile!).hashes.parts.map((p) => p.md5), [md5(small)]);
  t.true(opened.get(path.basename(bigFile!.path)), 'the long run went on with O_DIRECT');
  t.false(opened.get(path.basename(smallFile!.path)), 'the short run stayed in the page cache, to be read back');
  t.deepEqual([...atArrival.values()], [true, true]);
});

test.serial('direct with MD5s: once writing through the page cache costs more than the threshold, the runs begun after are written with O_DIRECT and their MD5s computed as written; the run in progress stays buffered', async (t) => {
  const opened = spyOnOpen(t);
  let system = 0;
  // Every window of RUN_MIN_BYTES costs 1 s more system time: far over any threshold.
  const pageCacheCost = new PageCacheCost({ skipBytes: 0, windowBytes: RUN_MIN_BYTES, systemSeconds: () => (system += 1) });
  // The first run's first chunk is skipped (the window starts after it), its second fills the window; the second run is multipart.
  const first = [fill('a'), fill('b', RUN_MIN_BYTES + 4099)];
  const second = [fill('c', RUN_MIN_BYTES + 4097), fill('d', 5)];
  const third = [fill('e', RUN_MIN_BYTES + 1)];
  const records = [
    ...first.map((payload, c) => blob(addr('first', 1, c), payload)),
    blob(addr('second', 1, 0), second[0]!),
    blob(addr('second', 2, 0), second[1]!),
    blob(addr('third', 1, 0), third[0]!),
  ];
  const { out, dir } = await spill(records, true, { direct: true, pageCacheCost });
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  t.true(pageCacheCost.costly);
  const files = [...new Set(blobs(out).map((r) => r.span!.file))];
  t.is(files.length, 3);
  t.deepEqual(
    files.map((f) => opened.get(path.basename(f.path))),
    [false, true, true],
  );
  const bodies = [first, second, third].map((chunks) => Buffer.concat(chunks));
  files.forEach((file, i) => {
    t.true(fs.readFileSync(file.path).equals(bodies[i]!), `run ${i} holds its body`);
    t.deepEqual(sealed(out, file).hashes.sha256, sha256(bodies[i]!));
  });
  t.deepEqual(sealed(out, files[0]!).hashes.parts.map((p) => p.md5), [md5(bodies[0]!)]);
  t.deepEqual(sealed(out, files[1]!).hashes.parts.map((p) => p.md5), [md5(second[0]!), md5(second[1]!)]);
  t.deepEqual(sealed(out, files[2]!).hashes.parts.map((p) => p.md5), [md5(bodies[2]!)]);
});

test.serial('direct with MD5s: while writing through the page cache costs no more than the threshold, every run stays buffered', async (t) => {
  const opened = spyOnOpen(t);
  const pageCacheCost = new PageCacheCost({ skipBytes: 0, windowBytes: RUN_MIN_BYTES, systemSeconds: () => 0 });
  const records = ['p', 'q', 'r'].map((o) => blob(addr(o, 1, 0), fill(o, 2 * RUN_MIN_BYTES)));
  const { out, dir } = await spill(records, true, { direct: true, pageCacheCost });
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  t.false(pageCacheCost.costly);
  const files = [...new Set(blobs(out).map((r) => r.span!.file))];
  t.deepEqual(
    files.map((f) => opened.get(path.basename(f.path))),
    [false, false, false],
  );
  files.forEach((file, i) => t.deepEqual(sealed(out, file).hashes.parts.map((p) => p.md5), [md5(fill('pqr'[i]!, 2 * RUN_MIN_BYTES))]));
});

test('run MD5s are skipped when verification is off; SHA-256 stays', async (t) => {
  const { out, dir } = await spill([blob(addr('o', 1, 0), fill('x'))], false);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const run = sealed(out, blobs(out)[0]!.span!.file);
  t.deepEqual(run.hashes.parts.map((p) => p.md5), [undefined]);
  t.deepEqual(run.hashes.sha256, sha256(fill('x')));
});

test('a small first chunk (a small object) goes to the pool, not a run file of its own', async (t) => {
  const { out, dir } = await spill([blob(addr('s', 1, 0), fill('s', RUN_MIN_BYTES - 1)), blob(addr('t', 1, 0), 'tiny')]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const [s1, t1] = blobs(out).map((r) => r.span!);
  t.is(s1!.file.kind, 'pool');
  t.is(t1!.file, s1!.file);
  t.deepEqual([t1!.offset, t1!.length], [RUN_MIN_BYTES - 1, 4]);
  t.deepEqual(fs.readFileSync(s1!.file.path), Buffer.concat([fill('s', RUN_MIN_BYTES - 1), Buffer.from('tiny')]));
});

test('a chunk that continues no run goes to the pool; a chunk 0 starts a new run', async (t) => {
  const { out, dir } = await spill([
    blob(addr('a', 1, 0), fill('A')),
    blob(addr('b', 1, 1), 'B1'), // not chunk 0, continues nothing: pool
    blob(addr('b', 1, 0), fill('B')), // new run
    blob(addr('a', 1, 1), 'A1'), // run a is closed: pool
  ]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const [a0, b1, b0, a1] = blobs(out).map((r) => r.span!);
  t.is(a0!.file.kind, 'run');
  t.is(b1!.file.kind, 'pool');
  t.is(b0!.file.kind, 'run');
  t.not(b0!.file, a0!.file);
  t.is(a1!.file, b1!.file);
  t.deepEqual(fs.readFileSync(b1!.file.path), Buffer.from('B1A1'));
  t.deepEqual([a1!.offset, a1!.length], [2, 2]);
});

test('a newer part version interleaved by key order starts its own run (stale version goes to the pool)', async (t) => {
  // Sorted keys of one part with versions 1 (stale) and 2: c0v1, c0v2, c1v1, c1v2.
  const { out, dir } = await spill([
    blob(addr('o', 1, 0, { partVersion: 1 }), fill('o')),
    blob(addr('o', 1, 0, { partVersion: 2 }), fill('n')),
    blob(addr('o', 1, 1, { partVersion: 1 }), 'old1'),
    blob(addr('o', 1, 1, { partVersion: 2 }), 'new1'),
  ]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const [, n0, o1, n1] = blobs(out).map((r) => r.span!);
  t.is(n0!.file, n1!.file);
  t.is(o1!.file.kind, 'pool');
  t.deepEqual(fs.readFileSync(n0!.file.path), Buffer.concat([fill('n'), Buffer.from('new1')]));
});

test('pool writes are batched but every location reads back its own bytes', async (t) => {
  const payloads = Array.from({ length: 3000 }, (_, i) => Buffer.from(`payload-${i}-`.repeat((i % 50) + 1)));
  const { out, dir } = await spill(payloads.map((p, i) => blob(addr(`o${i}`, 1, 1), p)));
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const locs = blobs(out).map((r) => r.span!);
  const pool = fs.readFileSync(locs[0]!.file.path);
  t.is(pool.length, payloads.reduce((n, p) => n + p.length, 0));
  locs.forEach((l, i) => t.deepEqual(pool.subarray(l.offset, l.offset + l.length), payloads[i]));
});

test('continuesRun: same object and upload, next chunk or chunk 0 of a later part', (t) => {
  const info = { bucket: Buffer.from('bkt'), generation: 1n, object: Buffer.from('o'), uploadId: Buffer.from('up'), chunks: [{ partNo: 1n, chunkNo: 0n, partVersion: 0n, offset: 0, length: 1 }] };
  t.true(continuesRun(info, addr('o', 1, 1)));
  t.true(continuesRun(info, addr('o', 3, 0)));
  t.false(continuesRun(info, addr('o', 1, 2)), 'gap');
  t.false(continuesRun(info, addr('o', 2, 1)), 'later part must start at chunk 0');
  t.false(continuesRun(info, addr('o', 1, 1, { partVersion: 5 })), 'other part version');
  t.false(continuesRun(info, addr('o', 1, 1, { uploadId: 'other' })));
  t.false(continuesRun(info, addr('o', 1, 1, { generation: 2 })));
  t.false(continuesRun(info, addr('p', 1, 1)));
  t.false(continuesRun(info, addr('o', 1, 1, { bucket: 'other' })));
});

test('chunkblob payloads are checked against their digest and stored once per digest', async (t) => {
  const payload = Buffer.from('offloaded bytes');
  const digest = sha256(payload).toString('hex');
  const rec = (): ClassifiedRecord => ({ kind: 'chunkblob', digest, payload, tombstone: false, where: { offset: 8 }, key: Buffer.from('k') });
  const { out, dir } = await spill([rec(), rec()]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  const locs = out.filter((r): r is SpilledChunkBlobRecord => r.kind === 'chunkblob').map((r) => r.span!);
  t.is(locs[0], locs[1]);
  t.is(fs.statSync(locs[0]!.file.path).size, payload.length);
});

test('a chunkblob whose payload does not hash to its key fails the run with ERR_S3_CHUNKBLOB_HASH_MISMATCH', async (t) => {
  const digest = sha256(Buffer.from('expected')).toString('hex');
  const err = await t.throwsAsync(spill([{ kind: 'chunkblob', digest, payload: Buffer.from('actual'), tombstone: false, where: { offset: 99 }, key: Buffer.from('kk') }]));
  t.true(err instanceof DecodeError);
  t.is((err as DecodeError).code, 'ERR_S3_CHUNKBLOB_HASH_MISMATCH');
  t.is((err as DecodeError).context.offset, 99);
});

test('only the winning chunkblob version is hash-checked, whatever the record order (§3.3)', async (t) => {
  const good = Buffer.from('expected');
  const digest = sha256(good).toString('hex');
  const version = (commitTs: number, payload: Buffer | null, line: number): ClassifiedRecord => ({
    kind: 'chunkblob',
    digest,
    payload,
    tombstone: payload === null,
    commitTs: BigInt(commitTs),
    where: { line },
    key: Buffer.from('kk'),
  });
  const bad = Buffer.from('corrupt');
  // A superseded bad version passes, before or after its newer good one.
  for (const order of [
    [version(1, bad, 1), version(2, good, 2)],
    [version(2, good, 1), version(1, bad, 2)],
    [version(1, bad, 1), version(1, good, 2)], // equal commit_ts: the later record wins
    [version(1, bad, 1), version(2, null, 2)], // deleted by a newer tombstone
  ]) {
    const { out, dir } = await spill(order);
    fs.rmSync(dir, { recursive: true });
    t.is(out.length, 2);
  }
  // A winning bad version fails, wherever it sits.
  for (const order of [
    [version(1, good, 1), version(2, bad, 2)],
    [version(2, bad, 1), version(1, good, 2)],
    [version(1, good, 1), version(1, bad, 2)],
  ]) {
    const err = await t.throwsAsync(spill(order));
    t.is((err as DecodeError).code, 'ERR_S3_CHUNKBLOB_HASH_MISMATCH');
    t.is((err as DecodeError).context.line, order.findIndex((r) => r.kind === 'chunkblob' && r.payload === bad) + 1);
  }
});

test('tombstones and metadata records pass through without touching scratch', async (t) => {
  const tomb: ClassifiedRecord = { kind: 'blob', addr: addr('o', 1, 0), payload: null, tombstone: true, where: {}, key: Buffer.from('k') };
  const meta: ClassifiedRecord = { kind: 'bucket-meta', bucket: Buffer.from('b'), value: Buffer.from('{}'), tombstone: false, where: {}, key: Buffer.from('k') };
  const { out, dir } = await spill([tomb, meta]);
  t.teardown(() => fs.rmSync(dir, { recursive: true }));
  t.is((out[0] as SpilledBlobRecord).span, null);
  t.is(out[1], meta);
  t.deepEqual(fs.readdirSync(dir), []);
});
