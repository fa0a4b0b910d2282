import test from 'ava';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineCursor, LineFeeder, readLines, readSmallFile, streamFile } from '../../lib/verify/read-file.js';
import { HashPool } from '../../lib/stages/hash-pool.js';
import { countingReads } from '../helpers/read-count.js';

function dir(t: import('ava').ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-readfile-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('streamFile: whole chunks of chunkBytes (the last shorter), SHA-256 and MD5 of the bytes', async (t) => {
  const d = dir(t);
  const data = Buffer.from(Array.from({ length: 2500 }, (_, i) => i % 251));
  fs.writeFileSync(path.join(d, 'f'), data);
  const chunks: number[] = [];
  const h = await streamFile(Buffer.from(path.join(d, 'f')), 'f', { md5: true, chunkBytes: 1000, onChunk: (c) => void chunks.push(c.length) });
  t.deepEqual(chunks, [1000, 1000, 500]);
  t.deepEqual(h, { size: 2500, sha256: createHash('sha256').update(data).digest('hex'), md5: createHash('md5').update(data).digest('hex') });
  fs.writeFileSync(path.join(d, 'e'), '');
  const e = await streamFile(Buffer.from(path.join(d, 'e')), 'e', { md5: false, onChunk: () => t.fail('no chunk for an empty file') });
  t.deepEqual(e, { size: 0, sha256: createHash('sha256').digest('hex') });
});

// Serial: other tests of this file take blocks from the same free list.
test.serial('streamFile: every chunk of a file is read into one buffer, given back for the next file', async (t) => {
  const d = dir(t);
  // Chunks above 4 KiB: smaller Buffers could share one of Node's pool slabs anyway.
  fs.writeFileSync(path.join(d, 'f'), Buffer.alloc(12500, 1));
  fs.writeFileSync(path.join(d, 'g'), Buffer.alloc(7000, 2));
  const seen: ArrayBufferLike[] = [];
  const bytes: number[] = [];
  const onChunk = (c: Buffer) => {
    seen.push(c.buffer);
    bytes.push(c[0]!, c[c.length - 1]!);
  };
  await streamFile(Buffer.from(path.join(d, 'f')), 'f', { md5: false, chunkBytes: 5000, onChunk });
  await streamFile(Buffer.from(path.join(d, 'g')), 'g', { md5: false, chunkBytes: 5000, onChunk });
  t.is(seen.length, 5);
  t.true(seen.every((b) => b === seen[0]), 'one buffer for all five chunks');
  t.deepEqual(bytes, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
});

test.serial('streamFile: files of a chunk (1 MiB) or more are read into a shared block too, one for every file', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'f'), Buffer.alloc(2.5 * 1024 * 1024, 1));
  fs.writeFileSync(path.join(d, 'g'), Buffer.alloc(1024 * 1024, 2));
  const seen: ArrayBufferLike[] = [];
  const sizes: number[] = [];
  const onChunk = (c: Buffer) => {
    seen.push(c.buffer);
    sizes.push(c.length);
  };
  await streamFile(Buffer.from(path.join(d, 'f')), 'f', { md5: false, onChunk });
  await streamFile(Buffer.from(path.join(d, 'g')), 'g', { md5: false, onChunk });
  t.deepEqual(sizes, [1 << 20, 1 << 20, 0.5 * 1024 * 1024, 1 << 20]);
  t.true(seen[0] instanceof SharedArrayBuffer, 'a shared block, not a new buffer');
  t.true(seen.every((b) => b === seen[0]), 'one block for both files');
});

test('a symlink is not followed and a FIFO is not read', async (t) => {
  const d = dir(t);
  fs.writeFileSync(path.join(d, 'real'), 'x');
  fs.symlinkSync('real', path.join(d, 'link'));
  await t.throwsAsync(streamFile(Buffer.from(path.join(d, 'link')), 'link', { md5: false }), { message: /ELOOP/ });
  t.throws(() => readSmallFile(Buffer.from(path.join(d, 'link')), 'link'), { message: /ELOOP/ });
  t.is(spawnSync('mkfifo', [path.join(d, 'fifo')]).status, 0);
  t.throws(() => readSmallFile(Buffer.from(path.join(d, 'fifo')), 'fifo'), { message: /not a regular file/ });
});

test('a file that grows while it is streamed is an error', async (t) => {
  const d = dir(t);
  const f = path.join(d, 'f');
  fs.writeFileSync(f, 'abcdef');
  await t.throwsAsync(
    streamFile(Buffer.from(f), 'f', { md5: false, chunkBytes: 3, onChunk: () => fs.appendFileSync(f, 'more') }),
    { message: /changed while it was read/ },
  );
});

test('a file that shrinks while it is streamed is an error', async (t) => {
  const d = dir(t);
  const f = path.join(d, 'f');
  fs.writeFileSync(f, 'abcdef');
  await t.throwsAsync(
    streamFile(Buffer.from(f), 'f', { md5: false, chunkBytes: 3, onChunk: () => fs.truncateSync(f, 4) }),
    { message: /changed while it was read/ },
  );
});

test.serial('a file of one chunk or less is one read: the read that asks one byte past its size finds its end', async (t) => {
  const d = dir(t);
  const f = path.join(d, 'f');
  fs.writeFileSync(f, 'x'.repeat(5000));
  const e = path.join(d, 'e');
  fs.writeFileSync(e, '');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  // Without onChunk streamFile makes its reads before its first await.
  let h: Promise<unknown> | undefined;
  t.is(countingReads(() => void (h = streamFile(Buffer.from(f), 'f', { md5: false }))), 1);
  t.deepEqual(await h, { size: 5000, sha256: sha('x'.repeat(5000)) });
  t.is(countingReads(() => void (h = streamFile(Buffer.from(e), 'e', { md5: false }))), 1);
  t.deepEqual(await h, { size: 0, sha256: sha('') });
  t.is(countingReads(() => t.is(readSmallFile(Buffer.from(f), 'f').bytes.length, 5000)), 1);
  // Three chunks of 2000, 2000 and 1000 bytes: three reads, the last one finding the end.
  t.is(countingReads(() => void (h = streamFile(Buffer.from(f), 'f', { md5: false, chunkBytes: 2000 }))), 3);
  t.deepEqual(await h, { size: 5000, sha256: sha('x'.repeat(5000)) });
});

test('LineFeeder: lines across chunks, numbered, a last line without newline', async (t) => {
  const got: string[] = [];
  const f = new LineFeeder((l, n) => void got.push(`${n}:${l.toString()}`));
  await f.feed(Buffer.from('ab\ncd'));
  await f.feed(Buffer.from('e\n\nf'));
  await f.end();
  t.deepEqual(got, ['1:ab', '2:cde', '3:', '4:f']);
});

test('streamFile with a hash pool: a large file is hashed on the workers (same SHA-256 and MD5), a small one here; the pool serves one file after another', async (t) => {
  const d = dir(t);
  const pool = new HashPool({ md5: true });
  t.teardown(() => pool.close());
  const big = Buffer.from(Array.from({ length: 9 * 1024 * 1024 + 5 }, (_, i) => (i * 7 + (i >> 12)) & 0xff));
  const small = Buffer.from('a small body');
  fs.writeFileSync(path.join(d, 'big'), big);
  fs.writeFileSync(path.join(d, 'small'), small);
  const want = (b: Buffer, md5: boolean) => ({ size: b.length, sha256: createHash('sha256').update(b).digest('hex'), ...(md5 ? { md5: createHash('md5').update(b).digest('hex') } : {}) });
  for (let round = 0; round < 2; round++) {
    t.deepEqual(await streamFile(Buffer.from(path.join(d, 'big')), 'big', { md5: true, pool }), want(big, true));
    t.deepEqual(await streamFile(Buffer.from(path.join(d, 'small')), 'small', { md5: true, pool }), want(small, true));
  }
  t.deepEqual(await streamFile(Buffer.from(path.join(d, 'big')), 'big', { md5: false, pool }), want(big, false));
  const workers = (pool as unknown as { workers: unknown[] }).workers;
  t.is(workers.length, 2, 'the large file went to the workers');
});

test('readLines: the event loop turns while a long file is read, and every line arrives in order', async (t) => {
  const d = dir(t);
  const lines = Array.from({ length: 40000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
  const text = `${lines.join('\n')}\n`;
  t.true(text.length > 1024 * 1024, 'more than one read');
  fs.writeFileSync(path.join(d, 'f'), text);
  // An immediate set again each time it runs counts the turns of the loop while the file is read.
  let turns = 0;
  let on = true;
  const tick = () => {
    turns++;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  const got: string[] = [];
  // Each line takes 10 µs of synchronous work: 0.4 s in all, a turn due every 10 ms of it (lib/io/breather.ts).
  const h = await readLines(Buffer.from(path.join(d, 'f')), 'f', (l) => {
    got.push(l.toString());
    for (const until = performance.now() + 0.01; performance.now() < until; );
  });
  on = false;
  t.deepEqual(got, lines);
  t.is(h.sha256, createHash('sha256').update(text).digest('hex'));
  t.true(turns >= 16, `the loop turned ${turns} times`);
});

test('LineCursor: lines pulled one at a time across 64 KiB reads, each still valid after the next, numbered', (t) => {
  const d = dir(t);
  // Lines of 1..300 bytes: many of them span the boundary of two reads.
  const lines = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(1 + ((i * 37) % 300), 0x61 + (i % 26)));
  fs.writeFileSync(path.join(d, 'f'), Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])));
  const c = new LineCursor(Buffer.from(path.join(d, 'f')), 'f');
  const got: Buffer[] = [];
  for (let l = c.next(); l !== undefined; l = c.next()) got.push(l);
  t.is(c.n, 2000);
  t.is(c.next(), undefined);
  c.close();
  t.deepEqual(got, lines);
  fs.writeFileSync(path.join(d, 'g'), 'one\ntwo');
  const g = new LineCursor(Buffer.from(path.join(d, 'g')), 'g');
  t.deepEqual([g.next()?.toString(), g.next()?.toString(), g.next()], ['one', 'two', undefined]);
  g.close();
});
