import test from 'ava';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { takeBlock } from '../lib/io/shared-blocks.js';
import { WriteCoalescer } from '../lib/io/write-coalescer.js';

/** Runs chunks through a coalescer of `bytes`; what came out, chunk by chunk. */
async function through(chunks: Buffer[], bytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(chunks),
    new WriteCoalescer(bytes),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(Buffer.from(chunk));
        cb();
      },
    }),
  );
  return out;
}

const bytesOf = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff));

test('small chunks come out gathered into chunks of the given size, the last one shorter', async (t) => {
  const chunks = Array.from({ length: 100 }, (_, i) => bytesOf(100, i));
  const out = await through(chunks, 1024);
  t.true(Buffer.concat(out).equals(Buffer.concat(chunks)));
  // 10 000 bytes in 100-byte chunks: 10 per 1 KiB chunk.
  t.deepEqual(
    out.map((c) => c.length),
    [...Array<number>(10).fill(1000)],
  );
});

test('every byte comes out once and in order, whatever mix of short and long chunks goes in', async (t) => {
  // Lengths around the buffer size and the pass-through size (a quarter of it), and empty chunks.
  const lengths = [0, 1, 255, 256, 257, 1023, 1024, 1025, 3000, 7, 0, 511, 600, 2, 4096, 100, 100, 100];
  for (let rot = 0; rot < lengths.length; rot++) {
    const order = [...lengths.slice(rot), ...lengths.slice(0, rot)];
    const chunks = order.map((n, i) => bytesOf(n, i));
    const out = await through(chunks, 1024);
    t.true(Buffer.concat(out).equals(Buffer.concat(chunks)), `rotation ${rot}`);
    t.true(
      out.every((c) => c.length > 0),
      'no empty chunk is pushed',
    );
  }
});

test('a chunk of a quarter of the size or more is passed on as it is, after the bytes gathered before it', async (t) => {
  const small = bytesOf(10, 1);
  const big = bytesOf(256, 2);
  const out = await through([small, big, small], 1024);
  t.deepEqual(
    out.map((c) => c.length),
    [10, 256, 10],
  );
  t.true(Buffer.concat(out).equals(Buffer.concat([small, big, small])));
});

/**
 * Writes `count` pieces of `size` bytes, piece i filled with byte i, each
 * in a shared block taken and filled at once (its hold handed over),
 * through a coalescer releasing blocks on `dest`'s completed writes, into
 * `dest`. Returns how many different blocks the pieces were written from.
 */
async function writeRecycled(dest: Writable, count: number, size: number): Promise<number> {
  const coalescer = new WriteCoalescer(64 * 1024, dest);
  const done = pipeline(coalescer, dest);
  const memories = new Set<ArrayBufferLike>();
  for (let i = 0; i < count; i++) {
    const piece = takeBlock(size).fill(i & 0xff);
    memories.add(piece.buffer);
    if (!coalescer.write(piece)) await once(coalescer, 'drain');
  }
  coalescer.end();
  await done;
  return memories.size;
}

test('recycled pieces go back only once the file stream has written them: every byte arrives, from a few buffers', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-coalescer-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out');
  const count = 64;
  const size = 256 * 1024;
  const used = await writeRecycled(fs.createWriteStream(file), count, size);
  const got = fs.readFileSync(file);
  t.is(got.length, count * size);
  for (let i = 0; i < count; i++) {
    const piece = got.subarray(i * size, (i + 1) * size);
    t.true(piece.every((b) => b === (i & 0xff)), `piece ${i} was overwritten before it was written`);
  }
  t.true(used < count, `${used} buffers for ${count} pieces: none was used again`);
});

/**
 * A dest that takes 1 ms per write and copies the chunk only when the write
 * completes, as a file or socket reads it meanwhile; `lieAboutLength` makes
 * its writableLength 0 however many writes are pending.
 */
function slowDest(lieAboutLength: boolean): { dest: Writable; written: Buffer[] } {
  const written: Buffer[] = [];
  const dest = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      setTimeout(() => {
        written.push(Buffer.from(chunk));
        cb();
      }, 1);
    },
  });
  if (lieAboutLength) Object.defineProperty(dest, 'writableLength', { get: () => 0 });
  return { dest, written };
}

/** Which of `count` pieces of `size` (piece i all bytes i) did not arrive whole. */
function overwritten(got: Buffer, count: number, size: number): number[] {
  return Array.from({ length: count }, (_, i) => i).filter((i) => !got.subarray(i * size, (i + 1) * size).every((b) => b === (i & 0xff)));
}

test('recycled pieces go back only when a slow dest has completed their writes', async (t) => {
  const size = 128 * 1024;
  const { dest, written } = slowDest(false);
  const used = await writeRecycled(dest, 48, size);
  t.deepEqual(overwritten(Buffer.concat(written), 48, size), []);
  t.true(used < 48, `${used} buffers for 48 pieces: none was used again`);
});

test('handed back on the bytes pushed alone, pieces would be overwritten in flight (the tests above can fail)', async (t) => {
  const size = 128 * 1024;
  const { dest, written } = slowDest(true);
  await writeRecycled(dest, 48, size);
  t.true(overwritten(Buffer.concat(written), 48, size).length > 0);
});

test('with writtenBy, the gathered chunks too reach a slow dest intact', async (t) => {
  const { dest, written } = slowDest(false);
  const chunks = Array.from({ length: 2000 }, (_, i) => bytesOf(1000, i));
  const coalescer = new WriteCoalescer(64 * 1024, dest);
  const done = pipeline(coalescer, dest);
  for (const c of chunks) if (!coalescer.write(c)) await once(coalescer, 'drain');
  coalescer.end();
  await done;
  t.true(Buffer.concat(written).equals(Buffer.concat(chunks)));
});
