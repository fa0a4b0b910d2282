/**
 * Hashing of spilled runs on worker threads. The spiller copies each chunk
 * into a free slot of a shared buffer (a memcpy, far cheaper than hashing
 * it) and goes on parsing and writing while the workers hash: one worker
 * computes SHA-256 (for CHECKSUMS), another the MD5s (for ETag checks, when
 * verification is on). With no free slot the spiller waits: the workers'
 * pace is part of the pipeline's backpressure, and memory stays bounded.
 */
import { Waiters, WorkerThread } from '../io/worker-thread.js';
import type { RunHashes } from '../types.js';
import type { RunDigestResult } from '../core/run-digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './hash-worker.js';

const SLOT_BYTES = 1 << 20;
const SLOTS = 8;

interface PoolWorker {
  thread: WorkerThread<HashRequest, HashReply>;
  sealed: Map<number, (r: RunDigestResult) => void>;
}

export class HashPool {
  private shared_: SharedArrayBuffer | undefined;
  private view_: Buffer | undefined;
  private workers: PoolWorker[] = [];
  private readonly jobs: Array<Omit<HashWorkerData, 'shared'>>;
  /** How many workers still have to hash each slot. */
  private readonly pending = new Array<number>(SLOTS).fill(0);
  private readonly waiting = new Waiters();
  private failure: Error | undefined;

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
            w.thread.post({ t: 'seal', id });
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
    // Referenced until they have exited, so the caller's cleanup runs after.
    await Promise.all(this.workers.map((w) => w.thread.close()));
  }

  private spawn(data: HashWorkerData): PoolWorker {
    const sealed = new Map<number, (r: RunDigestResult) => void>();
    const thread = new WorkerThread<HashRequest, HashReply>(new URL('./hash-worker.js', import.meta.url), {
      workerData: data,
      name: 'hash worker',
      onMessage: (m) => {
        if (m.t === 'free') {
          if (--this.pending[m.slot]! === 0) this.waiting.wakeOne();
        } else {
          const resolve = sealed.get(m.id);
          sealed.delete(m.id);
          resolve?.(m.result);
        }
      },
      onFailure: (err) => this.fail(err),
    });
    return { thread, sealed };
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiting.wakeAll();
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
      await this.waiting.wait();
    }
  }

  private post(m: HashRequest): void {
    for (const w of this.workers) w.thread.post(m);
  }
}
