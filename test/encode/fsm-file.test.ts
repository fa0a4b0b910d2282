import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsmFile } from '../../lib/encode/fsm-file.js';
import { testCrc32c } from '../helpers/fsm.js';
import { sameBytes } from '../helpers/bytes.js';

/** body followed by its CRC-32C footer (big-endian). */
function withFooter(body: Buffer): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(testCrc32c(body));
  return Buffer.concat([body, crc]);
}

function dir(t: import('ava').ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-fsmfile-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

test('pieces small and large land in order; SHA-256 of every byte; CRC-32C footer big-endian; published without a trace', async (t) => {
  const d = dir(t);
  const out = path.join(d, 'out.fsm');
  const f = await FsmFile.create(out, { footer: true, durable: true });
  const big = Buffer.alloc(200_000, 0xab);
  await f.write([Buffer.from('head'), big, Buffer.from('tail')]);
  await f.write([Buffer.from('x')]);
  await f.footer();
  const sha = await f.close();
  t.true(fs.existsSync(f.tmpPath));
  await f.publish();
  const want = withFooter(Buffer.concat([Buffer.from('head'), big, Buffer.from('tail'), Buffer.from('x')]));
  sameBytes(t, fs.readFileSync(out), want, 'out.fsm');
  t.is(sha, createHash('sha256').update(want).digest('hex'));
  t.is(f.bytes, want.length);
  t.deepEqual(fs.readdirSync(d), ['out.fsm']);
});

test('a piece may be reused once write() returns: small pieces are copied into the batch, across batch boundaries', async (t) => {
  const d = dir(t);
  const out = path.join(d, 'out.fsm');
  const f = await FsmFile.create(out, { footer: false, durable: false });
  // 700 pieces of 3 000 bytes (2.0 MiB: two batches and a part) through one buffer the caller overwrites after each write.
  const reused = Buffer.alloc(3000);
  const want: Buffer[] = [];
  for (let i = 0; i < 700; i++) {
    reused.fill(i & 0xff);
    want.push(Buffer.from(reused));
    await f.write([reused]);
  }
  reused.fill(0xee);
  await f.close();
  await f.publish();
  sameBytes(t, fs.readFileSync(out), Buffer.concat(want), 'out.fsm');
});

test('append: a file larger than the batch lands after the pieces before it, in the SHA-256 and the CRC-32C footer', async (t) => {
  const d = dir(t);
  const from = path.join(d, 'entries');
  const entries = Buffer.from(Array.from({ length: 2.5 * 1024 * 1024 + 3 }, (_, i) => (i * 31 + (i >> 16)) & 0xff));
  fs.writeFileSync(from, entries);
  const out = path.join(d, 'out.fsm');
  const f = await FsmFile.create(out, { footer: true, durable: false });
  await f.write([Buffer.from('before')]);
  await f.append(from);
  await f.write([Buffer.from('after')]);
  await f.footer();
  const sha = await f.close();
  await f.publish();
  const want = withFooter(Buffer.concat([Buffer.from('before'), entries, Buffer.from('after')]));
  sameBytes(t, fs.readFileSync(out), want, 'out.fsm');
  t.is(sha, createHash('sha256').update(want).digest('hex'));
  t.is(f.bytes, want.length);
  const g = await FsmFile.create(path.join(d, 'g'), { footer: false, durable: false });
  await t.throwsAsync(g.append(path.join(d, 'missing')), { code: 'ERR_IO', message: /missing/ });
  await g.discard();
});

test('an output that appeared meanwhile is not replaced; discard removes the temporary file', async (t) => {
  const d = dir(t);
  const out = path.join(d, 'out.fsm');
  const f = await FsmFile.create(out, { footer: false, durable: false });
  await f.write([Buffer.from('new')]);
  await f.close();
  fs.writeFileSync(out, 'old');
  await t.throwsAsync(f.publish(), { message: /appeared while encoding/ });
  await f.discard();
  t.is(fs.readFileSync(out, 'utf8'), 'old');
  t.deepEqual(fs.readdirSync(d), ['out.fsm']);
  const n = await FsmFile.create(path.join(d, 'n'), { footer: false, durable: false });
  await t.throwsAsync(n.footer(), { message: /without footer/ });
  await n.discard();
});
