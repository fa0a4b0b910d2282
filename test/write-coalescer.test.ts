import test from 'ava';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
