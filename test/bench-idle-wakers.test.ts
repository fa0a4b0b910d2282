/**
 * bench/idle-wakers.ts charges each stretch of idle samples in a CPU
 * profile to the stack of the sample that ended it; the figures it gives
 * in docs/PERFORMANCE.md stand on that arithmetic.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './e2e/harness.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../bench/idle-wakers.js');

const frame = (functionName: string) => ({ functionName, scriptId: '0', url: '', lineNumber: 0, columnNumber: 0 });

test('idle-wakers: each idle stretch goes to the stack that ended it, summed per stack, largest first; --from skips the start', (t) => {
  // (root) > (idle); (root) > wrapper > whenWritten; (root) > read
  const nodes = [
    { id: 1, callFrame: frame('(root)'), children: [2, 3, 5] },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('wrapper'), children: [4] },
    { id: 4, callFrame: frame('whenWritten') },
    { id: 5, callFrame: frame('read') },
  ];
  // Sample times (µs): 1000 idle, 2000 idle, 3000 read (idle 2 ms, from 1000 to 3000), 4000 idle, 9000 whenWritten (5 ms),
  // 10000 idle, 11000 whenWritten (1 ms): whenWritten 6 ms in 2 stretches, read 2 ms.
  const samples = [2, 2, 5, 2, 4, 2, 4];
  const timeDeltas = [1000, 1000, 1000, 1000, 5000, 1000, 1000];
  const file = path.join(tempDir(t), 'p.cpuprofile');
  fs.writeFileSync(file, JSON.stringify({ nodes, samples, timeDeltas, startTime: 0, endTime: 11000 }));
  const all = spawnSync(process.execPath, [SCRIPT, file], { encoding: 'utf8' });
  t.is(all.status, 0, all.stderr);
  t.deepEqual(all.stdout.trim().split('\n'), ['idle 8 ms after the first 0 ms', '6 ms idle, 2×, woken by: wrapper > whenWritten', '2 ms idle, 1×, woken by: read']);
  const late = spawnSync(process.execPath, [SCRIPT, file, '--from', '3.5', '--depth', '1'], { encoding: 'utf8' });
  t.is(late.status, 0, late.stderr);
  t.deepEqual(late.stdout.trim().split('\n'), ['idle 6 ms after the first 3.5 ms', '6 ms idle, 2×, woken by: wrapper']);
});
