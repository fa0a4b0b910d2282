/**
 * Worker thread of the HashPool: hashes run data in shared memory (a slot
 * the spiller copied it into, or the shared block it was decoded into), so SHA-256 and MD5 run beside the main thread's
 * parsing and writing instead of after it. Messages arrive in order on one
 * port; each slot or block is released as soon as it is hashed.
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
  /** Bytes at offset in slot `slot` of the slots buffer, or (slot -1) in `block`. */
  | { t: 'data'; id: number; partNo: bigint; partVersion: bigint; offset: number; length: number; slot: number; block?: SharedArrayBuffer }
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
    const from = m.block ? new Uint8Array(m.block, m.offset, m.length) : bytes.subarray(m.offset, m.offset + m.length);
    runs.get(m.id)!.update(m.partNo, m.partVersion, from);
    port.postMessage({ t: 'free', slot: m.slot } satisfies HashReply);
  } else {
    const run = runs.get(m.id)!;
    runs.delete(m.id);
    port.postMessage({ t: 'sealed', id: m.id, result: run.digest() } satisfies HashReply);
  }
});
