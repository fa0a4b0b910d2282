import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedBuffer, DIRECT_ALIGN } from '../lib/io/aligned-memory.js';
import { DirectWriter } from '../lib/io/direct-writer.js';
import { takeShared } from '../lib/io/shared-blocks.js';
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

/** The memory each spied write was made from (kept off the records, which tests compare whole). */
const memoryOf = new WeakMap<Write, ArrayBufferLike>();
/** For each spied write, how many others were in flight when it was issued. */
const alongsideOf = new WeakMap<Write, number>();
/** For each failed write, how many writes had been issued when its error was called back. */
const issuedBeforeError = new WeakMap<Write, number>();

/**
 * Replaces fs.write for the test, noting each call; `fail(w)` may return an
 * errno code to fail that call with instead. `log` gets "write N" as each
 * callback is delivered. With `firstLast`, the first write's callback is
 * held until every later write issued before it completes has been called
 * back, and then comes a turn of the event loop later.
 */
function spyWrite(
  t: { teardown(f: () => void): void },
  fail: (w: Write, n: number) => string | undefined = () => undefined,
  { firstLast = false } = {},
): Write[] & { log: string[] } {
  const original = fs.write;
  const seen: Write[] = [];
  const log: string[] = [];
  let inFlight = 0;
  let held: (() => void) | undefined;
  (fs as { write: unknown }).write = (fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: NodeJS.ErrnoException | null, n: number) => void) => {
    const w = { direct: isDirect(fd), position: pos, length: len };
    memoryOf.set(w, buf.buffer);
    alongsideOf.set(w, inFlight++);
    const n = seen.push(w);
    const deliver = (e: NodeJS.ErrnoException | null, written: number) => (): void => {
      inFlight--;
      log.push(`write ${n}`);
      cb(e, written);
    };
    const code = fail(w, n);
    if (code) {
      return process.nextTick(() => {
        issuedBeforeError.set(w, seen.length);
        deliver(Object.assign(new Error(`${code}: injected`), { code }), 0)();
      });
    }
    original(fd, buf, off, len, pos, (e, written) => {
      if (firstLast && n === 1 && inFlight > 1) return void (held = deliver(e, written));
      deliver(e, written)();
      // On a later turn: whatever the later write's callback set off (a piece's promise) runs first.
      if (held && inFlight === 1) {
        const first = held;
        held = undefined;
        setImmediate(first);
      }
    });
  };
  t.teardown(() => ((fs as { write: unknown }).write = original));
  return Object.assign(seen, { log });
}

/** piece(length, seed)'s bytes in a shared block of the decoder (page-aligned memory, written in place). */
function sharedPiece(length: number, seed: number): Buffer {
  const block = takeShared(Math.ceil(length / (1 << 20)) * (1 << 20)).subarray(0, length);
  piece(length, seed).copy(block);
  return block;
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
  // Two direct writes of whole stages may be in flight before the first refusal comes back; none is issued after it.
  const direct = seen.filter((s) => s.direct);
  t.true(direct.length >= 1 && direct.length <= 2);
  const firstRefusal = Math.min(...direct.map((s) => issuedBeforeError.get(s)!));
  t.true(seen.slice(firstRefusal).every((s) => !s.direct));
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

test.serial('DirectWriter: the whole blocks of a piece aligned in memory where the file is aligned are written from where the piece lies; the rest goes through the stage', async (t) => {
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  // a: in aligned memory at file offset 0; b: ordinary memory; c: aligned memory, but at an unaligned file offset.
  const a = alignedBuffer(3 * DIRECT_ALIGN + 100);
  piece(a.length, 1).copy(a);
  const b = piece(50, 2);
  const c = alignedBuffer(2 * DIRECT_ALIGN);
  piece(c.length, 3).copy(c);
  await writeAll(w, [a, b, c]);
  await close(w);
  t.true(fs.readFileSync(file).equals(Buffer.concat([a, b, c])));
  t.deepEqual(seen[0], { direct: true, position: 0, length: 3 * DIRECT_ALIGN });
  t.is(memoryOf.get(seen[0]!), a.buffer);
  for (const s of seen.slice(1)) t.not(memoryOf.get(s), c.buffer);
  // The last partial block: a's last 100 bytes, b, c: 2 * DIRECT_ALIGN + 150 bytes from 3 * DIRECT_ALIGN.
  t.deepEqual(
    seen.slice(1).map((s) => [s.direct, s.position, s.length]),
    [
      [true, 3 * DIRECT_ALIGN, 2 * DIRECT_ALIGN],
      [false, 5 * DIRECT_ALIGN, 150],
    ],
  );
});

test.serial('DirectWriter: a shared block of the decoder is written from where it lies, several writes of at most 1 MiB for a longer piece', async (t) => {
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  const block = sharedPiece((5 << 19) + 7, 4);
  await writeAll(w, [block]);
  await close(w);
  t.true(fs.readFileSync(file).equals(block));
  t.deepEqual(
    seen.map((s) => [s.direct, s.position, s.length, memoryOf.get(s) === block.buffer]),
    [
      [true, 0, 1 << 20, true],
      [true, 1 << 20, 1 << 20, true],
      [true, 2 << 20, 1 << 19, true],
      [false, 5 << 19, 7, false],
    ],
  );
});

test.serial('DirectWriter: a write in place refused with EINVAL is written again from the piece through the page cache, and so is every later byte', async (t) => {
  const seen = spyWrite(t, (s) => (s.direct ? 'EINVAL' : undefined));
  const file = tempFile(t);
  const w = await create(file);
  const block = sharedPiece(3 * DIRECT_ALIGN, 5);
  const pieces = [block, piece(10, 6), piece(DIRECT_ALIGN, 7)];
  await writeAll(w, pieces);
  await close(w);
  t.false(w.direct);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
  t.deepEqual(
    seen.map((s) => [s.direct, s.position, s.length, memoryOf.get(s) === block.buffer]),
    [
      [true, 0, 3 * DIRECT_ALIGN, true],
      [false, 0, 3 * DIRECT_ALIGN, true],
      [false, 3 * DIRECT_ALIGN, DIRECT_ALIGN + 10, false],
    ],
  );
});

test.serial('DirectWriter: at most two writes are in flight, and the second only when it is a whole 1 MiB stage', async (t) => {
  const seen = spyWrite(t);
  const file = tempFile(t);
  const w = await create(file);
  // Ordinary memory (staged) and a shared block (in place), with small pieces between.
  const block = sharedPiece((5 << 19) + 7, 4);
  const pieces = [piece((3 << 20) + 5, 1), piece(100, 2), piece(DIRECT_ALIGN - 105, 3), block, piece(10, 5)];
  await writeAll(w, pieces);
  await close(w);
  t.true(fs.readFileSync(file).equals(Buffer.concat(pieces)));
  t.true(seen.every((s) => alongsideOf.get(s)! <= 1));
  t.true(seen.some((s) => alongsideOf.get(s) === 1));
  for (const s of seen.filter((s) => alongsideOf.get(s) === 1)) t.deepEqual([s.direct, s.length], [true, 1 << 20]);
});

test.serial('DirectWriter: a piece is called back only once every byte before its end is in the file, though the writes complete out of order', async (t) => {
  // The first write is called back last.
  const seen = spyWrite(t, undefined, { firstLast: true });
  const { log } = seen;
  const file = tempFile(t);
  const w = await create(file);
  const a = sharedPiece(1 << 20, 1);
  const b = sharedPiece(1 << 20, 2);
  await Promise.all([write(w, a, 0).then(() => log.push('a')), write(w, b, 1 << 20).then(() => log.push('b'))]);
  await close(w);
  t.deepEqual(
    seen.map((s) => [s.direct, s.position, alongsideOf.get(s)]),
    [
      [true, 0, 0],
      [true, 1 << 20, 1],
    ],
  );
  t.deepEqual(log, ['write 2', 'write 1', 'a', 'b']);
  t.true(fs.readFileSync(file).equals(Buffer.concat([a, b])));
});
