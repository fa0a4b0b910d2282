/**
 * What the disk takes for 1 GiB written with O_DIRECT in 1 MiB writes, one
 * or two in flight, with the main thread idle or busy in 1 ms slices (as a
 * decoder's is between its writes' callbacks). The writes go through
 * libuv's pool from distinct page-aligned memory, as the DirectWriter's
 * do (lib/io/direct-writer.ts); rounds alternate, each into a fresh file
 * in DIR, deleted after.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/direct-queue-depth.js [DIR] [--rounds N]
 *
 * Prints one line per run: depth, main thread, wall seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomFillSync } from 'node:crypto';
import { parseArgs } from 'node:util';
import { alignedShared } from '../lib/io/aligned-memory.js';
import { CREATE_NEW } from '../lib/io/fs-callbacks.js';

const WRITE = 1 << 20;
const WRITES = 1024;

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' } }, allowPositionals: true });
const dir = positionals[0] ?? os.tmpdir();
// 1 GiB of distinct, page-aligned memory.
const memory = Buffer.from(alignedShared(WRITE * WRITES));
for (let at = 0; at < memory.length; at += WRITE) randomFillSync(memory, at, 4096);

async function run(depth: number, busy: boolean): Promise<number> {
  const file = path.join(dir, `ekv-direct-queue-depth-${process.pid}`);
  const fd = fs.openSync(file, CREATE_NEW | fs.constants.O_DIRECT, 0o600);
  let stop = false;
  const spin = (): void => {
    if (stop) return;
    const until = performance.now() + 1;
    while (performance.now() < until);
    setImmediate(spin);
  };
  if (busy) setImmediate(spin);
  const t0 = performance.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      const issue = (): void => {
        if (next === WRITES) return;
        const at = next++ * WRITE;
        fs.write(fd, memory, at, WRITE, at, (err) => {
          if (err) return reject(err);
          if (++done === WRITES) resolve();
          else issue();
        });
      };
      for (let i = 0; i < depth; i++) issue();
    });
    return (performance.now() - t0) / 1000;
  } finally {
    stop = true;
    fs.closeSync(fd);
    fs.rmSync(file);
  }
}

for (let r = 0; r < Number(values.rounds); r++) {
  for (const busy of [false, true]) {
    for (const depth of [1, 2]) console.log(`depth ${depth}\tmain ${busy ? 'busy' : 'idle'}\t${(await run(depth, busy)).toFixed(3)} s`);
  }
}
