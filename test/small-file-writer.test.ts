import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SmallFileWriter } from '../lib/io/small-file-writer.js';
import { DecodeError } from '../lib/errors.js';
import { sameBytes } from './helpers/bytes.js';

function tempDir(t: import('ava').ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfw-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const content = (i: number) => Buffer.from(`file ${i}\n`.repeat(1 + (i % 7)));

test('every file exists with its bytes and mode once flush() resolves, on the calling thread and on the worker', async (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter({ syncFiles: 10 });
  t.teardown(() => w.close());
  const n = 1500; // several batches of BATCH_FILES
  for (let i = 0; i < n; i++) {
    // Two pieces: a file is the concatenation of its pieces.
    const c = content(i);
    await w.write(Buffer.from(path.join(dir, `f${i}`)), [c.subarray(0, 3), c.subarray(3)], i % 2 ? 0o600 : 0o644, true);
  }
  await w.flush();
  for (let i = 0; i < n; i++) {
    const f = path.join(dir, `f${i}`);
    sameBytes(t, fs.readFileSync(f), content(i), f);
    t.is(fs.statSync(f).mode & 0o777, i % 2 ? 0o600 : 0o644, f);
  }
});

test('batch byte blocks come back from the worker and are reused: at most MAX_BATCHES + 1 are made for any number of files', async (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter({ syncFiles: 0 });
  t.teardown(() => w.close());
  const n = 6000; // over 20 batches of BATCH_FILES
  for (let i = 0; i < n; i++) await w.write(Buffer.from(path.join(dir, `f${i}`)), [content(i)], 0o600, false);
  await w.flush();
  t.true(w.blocksMade <= 5, `blocks made: ${w.blocksMade}`);
  for (const i of [0, 255, 256, 3001, n - 1]) sameBytes(t, fs.readFileSync(path.join(dir, `f${i}`)), content(i), `f${i}`);
});

test('a file too large for a batch, and a lazy iterable of pieces, are written at once', async (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter({ syncFiles: 0 });
  t.teardown(() => w.close());
  const big = Buffer.alloc(3 << 20, 7);
  t.is(w.write(Buffer.from(path.join(dir, 'big')), [big], 0o600, false), undefined);
  sameBytes(t, fs.readFileSync(path.join(dir, 'big')), big, 'big');
  function* pieces() {
    yield Buffer.from('a');
    yield Buffer.from('b');
  }
  t.is(w.write(Buffer.from(path.join(dir, 'lazy')), pieces(), 0o600, false), undefined);
  t.is(fs.readFileSync(path.join(dir, 'lazy'), 'utf8'), 'ab');
  await w.flush();
});

test('a file that already exists fails as ERR_IO naming it (the worker never overwrites)', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'taken'), 'keep me');
  const w = new SmallFileWriter({ syncFiles: 0 });
  t.teardown(() => w.close());
  await w.write(Buffer.from(path.join(dir, 'ok')), [Buffer.from('x')], 0o600, false);
  await w.write(Buffer.from(path.join(dir, 'taken')), [Buffer.from('new')], 0o600, false);
  const err = await t.throwsAsync(w.flush());
  t.true(err instanceof DecodeError);
  t.is((err as DecodeError).code, 'ERR_IO');
  t.regex(err!.message, /EEXIST/);
  t.is((err as DecodeError).context.path, path.join(dir, 'taken'));
  t.is(fs.readFileSync(path.join(dir, 'taken'), 'utf8'), 'keep me');
  t.is(fs.readFileSync(path.join(dir, 'ok'), 'utf8'), 'x');
  // Later writes report the same failure instead of going on.
  t.throws(() => w.write(Buffer.from(path.join(dir, 'later')), [Buffer.from('y')], 0o600, false), { message: /EEXIST/ });
});

test('a missing directory fails on the calling thread too, naming the file', (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter();
  t.teardown(() => w.close());
  const f = path.join(dir, 'no', 'such');
  const err = t.throws(() => w.write(Buffer.from(f), [Buffer.from('x')], 0o600, false));
  t.is((err as DecodeError).code, 'ERR_IO');
  t.is((err as DecodeError).context.path, f);
  t.regex(err!.message, /ENOENT/);
});

test('write() asks the caller to wait once MAX_BATCHES are in flight (backpressure)', async (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter({ syncFiles: 0 });
  t.teardown(() => w.close());
  let waited = 0;
  // 256 KiB files fill a batch each: the fifth one in a row must wait.
  const body = Buffer.alloc(200 << 10, 1);
  for (let i = 0; i < 12; i++) {
    const p = w.write(Buffer.from(path.join(dir, `b${i}`)), [body], 0o600, false);
    if (p) {
      waited++;
      await p;
    }
  }
  await w.flush();
  t.true(waited > 0);
  t.is(fs.readdirSync(dir).length, 12);
});

test('close() while batches are in flight: whoever waits for room is released with an error', async (t) => {
  const dir = tempDir(t);
  const w = new SmallFileWriter({ syncFiles: 0 });
  const body = Buffer.alloc(200 << 10, 1);
  let pending: Promise<void> | undefined;
  for (let i = 0; !pending; i++) pending = w.write(Buffer.from(path.join(dir, `f${i}`)), [body], 0o600, false);
  const waiting = t.throwsAsync(pending, { message: /closed/ });
  await w.close();
  await waiting;
});

test('close() keeps the process alive until the thread has exited, even when its last replies arrive meanwhile (else: exit 13)', (t) => {
  // Replies that were already queued when close() began used to unreference
  // the thread while it was being terminated: with nothing else pending the
  // process ended at once (exit code 13), before the caller's cleanup.
  const dir = tempDir(t);
  const module = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'lib', 'io', 'small-file-writer.js');
  const script = `
    import { SmallFileWriter } from ${JSON.stringify(module)};
    const w = new SmallFileWriter({ syncFiles: 0 });
    const body = Buffer.alloc(200 << 10, 1);
    let i = 0;
    let pending;
    while (!pending) pending = w.write(Buffer.from(${JSON.stringify(dir)} + '/out-' + i++), [body], 0o600, false);
    pending.catch(() => {});
    // Block this thread while the writer finishes its batches: their replies
    // are then queued, and arrive while close() terminates it.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    await w.close();
    console.log('closed after', i);
  `;
  const file = path.join(dir, 'close-race.mjs');
  fs.writeFileSync(file, script);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^closed after \d+/);
});
