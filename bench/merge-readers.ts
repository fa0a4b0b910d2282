/**
 * How the merge stage (lib/cluster/merge.ts) reads its inputs in parallel:
 * overlapped I/O on the main thread (every input's file stream reads ahead
 * while the main thread CRC-checks and parses whichever has data — what the
 * merge does) against one worker thread per input that reads, checks and
 * parses, and posts each record to the main thread (values copied into a
 * transferable buffer). Both read workload (a) split over 4 groups
 * (writeWorkloadGroups) and consume every record.
 *
 *   node dist/bench/merge-readers.js [--objects N] [--reps N]   (default 24 × 16 MiB, 3 reps)
 */
import { mkdtempSync, rmSync, createReadStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { createSnapshotReader } from '../lib/stages/read-snapshot.js';
import { CLUSTER_READ_SIZE } from '../lib/cluster/input.js';
import type { SnapshotRecord } from '../lib/types.js';
import { writeWorkloadGroups } from './workloads.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

interface Consumed {
  records: number;
  bytes: number;
}

/** Every input's reader on the main thread, all reading at once. */
async function mainThread(files: string[]): Promise<Consumed> {
  const c: Consumed = { records: 0, bytes: 0 };
  await Promise.all(
    files.map(async (f) => {
      const reader = createSnapshotReader({ readableHighWaterMark: 1 });
      const done = pipeline(createReadStream(f, { highWaterMark: CLUSTER_READ_SIZE }), reader);
      for await (const rec of reader) {
        c.records++;
        c.bytes += (rec as SnapshotRecord).value?.length ?? 0;
      }
      await done;
    }),
  );
  return c;
}

/** One worker per input (bench/merge-readers-worker.ts). */
async function workerThreads(files: string[]): Promise<Consumed> {
  const c: Consumed = { records: 0, bytes: 0 };
  await Promise.all(
    files.map(
      (f) =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(new URL('./merge-readers-worker.js', import.meta.url), { workerData: f });
          w.on('message', (m: 'end' | { value: Uint8Array }) => {
            if (m === 'end') {
              void w.terminate();
              resolve();
            } else {
              c.records++;
              c.bytes += m.value.byteLength;
            }
          });
          w.on('error', reject);
        }),
    ),
  );
  return c;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'ekv-merge-readers-'));
try {
  const w = { id: 'a' as const, title: 'a', objects: arg('--objects', 24), objectSize: 16 << 20, parts: 1, chunkSize: 1 << 20 };
  const { inputs } = writeWorkloadGroups(w, dir, 4);
  console.log(`${w.objects} × 16 MiB over ${inputs.length} inputs; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
  for (let rep = 0; rep < arg('--reps', 3); rep++) {
    for (const [name, fn] of [
      ['main thread, overlapped I/O', mainThread],
      ['worker thread per input', workerThreads],
    ] as const) {
      const t0 = process.hrtime.bigint();
      const u0 = process.cpuUsage();
      const r = await fn(inputs);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      const u = process.cpuUsage(u0);
      console.log(`${name}: ${s.toFixed(2)} s, ${(r.bytes / 1e6 / s).toFixed(0)} MB/s, process CPU ${((u.user + u.system) / 1e6).toFixed(2)} s, ${r.records} records`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
