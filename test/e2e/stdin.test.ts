/**
 * Standard input read as a file is (lib/io/stdin.ts): a pipe fed in pieces
 * with pauses, and a regular file read from where it stands, give the tree
 * the same snapshot named on the command line gives. Real child processes:
 * runCli's host thread has no descriptor 0 of its own.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { SnapshotBuilder } from '../helpers/snapshot.js';
import { BIN, bytesOf, FORMS, inputBytes, readTree, runCliProcess, tempDir, type ReadTree } from './harness.js';

/** Objects spanning several 4 MiB reads, with 1 MiB chunks (views of a read) and small ones (copies). */
function snapshot(): SnapshotBuilder {
  const snap = new SnapshotBuilder().bucket('bkt');
  for (let i = 0; i < 6; i++) snap.putObject('bkt', `big/${i}`, bytesOf(`big${i}`, 1_500_000 + i * 333));
  for (let i = 0; i < 100; i++) snap.putObject('bkt', `small/${i}`, bytesOf(`small${i}`, 100 + i));
  return snap;
}
const SNAPSHOT = snapshot();

/** Every file of a dump but MANIFEST.json and CHECKSUMS (the source and time differ), path → SHA-256 (ava compares megabytes slowly). */
function files(tree: ReadTree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [p, f] of tree.files) if (p !== 'MANIFEST.json' && p !== 'CHECKSUMS') out.set(p, createHash('sha256').update(f.data).digest('hex'));
  return out;
}

/** Runs the CLI with `stdin` as its descriptor 0 (after `feed` has written to it, for a pipe). */
function run(args: string[], stdin: 'pipe' | number, feed?: (w: NodeJS.WritableStream) => Promise<void>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin, 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    if (feed) feed(child.stdin!).catch(reject);
  });
}

for (const form of FORMS) {
  test(`a pipe fed in pieces, with pauses, decodes to the tree the file gives (${form})`, async (t) => {
    const work = tempDir(t);
    const input = inputBytes(SNAPSHOT, form);
    t.true(input.length > 8 * 1024 * 1024);
    fs.writeFileSync(path.join(work, 'in'), input);
    const byFile = await runCliProcess([path.join(work, 'in'), '-o', path.join(work, 'file')]);
    t.is(byFile.code, 0, byFile.stderr);
    let seed = 11;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n) + 1;
    const r = await run(['-', '-o', path.join(work, 'pipe')], 'pipe', async (w) => {
      for (let at = 0, k = 0; at < input.length; k++) {
        const n = Math.min(rand(400 * 1024), input.length - at);
        if (!w.write(input.subarray(at, at + n))) await new Promise((done) => w.once('drain', done));
        at += n;
        if (k % 5 === 0) await new Promise((done) => setTimeout(done, 15));
      }
      w.end();
    });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(files(readTree(path.join(work, 'pipe'))), files(readTree(path.join(work, 'file'))));
  });
}

test('a regular file on stdin is read from where it stands, not from its start', async (t) => {
  const work = tempDir(t);
  const input = inputBytes(SNAPSHOT, 'fsm');
  const junk = Buffer.from('not a snapshot: skipped by whoever handed the descriptor on\n');
  fs.writeFileSync(path.join(work, 'in'), Buffer.concat([junk, input]));
  fs.writeFileSync(path.join(work, 'clean'), input);
  const byFile = await runCliProcess([path.join(work, 'clean'), '-o', path.join(work, 'file')]);
  t.is(byFile.code, 0, byFile.stderr);
  const fd = fs.openSync(path.join(work, 'in'), 'r');
  t.teardown(() => fs.closeSync(fd));
  t.is(fs.readSync(fd, Buffer.alloc(junk.length), 0, junk.length, null), junk.length);
  const r = await run(['-', '-o', path.join(work, 'stdin')], fd);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(files(readTree(path.join(work, 'stdin'))), files(readTree(path.join(work, 'file'))));
});
