/**
 * The external sort's merge alone (lib/io/external-sort.ts): N records of
 * random 24-byte keys and a 40-byte payload (the shape of the object
 * spool's records), spilled at the default 16 MiB budget, then the time and
 * CPU of reading them back in order with `for await` over `sorted()`.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/sort-merge.js [RECORDS] [--rounds N]
 *
 * Prints one line per round. Run files go to a temp directory, removed after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExternalSorter } from '../lib/io/external-sort.js';

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' } }, allowPositionals: true });
const rounds = Number(values.rounds);
const records = Number(positionals[0] ?? 1_000_000);
if (!(rounds >= 1) || !(records >= 1)) {
  console.error('usage: node dist/bench/sort-merge.js [RECORDS] [--rounds N]');
  process.exit(2);
}
const KEY = 24;
const payload = randomBytes(40);

for (let round = 1; round <= rounds; round++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ekv-sort-merge-'));
  try {
    const keys = randomBytes(records * KEY);
    const sorter = new ExternalSorter({ dir });
    for (let i = 0; i < records; i++) {
      const wait = sorter.add(keys.subarray(i * KEY, (i + 1) * KEY), payload);
      if (wait) await wait;
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    for await (const r of sorter.sorted()) n += r.key.length > 0 ? 1 : 0;
    const cpu = process.cpuUsage(cpu0);
    console.log(`round ${round}: ${n} records from ${sorter.runCount} runs merged in ${((performance.now() - t0) / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU`);
    await sorter.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
