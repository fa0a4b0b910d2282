import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SerialWriter } from '../lib/io/serial-writer.js';
import type { DecodeError } from '../lib/errors.js';
import { piece, writeAll } from './helpers/pieces.js';

function openTemp(t: { teardown(f: () => void): void }): { file: string; fd: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-serial-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'f');
  return { file, fd: fs.openSync(file, 'w') };
}

/** Replaces fs.writev for the test, noting how many calls overlap and how many buffers each carries. */
function spyWritev(t: { teardown(f: () => void): void }, short = false): { maxInFlight: number; batches: number[]; bytes: number[] } {
  const original = fs.writev;
  const seen = { maxInFlight: 0, batches: [] as number[], bytes: [] as number[] };
  let inFlight = 0;
  let shortened = false;
  (fs as { writev: unknown }).writev = (fd: number, bufs: Buffer[], position: number, cb: (e: Error | null, n: number) => void) => {
    inFlight++;
    seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
    seen.batches.push(bufs.length);
    seen.bytes.push(bufs.reduce((n, b) => n + b.length, 0));
    // One short write, cut inside the second buffer: the rest must follow at the right place.
    const cut = short && !shortened && bufs.length > 1 ? bufs[0]!.length + 3 : undefined;
    if (cut !== undefined) shortened = true;
    const total = Buffer.concat(bufs);
    const part = cut === undefined ? total : total.subarray(0, cut);
    original(fd, [part], position, (err, n) => {
      inFlight--;
      cb(err, n);
    });
  };
  t.teardown(() => ((fs as { writev: unknown }).writev = original));
  return seen;
}

test.serial('SerialWriter: one write in flight per file; pieces queued meanwhile that follow each other go out together; the file holds every byte in place', async (t) => {
  const seen = spyWritev(t);
  const { file, fd } = openTemp(t);
  const w = new SerialWriter(fd, file);
  const pieces = Array.from({ length: 20 }, (_, i) => piece(1000 + i * 37, i));
  const order: number[] = [];
  await writeAll(w, pieces, (i) => order.push(i));
  fs.closeSync(fd);
  t.is(seen.maxInFlight, 1);
  t.deepEqual(order, pieces.map((_, i) => i), 'callbacks in the order asked');
  t.true(seen.batches.length < pieces.length, `batches: ${seen.batches.join(',')}`);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
});

test.serial('SerialWriter: pieces queued together go out in pwritev()s of at most 1 MiB (ext4 backs larger buffered writes with 2 MiB folios); a longer piece goes alone', async (t) => {
  const seen = spyWritev(t);
  const { file, fd } = openTemp(t);
  const w = new SerialWriter(fd, file);
  // 24 pieces of 256 KiB (6 MiB in all), then one of 3 MiB, all queued at once.
  const pieces = [...Array.from({ length: 24 }, (_, i) => piece(256 * 1024, i)), piece(3 << 20, 99)];
  await writeAll(w, pieces);
  fs.closeSync(fd);
  const MiB = 1 << 20;
  t.deepEqual(seen.bytes, [256 * 1024, MiB, MiB, MiB, MiB, MiB, 768 * 1024, 3 * MiB], `pwritev sizes: ${seen.bytes.join(',')}`);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
});

test.serial('SerialWriter: a short write is continued where it stopped', async (t) => {
  spyWritev(t, true);
  const { file, fd } = openTemp(t);
  const w = new SerialWriter(fd, file);
  const pieces = [piece(500, 1), piece(700, 2), piece(300, 3)];
  await writeAll(w, pieces);
  fs.closeSync(fd);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
});

test('SerialWriter: a failed write reaches every caller waiting on it as ERR_IO naming the file', async (t) => {
  const { file, fd } = openTemp(t);
  fs.closeSync(fd);
  const ro = fs.openSync(file, 'r');
  t.teardown(() => fs.closeSync(ro));
  const w = new SerialWriter(ro, file);
  const errs = await Promise.all([0, 10].map((position) => new Promise<DecodeError | null | undefined>((resolve) => w.write(piece(10, position), position, resolve))));
  for (const err of errs) {
    t.is(err?.code, 'ERR_IO');
    t.true(err?.message.includes(file));
  }
});
