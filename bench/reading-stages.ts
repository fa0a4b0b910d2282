/**
 * What each stage of a decode's reading phase costs: the stage chain of
 * decode.ts (reader, version resolver, key classifier, record filter, blob
 * spiller, bucket collector) cut after each stage in turn, ending in a
 * Writable that drops what reaches it. The filter is in a decode's chain
 * only with --bucket or --prefix: here, with no filter to apply, its cost
 * is what a stage passing every record on costs. Each cut runs in a process of its
 * own, the cuts alternating round by round, so a stage's cost is the
 * difference between two medians of one run. Nothing is written but the
 * spiller's scratch (a temp directory under --tmp, removed after).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/reading-stages.js INPUT.fsm [--rounds N] [--tmp DIR]
 *
 * Prints a line per process and a table of medians. The sink phase is not
 * measured here: the collector's one output, the bucket collections, is
 * dropped unread.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBucketCollector } from '../lib/stages/collect.js';
import { createKeyClassifier } from '../lib/stages/classify.js';
import { createRecordFilter } from '../lib/stages/filter.js';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import { createVersionResolver } from '../lib/stages/resolve-versions.js';
import { createBlobSpiller } from '../lib/stages/spill.js';
import { openInputFile, SHARED_READ_BYTES } from '../lib/io/input-file.js';
import type { Transform } from 'node:stream';

/** The stages after the reader, in decode.ts's order, as decodeSnapshot makes them for a directory. */
const STAGES: ReadonlyArray<{ name: string; make: (scratch: string) => Transform }> = [
  { name: 'version resolver', make: () => createVersionResolver() },
  { name: 'key classifier', make: () => createKeyClassifier() },
  { name: 'record filter (only with --bucket, --prefix)', make: () => createRecordFilter({}) },
  { name: 'blob spiller', make: (scratch) => createBlobSpiller({ scratchDir: scratch, md5: true, direct: true }) },
  { name: 'bucket collector', make: (scratch) => createBucketCollector({ scratchDir: scratch }) },
];

interface Cut {
  stages: number;
  wallS: number;
  cpuS: number;
  /** What reached the end of the cut chain: records, value pieces, sealed runs, bucket collections. */
  items: number;
}

/** One process: the reader and the first `stages` stages, timed from the first read to the end. */
async function child(input: string, stages: number, tmp: string): Promise<Cut> {
  const scratch = fs.mkdtempSync(path.join(tmp, 'ekv-reading-stages-'));
  try {
    const source = await openInputFile(input, { readSize: SHARED_READ_BYTES, shared: true });
    const reader = createSnapshotReader({ valuePieces: true, emptyIsError: true });
    let items = 0;
    const drop = new Writable({ objectMode: true, write: (_r, _e, cb) => void (items++, cb()) });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await pipeline([source, reader, ...STAGES.slice(0, stages).map((s) => s.make(scratch)), drop]);
    const cpu = process.cpuUsage(cpu0);
    return { stages, wallS: (performance.now() - t0) / 1000, cpuS: (cpu.user + cpu.system) / 1e6, items };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, tmp: { type: 'string', default: os.tmpdir() }, child: { type: 'string' } },
    allowPositionals: true,
  });
  const input = positionals[0];
  const rounds = Number(values.rounds);
  if (input === undefined || !(rounds >= 1)) {
    console.error('usage: node dist/bench/reading-stages.js INPUT.fsm [--rounds N] [--tmp DIR]');
    return 2;
  }
  if (values.child !== undefined) {
    console.log(JSON.stringify(await child(input, Number(values.child), values.tmp)));
    return 0;
  }
  const self = fileURLToPath(import.meta.url);
  const cuts: Cut[][] = Array.from({ length: STAGES.length + 1 }, () => []);
  for (let round = 1; round <= rounds; round++) {
    for (let stages = 0; stages <= STAGES.length; stages++) {
      const out = execFileSync(process.execPath, [self, input, '--child', String(stages), '--tmp', values.tmp], { encoding: 'utf8' });
      const cut = JSON.parse(out) as Cut;
      cuts[stages]!.push(cut);
      console.log(`round ${round}: reader + ${stages} stage(s): ${cut.wallS.toFixed(3)} s wall, ${cut.cpuS.toFixed(3)} s CPU`);
    }
  }
  console.log('\n| chain up to | wall s (median) | CPU s (median) | the stage adds (wall) |\n|---|---:|---:|---:|');
  let before = 0;
  cuts.forEach((list, stages) => {
    const wall = median(list.map((c) => c.wallS));
    const cpu = median(list.map((c) => c.cpuS));
    const name = stages === 0 ? 'snapshot reader' : STAGES[stages - 1]!.name;
    console.log(`| ${name} | ${wall.toFixed(3)} | ${cpu.toFixed(3)} | ${stages === 0 ? '' : (wall - before).toFixed(3)} |`);
    before = wall;
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
