/** bench/merge-readers.ts: one input read, checked and parsed off the main thread; records posted with their values transferred. */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { CLUSTER_READ_SIZE } from '../lib/cluster/input.js';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import type { SnapshotRecord } from '../lib/types.js';

const reader = createSnapshotReader();
const done = pipeline(createReadStream(workerData as string, { highWaterMark: CLUSTER_READ_SIZE }), reader);
for await (const r of reader) {
  const rec = r as SnapshotRecord;
  const value = new Uint8Array(rec.value?.length ?? 0);
  if (rec.value) value.set(rec.value);
  parentPort!.postMessage({ key: rec.key, commitTs: rec.commitTs, value }, [value.buffer]);
}
await done;
parentPort!.postMessage('end');
