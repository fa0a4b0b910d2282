import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsmFile } from '../../lib/encode/fsm-file.js';
import { testCrc32c } from '../helpers/fsm.js';
import { sameBytes } from '../helpers/bytes.js';

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
  const body = Buffer.concat([Buffer.from('head'), big, Buffer.from('tail'), Buffer.from('x')]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(testCrc32c(body));
  const want = Buffer.concat([body, crc]);
  sameBytes(t, fs.readFileSync(out), want, 'out.fsm');
  t.is(sha, createHash('sha256').update(want).digest('hex'));
  t.is(f.bytes, want.length);
  t.deepEqual(fs.readdirSync(d), ['out.fsm']);
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
