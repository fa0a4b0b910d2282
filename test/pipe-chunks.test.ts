/**
 * PipeChunks (lib/io/pipe-chunks.ts) on a real pipe: a child process reads
 * its descriptor 0 with it and reports each chunk; the test writes to the
 * pipe. Chunk sizes depend on how the two processes are scheduled, so what
 * is pinned is what holds whatever the timing: every byte once and in order,
 * no chunk over readSize, what was read passed on when the writer pauses,
 * and an empty pipe ending with no chunk.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { IDLE_MS } from '../lib/io/pipe-chunks.js';

const MODULE = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/io/pipe-chunks.js');
const READ_SIZE = 64 * 1024;

/** A child reading fd 0 with PipeChunks: a line per chunk ("chunk N"), then "end BYTES SHA256". */
function reader(shared: boolean): { child: ChildProcessWithoutNullStreams; lines: string[]; next: () => Promise<string> } {
  const script = `
    import { createHash } from 'node:crypto';
    import { PipeChunks } from ${JSON.stringify(MODULE)};
    import { recycleChunk } from ${JSON.stringify(MODULE.replace('pipe-chunks.js', 'file-chunks.js'))};
    const sha = createHash('sha256');
    let total = 0;
    const s = new PipeChunks(0, ${READ_SIZE}, ${shared});
    s.on('data', (b) => { sha.update(b); total += b.length; console.log('chunk ' + b.length); recycleChunk(b); });
    s.on('end', () => console.log('end ' + total + ' ' + sha.digest('hex')));
    s.on('error', (e) => console.log('error ' + e.code));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  let rest = '';
  child.stdout.on('data', (b: Buffer) => {
    rest += b.toString();
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const l of parts) (waiting.shift() ?? ((x: string) => lines.push(x)))(l);
  });
  const next = (): Promise<string> => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve)));
  return { child, lines, next };
}

async function untilEnd(next: () => Promise<string>): Promise<{ chunks: number[]; end: string }> {
  const chunks: number[] = [];
  for (;;) {
    const l = await next();
    if (l.startsWith('chunk ')) chunks.push(Number(l.slice(6)));
    else return { chunks, end: l };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const shared of [false, true]) {
  test(`every byte arrives once and in order, in chunks of at most readSize, whatever the pieces and pauses (shared ${shared})`, async (t) => {
    const { child, next } = reader(shared);
    const data = Buffer.alloc(3 * 1024 * 1024 + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n) + 1;
    for (let at = 0, k = 0; at < data.length; k++) {
      const n = Math.min(rand(150 * 1024), data.length - at);
      if (!child.stdin.write(data.subarray(at, at + n))) await new Promise((r) => child.stdin.once('drain', r));
      at += n;
      if (k % 7 === 0) await sleep(IDLE_MS * 3);
    }
    child.stdin.end();
    const { chunks, end } = await untilEnd(next);
    t.is(end, `end ${data.length} ${createHash('sha256').update(data).digest('hex')}`);
    t.true(chunks.every((n) => n > 0 && n <= READ_SIZE), chunks.join(' '));
    t.is(chunks.reduce((a, b) => a + b, 0), data.length);
  });
}

test('what was read is passed on when the writer pauses, before its chunk is full', async (t) => {
  const { child, next } = reader(true);
  child.stdin.write(Buffer.alloc(1000, 1));
  // No more is written until the reader has passed the 1000 bytes on.
  t.is(await next(), 'chunk 1000');
  child.stdin.write(Buffer.alloc(500, 2));
  t.is(await next(), 'chunk 500');
  child.stdin.end();
  const want = createHash('sha256').update(Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(500, 2)])).digest('hex');
  t.is(await next(), `end 1500 ${want}`);
});

test('an empty pipe ends with no chunk', async (t) => {
  const { child, next } = reader(true);
  child.stdin.end();
  t.is(await next(), `end 0 ${createHash('sha256').digest('hex')}`);
});
