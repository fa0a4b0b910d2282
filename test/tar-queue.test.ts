/**
 * TarQueue: the entries the tar target holds until a bucket ends. SPEC §2:
 * tar entries appear in CHECKSUMS order, i.e. sorted bytewise by path
 * (§6), so the queue must hand them out in that order — raw bytes compared
 * unsigned, a prefix first, not JavaScript (UTF-16) string order — each
 * with exactly its mode, size and bytes.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ScratchFile } from '../lib/io/scratch-file.js';
import { TarQueue, type QueuedEntry } from '../lib/sinks/tar-queue.js';
import type { Span, SpillFile } from '../lib/types.js';
import { tempDir } from './e2e/harness.js';

interface Out {
  /** The path's bytes, one char per byte. */
  path: string;
  mode: number;
  size: number;
  bytes: Buffer;
}

/**
 * A queue whose small files go to a scratch file in a directory removed
 * after the test; with budgetBytes, entries beyond it are sorted runs in
 * that directory.
 */
function queue(t: import('ava').ExecutionContext, budgetBytes?: number): { q: TarQueue; dir: string } {
  const dir = tempDir(t, 'ekv-tar-queue-');
  const small = new ScratchFile(dir);
  t.teardown(() => small.close());
  return { q: new TarQueue(small, budgetBytes === undefined ? {} : { scratchDir: dir, budgetBytes }), dir };
}

/** Every entry of take(), its content read back with plain fs calls. */
async function drain(q: TarQueue, sorted = true): Promise<Out[]> {
  const out: Out[] = [];
  for await (const e of q.take(sorted)) out.push({ path: e.path.toString('latin1'), mode: e.mode, size: e.size, bytes: contentOf(e) });
  return out;
}

function contentOf(e: QueuedEntry): Buffer {
  if ('data' in e) return Buffer.from(e.data);
  if ('pieces' in e) return Buffer.concat([...e.pieces]);
  return Buffer.concat([...e.spans].map((s) => fs.readFileSync(s.file.path).subarray(s.offset, s.offset + s.length)));
}

let nextId = 0;

/** A spill file holding these bytes. */
function segment(dir: string, name: string, bytes: string): SpillFile {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return { id: nextId++, path: file, kind: 'pool' };
}

const at = (file: SpillFile, offset: number, length: number): Span => ({ file, offset, length });
const latin1 = (p: string | Buffer) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p).toString('latin1');

test('sorted: bytewise by path — a prefix first, "!" < "." < "/", bytes ≥ 0x80 after ASCII, UTF-8 bytes not UTF-16 units', async (t) => {
  const { q } = queue(t);
  // Added out of order; each file's content is its own path, to check columns stay aligned.
  const paths: Array<string | Buffer> = [
    '😀', // f0 9f 98 80: after U+FFFD in bytes, before it in UTF-16 (d83d < fffd)
    'a/b/c', // 61 2f 62 2f
    'z',
    Buffer.from([0x80]), // not UTF-8: a lone byte 0x80
    'a/b.elastickv-meta.json', // 61 2f 62 2e
    '\uFFFD', // ef bf bd
    'a/b', // a prefix of the next three
    'é', // c3 a9
    'a/b!x', // 61 2f 62 21
    '_bucket.json', // 5f
    'a-b', // 61 2d
    'KEYMAP.jsonl', // 4b
    'a/B', // 61 2f 42
  ];
  for (const p of paths) q.addFile(typeof p === 'string' ? Buffer.from(p) : p, 0o600, Buffer.from(`<${latin1(p)}>`, 'latin1'));
  const out = await drain(q);
  const want = ['KEYMAP.jsonl', '_bucket.json', 'a-b', 'a/B', 'a/b', 'a/b!x', 'a/b.elastickv-meta.json', 'a/b/c', 'z', '\x80', latin1('é'), latin1('\uFFFD'), latin1('😀')];
  t.deepEqual(
    out.map((e) => e.path),
    want,
  );
  t.deepEqual(
    out.map((e) => e.bytes.toString('latin1')),
    want.map((p) => `<${p}>`),
  );
});

test('unsorted: entries in the order they were added (MANIFEST.json, then CHECKSUMS)', async (t) => {
  const { q } = queue(t);
  q.addFile(Buffer.from('MANIFEST.json'), 0o644, Buffer.from('{}\n'));
  q.addPieces(Buffer.from('CHECKSUMS'), 0o644, 6, [Buffer.from('abc'), Buffer.from('def')]);
  t.deepEqual(await drain(q, false), [
    { path: 'MANIFEST.json', mode: 0o644, size: 3, bytes: Buffer.from('{}\n') },
    { path: 'CHECKSUMS', mode: 0o644, size: 6, bytes: Buffer.from('abcdef') },
  ]);
});

test('a body is its locations in order: several per body, across spill files, a file read more than once', async (t) => {
  const { q, dir } = queue(t);
  const a = segment(dir, 'pool-a', 'abcdefghijklmnopqrstuvwxyz');
  const b = segment(dir, 'pool-b', '0123456789');
  q.addBody(Buffer.from('s3/bkt/multi'), 0o600, 13, [at(a, 10, 5), at(b, 0, 5), at(a, 0, 3)]);
  q.addBody(Buffer.from('s3/bkt/one'), 0o600, 4, [at(b, 6, 4)]);
  const out = await drain(q);
  t.deepEqual(out, [
    { path: 's3/bkt/multi', mode: 0o600, size: 13, bytes: Buffer.from('klmno01234abc') },
    { path: 's3/bkt/one', mode: 0o600, size: 4, bytes: Buffer.from('6789') },
  ]);
});

test('spans name the spill file, offset and length of each location', async (t) => {
  const { q, dir } = queue(t);
  const a = segment(dir, 'pool-a', 'x'.repeat(100));
  const r = segment(dir, 'run-1', 'y'.repeat(100));
  q.addBody(Buffer.from('k'), 0o600, 30, [at(a, 7, 10), at(r, 0, 20)]);
  const entries: QueuedEntry[] = [];
  for await (const x of q.take(true)) entries.push(x);
  const [e] = entries;
  t.true(e !== undefined && 'spans' in e);
  if (e && 'spans' in e) {
    t.deepEqual(
      [...e.spans],
      [
        { file: a, offset: 7, length: 10 },
        { file: r, offset: 0, length: 20 },
      ],
    );
  }
});

test('empty files and empty bodies: size 0, no bytes', async (t) => {
  const { q } = queue(t);
  q.addBody(Buffer.from('b/empty-body'), 0o600, 0, []);
  q.addFile(Buffer.from('a/empty-file'), 0o600, Buffer.alloc(0));
  q.addPieces(Buffer.from('c/empty-pieces'), 0o644, 0, []);
  t.deepEqual(await drain(q), [
    { path: 'a/empty-file', mode: 0o600, size: 0, bytes: Buffer.alloc(0) },
    { path: 'b/empty-body', mode: 0o600, size: 0, bytes: Buffer.alloc(0) },
    { path: 'c/empty-pieces', mode: 0o644, size: 0, bytes: Buffer.alloc(0) },
  ]);
});

test('a file is copied when added: the caller may reuse its buffer; a large one comes back whole', async (t) => {
  const { q } = queue(t);
  const small = Buffer.from('{"etag":"x"}');
  q.addFile(Buffer.from('small'), 0o600, small);
  small.fill(0x21);
  const large = Buffer.alloc(200_000, 0x4b); // beyond the small-file limit (64 KiB)
  q.addFile(Buffer.from('large'), 0o600, large);
  const out = await drain(q);
  t.deepEqual(
    out.map((e) => [e.path, e.size]),
    [
      ['large', 200_000],
      ['small', 12],
    ],
  );
  t.true(out[0]!.bytes.equals(Buffer.alloc(200_000, 0x4b)));
  t.is(out[1]!.bytes.toString(), '{"etag":"x"}');
});

test('pieces are consumed only when their entry is handed out', async (t) => {
  const { q } = queue(t);
  let consumed = false;
  function* pieces(): Generator<Buffer> {
    consumed = true;
    yield Buffer.from('late');
  }
  q.addPieces(Buffer.from('CHECKSUMS'), 0o644, 4, pieces());
  t.false(consumed);
  t.is((await drain(q))[0]!.bytes.toString(), 'late');
});

test('a path extending the one before (a sidecar after its body) comes back whole, also where arena blocks end', async (t) => {
  const { q } = queue(t);
  const n = 20_000; // ~1 MB of paths: several 256 KiB arena blocks
  for (let i = n - 1; i >= 0; i--) {
    const body = `s3/bkt/${String(i).padStart(5, '0')}${'k'.repeat(i % 41)}`;
    q.addFile(Buffer.from(body), 0o600, Buffer.from(`b${i}`));
    q.addFile(Buffer.from(`${body}.elastickv-meta.json`), 0o600, Buffer.from(`m${i}`));
    if (i % 7 === 0) q.addFile(Buffer.from(`${body}.elastickv-meta.json.more`), 0o600, Buffer.from(`x${i}`)); // extends the extension
  }
  const out = await drain(q);
  const want: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = `s3/bkt/${String(i).padStart(5, '0')}${'k'.repeat(i % 41)}`;
    want.push(`${body}=b${i}`, `${body}.elastickv-meta.json=m${i}`);
    if (i % 7 === 0) want.push(`${body}.elastickv-meta.json.more=x${i}`);
  }
  t.deepEqual(
    out.map((e) => `${e.path}=${e.bytes.toString()}`),
    want,
  );
});

for (const [name, budget] of [
  ['in memory', undefined],
  ['sorted runs on disk beyond a 64 KiB budget', 64 * 1024],
] as const) {
  test(`many entries: order and content hold across scratch batches (${name})`, async (t) => {
    const { q, dir } = queue(t, budget);
    const n = 60_000; // ~20 MB of small files (1 MiB batches); ~5 MB of records
    const poolBytes = '0123456789'.repeat(100);
    const pool = segment(dir, 'pool', poolBytes);
    // Added in a scrambled order (7919 is prime to n): the sort alone restores i order.
    for (let j = 0; j < n; j++) {
      const i = (j * 7919) % n;
      const p = Buffer.from(`s3/bkt/${String(i).padStart(6, '0')}${'/x'.repeat(i % 5)}`);
      if (i % 3 === 0) q.addBody(p, 0o600, 3 + (i % 10), [at(pool, i % 10, 3), at(pool, 100, i % 10)]);
      else q.addFile(p, i % 2 ? 0o644 : 0o600, Buffer.from(`${i}:${'s'.repeat(300)}`));
    }
    t.is(q.length, n);
    const out = await drain(q);
    t.is(out.length, n);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const e = out[i]!;
      const wantPath = `s3/bkt/${String(i).padStart(6, '0')}${'/x'.repeat(i % 5)}`;
      const wantBytes = i % 3 === 0 ? poolBytes.slice(i % 10, (i % 10) + 3) + poolBytes.slice(100, 100 + (i % 10)) : `${i}:${'s'.repeat(300)}`;
      const wantMode = i % 3 === 0 ? 0o600 : i % 2 ? 0o644 : 0o600;
      if (e.path !== wantPath || e.bytes.toString() !== wantBytes || e.size !== wantBytes.length || e.mode !== wantMode) bad++;
    }
    t.is(bad, 0);
    if (budget !== undefined) t.true(q.runs > 10);
    // Runs are removed once taken: only the pool and the small files' scratch file stay.
    t.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('tar-queue-')), []);
  });
}
