/**
 * decodeChecksums() (the encoder's self-test decode, issue 12): the dump's
 * CHECKSUMS and nothing else. Its bytes are compared with the CHECKSUMS of
 * a directory decode of the same snapshot, and each line with the SHA-256
 * of the file it names in that tree, hashed here.
 */
import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeChecksums, decodeSnapshot } from '../lib/decode.js';
import { BUDGET_ENV } from '../lib/io/external-sort.js';
import { SnapshotBuilder } from './helpers/snapshot.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-decode-checksums-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two buckets; a body of 200 KiB (a run of its own, published whole), small ones, a key with a newline (an escaped line). */
function snapshot(): Buffer {
  const s = new SnapshotBuilder().bucket('b').bucket('c');
  s.putObject('b', 'big', Buffer.alloc(200 * 1024, 7));
  for (let i = 0; i < 40; i++) s.putObject('b', `d${i % 4}/k${i}`, Buffer.from(`body ${i}`));
  s.putObject('c', 'new\nline', Buffer.from('x'));
  return s.toFsm({ sort: true, lastCommitTs: 9n });
}

async function check(t: import('ava').ExecutionContext): Promise<void> {
  const dir = tmp(t);
  fs.writeFileSync(path.join(dir, 'in.fsm'), snapshot());
  await decodeSnapshot(path.join(dir, 'in.fsm'), { output: path.join(dir, 'tree') });
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch);
  const summary = await decodeChecksums(path.join(dir, 'in.fsm'), path.join(dir, 'CHECKSUMS'), { scratchDir: scratch });
  // MANIFEST.json differs (wall time, source path): every other line is the same.
  const lines = (f: string) => fs.readFileSync(f).toString('latin1').split('\n').filter((l) => !l.endsWith('  MANIFEST.json'));
  const got = lines(path.join(dir, 'CHECKSUMS'));
  t.deepEqual(got, lines(path.join(dir, 'tree', 'CHECKSUMS')));
  t.is(got.length, 2 * 42 + 2 + 1, 'bodies and sidecars, two _bucket.json, and the empty string after the last newline');
  t.true(got.some((l) => l.startsWith('\\') && l.endsWith('  s3/c/new\\nline')), 'the escaped line');
  for (const l of got.filter((x) => x !== '' && !x.startsWith('\\'))) {
    const [hex, rel] = [l.slice(0, 64), l.slice(66)];
    t.is(createHash('sha256').update(fs.readFileSync(path.join(dir, 'tree', rel))).digest('hex'), hex, rel);
  }
  t.is(summary.objects, 42);
  t.deepEqual(fs.readdirSync(scratch), [], 'its scratch is removed');
  t.deepEqual(fs.readdirSync(dir).sort(), ['CHECKSUMS', 'in.fsm', 'scratch', 'tree'], 'no other file is written');
}

test.serial('decodeChecksums: the CHECKSUMS of a directory decode, byte for byte, and no other file', check);

test.serial('decodeChecksums: the same with the checksum list spilled and merged on disk (a one-byte budget)', async (t) => {
  process.env[BUDGET_ENV] = '1';
  try {
    await check(t);
  } finally {
    delete process.env[BUDGET_ENV];
  }
});
