import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { alignedAt, alignedBuffer, alignedShared, DIRECT_ALIGN, WASM_PAGE } from '../lib/io/aligned-memory.js';

function tempFile(t: { teardown(f: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-aligned-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'f');
}

/** Writes buf[at, at + length) at file offset 0 with O_DIRECT; the error code when the kernel refuses. */
function directWrite(file: string, buf: Uint8Array, at: number, length: number): number | string {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_DIRECT, 0o600);
  try {
    return fs.writeSync(fd, buf, at, length, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code!;
  } finally {
    fs.closeSync(fd);
  }
}

test('alignedBuffer: its memory can be written with O_DIRECT from its first byte', (t) => {
  const file = tempFile(t);
  const buf = alignedBuffer(DIRECT_ALIGN * 2);
  buf.fill(0x5a);
  t.is(directWrite(file, buf, 0, buf.length), buf.length);
  t.true(fs.readFileSync(file).equals(Buffer.alloc(DIRECT_ALIGN * 2, 0x5a)));
});

test('alignedShared: shared memory that can be written with O_DIRECT from any DIRECT_ALIGN boundary; it comes in 64 KiB pages', (t) => {
  const file = tempFile(t);
  const sab = alignedShared(2 * WASM_PAGE);
  t.true(sab instanceof SharedArrayBuffer);
  t.is(sab.byteLength, 2 * WASM_PAGE);
  const buf = Buffer.from(sab);
  buf.fill(0xa5, DIRECT_ALIGN, 3 * DIRECT_ALIGN);
  t.is(directWrite(file, buf, DIRECT_ALIGN, 2 * DIRECT_ALIGN), 2 * DIRECT_ALIGN);
  t.true(fs.readFileSync(file).equals(Buffer.alloc(2 * DIRECT_ALIGN, 0xa5)));
  t.throws(() => alignedShared(1000), { instanceOf: RangeError });
});

test('alignedAt: true only for memory from this module, at a multiple of DIRECT_ALIGN', (t) => {
  const a = alignedBuffer(3 * DIRECT_ALIGN);
  t.true(alignedAt(a, 0));
  t.true(alignedAt(a, DIRECT_ALIGN));
  t.true(alignedAt(a.subarray(DIRECT_ALIGN), DIRECT_ALIGN));
  t.false(alignedAt(a, 512));
  t.false(alignedAt(a.subarray(1), DIRECT_ALIGN));
  const s = Buffer.from(alignedShared(WASM_PAGE));
  t.true(alignedAt(s, 2 * DIRECT_ALIGN));
  t.false(alignedAt(s, 100));
  // Memory whose alignment is not known: an ordinary buffer, a plain SharedArrayBuffer.
  t.false(alignedAt(Buffer.allocUnsafeSlow(2 * DIRECT_ALIGN), 0));
  t.false(alignedAt(Buffer.from(new SharedArrayBuffer(2 * DIRECT_ALIGN)), 0));
});

test('memory 16 bytes into a page, where malloc puts a large buffer, is refused by O_DIRECT here (the reason for the stage)', (t) => {
  const file = tempFile(t);
  const page = alignedBuffer(3 * DIRECT_ALIGN);
  t.is(directWrite(file, page.subarray(16), 0, DIRECT_ALIGN), 'EINVAL');
  t.false(alignedAt(page, 16));
});
