import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedBuffer, DIRECT_ALIGN, DirectWriter } from '../lib/io/direct-writer.js';
import type { DecodeError } from '../lib/errors.js';
import { piece, writeAll } from './helpers/pieces.js';

const O_DIRECT = fs.constants.O_DIRECT;

function tempFile(t: { teardown(f: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-direct-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'f');
}

/** Whether fd was opened with O_DIRECT, as the kernel says (/proc/self/fdinfo: flags in octal). */
function isDirect(fd: number): boolean {
  const flags = /flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))![1]!;
  return (parseInt(flags, 8) & O_DIRECT) !== 0;
}

interface Write {
  direct: boolean;
  position: number;
  length: number;
}

/** Replaces fs.write for the test, noting each call; `fail(w)` may return an errno code to fail that call with instead. */
function spyWrite(t: { teardown(f: () => void): void }, fail: (w: Write, n: number) => string | undefined = () => undefined): Write[] {
  const original = fs.write;
  const seen: Write[] = [];
  (fs as { write: unknown }).write = (fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: NodeJS.ErrnoException | null, n: number) => void) => {
    const w = { direct: isDirect(fd), position: pos, length: len };
    seen.push(w);
    const code = fail(w, seen.length);
    if (code) return process.nextTick(() => cb(Object.assign(new Error(`${code}: injected`), { code }), 0));
    original(fd, buf, off, len, pos, cb);
  };
  t.teardown(() => ((fs as { write: unknown }).write = original));
  return seen;
}

function create(file: string): Promise<DirectWriter> {
  return new Promise((resolve, reject) => DirectWriter.create(file, (err, w) => (err ? reject(err) : resolve(w!))));
}

function write(w: DirectWriter, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => w.write(buf, position, (err) => (err ? reject(err) : resolve())));
}

function close(w: DirectWriter): Promise<void> {
  return new Promise((resolve, reject) => w.close((err) => (err ? reject(err) : resolve())));
}

test.serial('DirectWriter: pieces of any size land in place; every write through the O_DIRECT descriptor is whole blocks at a block boundary, at most 1 MiB', async (t) => {
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  t.true(w.direct);
  const pieces = [1, 4095, 4097, (1 << 20) + 3, 100_000, 5, 3 << 20, 7].map((n, i) => piece(n, i));
  const order: number[] = [];
  await writeAll(w, pieces, (i) => order.push(i));
  await close(w);
  t.deepEqual(order, [...pieces.keys()]);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
  const direct = seen.filter((s) => s.direct);
  t.true(direct.length >= 4);
  for (const s of direct) {
    t.is(s.position % DIRECT_ALIGN, 0);
    t.is(s.length % DIRECT_ALIGN, 0);
    t.true(s.length <= 1 << 20);
  }
  // Only the last partial block (7 + the bytes before it past the last whole block) goes through the page cache.
  t.deepEqual(
    seen.filter((s) => !s.direct).map((s) => s.position),
    [Math.floor(Buffer.concat(pieces).length / DIRECT_ALIGN) * DIRECT_ALIGN],
  );
});

test.serial('DirectWriter: a piece is in the file when its callback runs, though its last block is not whole yet; that block is written directly once it is', async (t) => {
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  const a = piece(100, 1);
  const b = piece(5000, 2);
  const c = piece(DIRECT_ALIGN * 3, 3);
  await write(w, a, 0);
  t.true(fs.readFileSync(file).equals(a));
  await write(w, b, 100);
  t.true(fs.readFileSync(file).equals(Buffer.concat([a, b])));
  await write(w, c, 5100);
  await close(w);
  t.true(fs.readFileSync(file).equals(Buffer.concat([a, b, c])));
  t.deepEqual(
    seen.map((s) => [s.direct, s.position, s.length]),
    [
      [false, 0, 100],
      [true, 0, DIRECT_ALIGN],
      [false, DIRECT_ALIGN, 5100 - DIRECT_ALIGN],
      [true, DIRECT_ALIGN, DIRECT_ALIGN * 3],
      [false, DIRECT_ALIGN * 4, 5100 - DIRECT_ALIGN],
    ],
  );
});

test.serial('DirectWriter: a filesystem that refuses O_DIRECT at open gets every byte written through the page cache', async (t) => {
  const original = fs.open;
  (fs as { open: unknown }).open = (p: string, flags: number, mode: number, cb: (e: NodeJS.ErrnoException | null, fd: number) => void) =>
    flags & O_DIRECT ? process.nextTick(() => cb(Object.assign(new Error('EINVAL: injected'), { code: 'EINVAL' }), -1)) : original(p, flags, mode, cb);
  t.teardown(() => ((fs as { open: unknown }).open = original));
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  t.false(w.direct);
  const pieces = [10, 2 << 20, 4096].map((n, i) => piece(n, i));
  await writeAll(w, pieces);
  await close(w);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
  t.true(seen.every((s) => !s.direct));
});

test.serial('DirectWriter: a direct write refused with EINVAL is written again through the page cache, and so is every later byte', async (t) => {
  const seen = spyWrite(t, (s) => (s.direct ? 'EINVAL' : undefined));
  const file = tempFile(t);
  const w = await create(file);
  const pieces = [DIRECT_ALIGN * 2, 3, 2 << 20].map((n, i) => piece(n, i));
  await writeAll(w, pieces);
  await close(w);
  t.false(w.direct);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
  t.is(seen.filter((s) => s.direct).length, 1);
});

test.serial('DirectWriter: a failed write fails its pieces and every later one with ERR_IO naming the file', async (t) => {
  spyWrite(t, (_s, n) => (n === 2 ? 'ENOSPC' : undefined));
  const file = tempFile(t);
  const w = await create(file);
  await write(w, piece(1 << 20, 1), 0);
  const err = await t.throwsAsync<DecodeError>(write(w, piece(1 << 20, 2), 1 << 20));
  t.is(err.code, 'ERR_IO');
  t.is(err.context.path, file);
  t.regex(err.message, /ENOSPC/);
  const later = await t.throwsAsync<DecodeError>(write(w, piece(10, 3), 2 << 20));
  t.is(later, err);
  await close(w);
});

test('DirectWriter: a piece that does not start where the last one ended is an ERR_IO naming the file', async (t) => {
  const file = tempFile(t);
  const w = await create(file);
  await write(w, piece(10, 1), 0);
  const err = await t.throwsAsync<DecodeError>(write(w, piece(10, 2), 20));
  t.is(err.code, 'ERR_IO');
  t.is(err.context.path, file);
  await close(w);
  t.true(fs.readFileSync(file).equals(piece(10, 1)));
});

test.serial('DirectWriter.adopt: goes on at the end of a file written before; its partial last block is read back and written again directly with what follows', async (t) => {
  const file = tempFile(t);
  const head = piece(5000, 9);
  fs.writeFileSync(file, head);
  const seen = spyWrite(t);
  const w = await new Promise<DirectWriter>((resolve, reject) => DirectWriter.adopt(file, head.length, (err, w) => (err || !w ? reject(err) : resolve(w))));
  const more = piece(3 * DIRECT_ALIGN, 10);
  await write(w, more, head.length);
  await close(w);
  t.true(fs.readFileSync(file).equals(Buffer.concat([head, more])));
  t.deepEqual(seen[0], { direct: true, position: DIRECT_ALIGN, length: 3 * DIRECT_ALIGN });
});

test('alignedBuffer: its memory can be written with O_DIRECT from its first byte', (t) => {
  const file = tempFile(t);
  const buf = alignedBuffer(DIRECT_ALIGN * 2);
  buf.fill(0x5a);
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | O_DIRECT, 0o600);
  try {
    t.is(fs.writeSync(fd, buf, 0, buf.length, 0), buf.length);
  } finally {
    fs.closeSync(fd);
  }
  t.true(fs.readFileSync(file).equals(Buffer.alloc(DIRECT_ALIGN * 2, 0x5a)));
});
