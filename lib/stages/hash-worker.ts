/**
 * Worker thread of the HashPool: hashes run data that the spiller copied
 * into shared slots, so SHA-256 and MD5 run beside the main thread's
 * parsing and writing instead of after it. Messages arrive in order on one
 * port; each data slot is released as soon as it is hashed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RunDigest } from '../core/run-digest.js';

export interface HashWorkerData {
  shared: SharedArrayBuffer;
  sha256: boolean;
  md5: boolean;
}

export type HashRequest =
  | { t: 'begin'; id: number }
  | { t: 'data'; id: number; partNo: bigint; partVersion: bigint; offset: number; length: number; slot: number }
  | { t: 'seal'; id: number };

export type HashReply = { t: 'free'; slot: number } | { t: 'sealed'; id: number; result: ReturnType<RunDigest['digest']> };

const data = workerData as HashWorkerData;
const bytes = new Uint8Array(data.shared);
const runs = new Map<number, RunDigest>();
const port = parentPort!;

port.on('message', (m: HashRequest) => {
  if (m.t === 'begin') {
    runs.set(m.id, new RunDigest({ sha256: data.sha256, md5: data.md5 }));
  } else if (m.t === 'data') {
    runs.get(m.id)!.update(m.partNo, m.partVersion, bytes.subarray(m.offset, m.offset + m.length));
    port.postMessage({ t: 'free', slot: m.slot } satisfies HashReply);
  } else {
    const run = runs.get(m.id)!;
    runs.delete(m.id);
    port.postMessage({ t: 'sealed', id: m.id, result: run.digest() } satisfies HashReply);
  }
});
