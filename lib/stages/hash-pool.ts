/**
 * Hashing of spilled runs on worker threads. The spiller copies each chunk
 * into a free slot of a shared buffer (a memcpy, far cheaper than hashing
 * it) and goes on parsing and writing while the workers hash: one worker
 * computes SHA-256 (for CHECKSUMS), another the MD5s (for ETag checks, when
 * verification is on). With no free slot the spiller waits: the workers'
 * pace is part of the pipeline's backpressure, and memory stays bounded.
 */
import { Worker } from 'node:worker_threads';
import type { RunHashes } from '../types.js';
import type { RunDigestResult } from '../core/run-digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './hash-worker.js';

const SLOT_BYTES = 1 << 20;
const SLOTS = 8;

interface PoolWorker {
  worker: Worker;
  sealed: Map<number, (r: RunDigestResult) => void>;
}

export class HashPool {
  private shared_: SharedArrayBuffer | undefined;
  private view_: Buffer | undefined;
  private workers: PoolWorker[] = [];
  private readonly jobs: Array<Omit<HashWorkerData, 'shared'>>;
  /** How many workers still have to hash each slot. */
  private readonly pending = new Array<number>(SLOTS).fill(0);
  private readonly waiting: Array<() => void> = [];
  private failure: Error | undefined;
  private closing = false;

  constructor(algos: { md5: boolean }) {
    this.jobs = [{ sha256: true, md5: false }];
    if (algos.md5) this.jobs.push({ sha256: false, md5: true });
  }

  begin(id: number): void {
    // Workers start with the first run: inputs of small objects never need them.
    if (this.workers.length === 0) this.workers = this.jobs.map((job) => this.spawn({ ...job, shared: this.shared }));
    this.post({ t: 'begin', id });
  }

  /** Hands bytes of run `id` to the workers; resolves once they are copied (not hashed). */
  async update(id: number, partNo: bigint, partVersion: bigint, bytes: Buffer): Promise<void> {
    for (let at = 0; at < bytes.length || (at === 0 && bytes.length === 0); at += SLOT_BYTES) {
      const length = Math.min(SLOT_BYTES, bytes.length - at);
      const slot = await this.freeSlot();
      bytes.copy(this.view, slot * SLOT_BYTES, at, at + length);
      this.pending[slot] = this.workers.length;
      this.post({ t: 'data', id, partNo, partVersion, offset: slot * SLOT_BYTES, length, slot });
      if (bytes.length === 0) break;
    }
  }

  /** The run's hashes, once every worker has hashed all of it. */
  async seal(id: number): Promise<RunHashes> {
    const results = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<RunDigestResult>((resolve) => {
            w.sealed.set(id, resolve);
            w.worker.postMessage({ t: 'seal', id } satisfies HashRequest);
          }),
      ),
    );
    this.check();
    // Buffers cross the thread boundary as plain Uint8Arrays.
    const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    // In job order: the SHA-256 worker, then the MD5 worker if any.
    const [sha, md5] = results as [RunDigestResult, RunDigestResult | undefined];
    const parts = (md5 ?? sha).parts.map((p) => (p.md5 ? { ...p, md5: buf(p.md5) } : p));
    return { sha256: buf(sha.sha256!), parts };
  }

  private get shared(): SharedArrayBuffer {
    return (this.shared_ ??= new SharedArrayBuffer(SLOT_BYTES * SLOTS));
  }

  private get view(): Buffer {
    return (this.view_ ??= Buffer.from(this.shared));
  }

  async close(): Promise<void> {
    this.closing = true;
    // Referenced until they have exited, so the caller's cleanup runs after.
    await Promise.all(
      this.workers.map((w) => {
        w.worker.ref();
        return w.worker.terminate();
      }),
    );
  }

  private spawn(data: HashWorkerData): PoolWorker {
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: data });
    worker.unref(); // never keeps the process alive on its own
    const w: PoolWorker = { worker, sealed: new Map() };
    worker.on('message', (m: HashReply) => {
      if (m.t === 'free') {
        if (--this.pending[m.slot]! === 0) this.waiting.shift()?.();
      } else {
        const resolve = w.sealed.get(m.id);
        w.sealed.delete(m.id);
        resolve?.(m.result);
      }
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`hash worker exited with code ${code}`));
    });
    return w;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w();
    for (const pw of this.workers) for (const resolve of pw.sealed.values()) resolve({ parts: [] });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }

  private async freeSlot(): Promise<number> {
    for (;;) {
      this.check();
      const slot = this.pending.indexOf(0);
      if (slot !== -1) return slot;
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private post(m: HashRequest): void {
    for (const w of this.workers) w.worker.postMessage(m);
  }
}
