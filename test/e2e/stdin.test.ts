/**
 * Standard input read as a file is (lib/io/stdin.ts): a FIFO or a socket
 * pair fed in pieces with pauses, and a regular file read from where it stands, give the tree
 * the same snapshot named on the command line gives. Real child processes:
 * runCli's host thread has no descriptor 0 of its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
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

/** Runs the CLI with `stdin` as its descriptor 0. */
function run(args: string[], stdin: 'pipe' | number): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin, 'ignore', 'pipe'] });
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
  return { child, done };
}

/** Writes input in pieces of pseudo-random size, pausing past PipeChunks' IDLE_MS after every fifth. */
async function feed(w: NodeJS.WritableStream, input: Buffer): Promise<void> {
  // The CLI may exit before reading it all (a failed run): its exit code and stderr then say why.
  let broken = false;
  w.on('error', () => (broken = true));
  let seed = 11;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n) + 1;
  for (let at = 0, k = 0; at < input.length && !broken; k++) {
    const n = Math.min(rand(400 * 1024), input.length - at);
    // events.once removes its listeners either way (one left per wait piled up: MaxListenersExceededWarning).
    if (!w.write(input.subarray(at, at + n))) await once(w, 'drain').catch(() => {});
    at += n;
    if (k % 5 === 0) await new Promise((done) => setTimeout(done, 15));
  }
  w.end();
}

// A shell's pipe (`cat snap |`) is a FIFO; Node's own stdio pipe to a child is a socket pair.
for (const kind of ['fifo', 'socket pair'] as const) {
  for (const form of FORMS) {
    test(`a ${kind} fed in pieces, with pauses, decodes to the tree the file gives (${form})`, async (t) => {
      const work = tempDir(t);
      const input = inputBytes(SNAPSHOT, form);
      t.true(input.length > 8 * 1024 * 1024);
      fs.writeFileSync(path.join(work, 'in'), input);
      const byFile = await runCliProcess([path.join(work, 'in'), '-o', path.join(work, 'file')]);
      t.is(byFile.code, 0, byFile.stderr);
      const args = ['-', '-o', path.join(work, 'piped')];
      let r;
      if (kind === 'fifo') {
        const fifo = path.join(work, 'fifo');
        t.is(spawnSync('mkfifo', [fifo]).status, 0);
        // The reading end, opened without waiting for a writer, is the child's stdin.
        const rd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        t.true(fs.fstatSync(rd).isFIFO());
        const { done } = run(args, rd);
        fs.closeSync(rd);
        await feed(fs.createWriteStream(fifo), input);
        r = await done;
      } else {
        const { child, done } = run(args, 'pipe');
        await feed(child.stdin!, input);
        r = await done;
      }
      t.is(r.code, 0, r.stderr);
      t.deepEqual(files(readTree(path.join(work, 'piped'))), files(readTree(path.join(work, 'file'))));
    });
  }
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
  const r = await run(['-', '-o', path.join(work, 'stdin')], fd).done;
  t.is(r.code, 0, r.stderr);
  t.deepEqual(files(readTree(path.join(work, 'stdin'))), files(readTree(path.join(work, 'file'))));
});
