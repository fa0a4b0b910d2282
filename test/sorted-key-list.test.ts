import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { assignPathsOfSortedKeys } from '../lib/core/names.js';
import { sortedArray } from '../lib/core/sorted-keys.js';
import { SortedKeyList } from '../lib/io/sorted-key-list.js';

// The live keys of a bucket on disk in blocks, searched near the key being
// named (lib/io/sorted-key-list.ts), with the last blocks read kept.

function scratch(t: import('ava').ExecutionContext): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ekv-keys-'));
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

const keyOf = (i: number) => `data/${String(Math.floor(i / 1000)).padStart(3, '0')}/obj-${String(i).padStart(6, '0')}.bin`;

test('ceiling() over many blocks (more than are kept), searched near and far in any order, agrees with a search of the sorted array', (t) => {
  const keys = Array.from({ length: 5000 }, (_, i) => keyOf(2 * i));
  const list = new SortedKeyList(scratch(t), 1, 8); // 625 blocks of 8
  for (const k of keys) list.add(k);
  t.true(list.onDisk);
  const want = sortedArray(keys);
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let q = 0; q < 20000; q++) {
    // Mostly near the last query (as naming searches), sometimes anywhere; odd numbers fall between keys.
    const i = q % 5 === 0 ? rnd(10002) : (q + rnd(40)) % 10002;
    const probe = q % 7 === 0 ? keyOf(i) + '/' : keyOf(i);
    t.is(list.ceiling(probe), want.ceiling(probe), probe);
  }
  t.deepEqual([...list], keys);
  list.close();
});

test('naming 100 000 keys on disk leaves little to the old generation through young collections (0.5 MiB; with the recent blocks kept in a Map, 8.5 MiB)', (t) => {
  const list = new SortedKeyList(scratch(t), 64 * 1024);
  for (let i = 0; i < 100_000; i++) list.add(keyOf(i));
  t.true(list.onDisk);
  const profiler = new v8.GCProfiler();
  profiler.start();
  const names = assignPathsOfSortedKeys(list, { renameCollisions: false }, false);
  const { statistics } = profiler.stop();
  list.close();
  t.is(names.size, 0);
  // What young collections moved to the old generation during the pass: about 0.5 MiB now, 8 MiB with the Map.
  const old = (s: { heapSpaceStatistics: v8.HeapSpaceStatistics[] }) => s.heapSpaceStatistics.find((x) => x.spaceName === 'old_space')!.spaceUsedSize;
  // Young collections: V8's scavenger (or its minor mark-sweep, where that is the default).
  const young = statistics.filter((gc) => gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep');
  t.true(young.length > 5, `${young.length} young collections`);
  let promoted = 0;
  for (const gc of young) promoted += old(gc.afterGC) - old(gc.beforeGC);
  t.true(promoted < 3 * 1024 * 1024, `${(promoted / 1048576).toFixed(1)} MiB promoted`);
});
