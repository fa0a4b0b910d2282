/**
 * Hashing of spilled runs on worker threads. A chunk that lies in a shared
 * block (lib/io/shared-blocks.ts: the native decoder assembles values there)
 * is hashed where it is, the block held until every worker is done with it;
 * any other chunk is copied into a free slot of a shared buffer (a memcpy,
 * cheaper than hashing it). The spiller goes on parsing and writing while
 * the workers hash: one worker
 * computes SHA-256 (for CHECKSUMS), another the MD5s (for ETag checks, when
 * verification is on). With SLOTS slots or blocks in the workers' hands the spiller waits: the workers'
 * pace is part of the pipeline's backpressure, and memory stays bounded.
 */
import { blockOf, hold, release } from '../io/shared-blocks.js';
import { Waiters, WorkerThread } from '../io/worker-thread.js';
import type { RunHashes } from '../types.js';
import type { RunDigestResult } from '../core/run-digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './hash-worker.js';

const SLOT_BYTES = 1 << 20;
const SLOTS = 8;

interface PoolWorker {
  thread: WorkerThread<HashRequest, HashReply>;
  sealed: Map<number, (r: RunDigestResult) => void>;
  /** Blocks posted to this worker, in order: its replies for them come in the same order. */
  blocks: SharedArrayBuffer[];
}

export class HashPool {
  private shared_: SharedArrayBuffer | undefined;
  private view_: Buffer | undefined;
  private workers: PoolWorker[] = [];
  private readonly jobs: Array<Omit<HashWorkerData, 'shared'>>;
  /** How many workers still have to hash each slot. */
  private readonly pending = new Array<number>(SLOTS).fill(0);
  /** How many workers still have to hash each block in their hands. */
  private readonly pendingBlocks = new Map<SharedArrayBuffer, number>();
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

  /**
   * Hands bytes of run `id` to the workers; resolves once they are copied
   * or, for bytes in a shared block, the workers hold the block (not once
   * they are hashed).
   */
  async update(id: number, partNo: bigint, partVersion: bigint, bytes: Buffer): Promise<void> {
    const block = blockOf(bytes);
    if (block && bytes.length > 0) return this.updateInBlock(id, partNo, partVersion, bytes, block);
    for (let at = 0; at < bytes.length || (at === 0 && bytes.length === 0); at += SLOT_BYTES) {
      const length = Math.min(SLOT_BYTES, bytes.length - at);
      const slot = await this.freeSlot();
      bytes.copy(this.view, slot * SLOT_BYTES, at, at + length);
      this.pending[slot] = this.workers.length;
      this.post({ t: 'data', id, partNo, partVersion, offset: slot * SLOT_BYTES, length, slot });
      if (bytes.length === 0) break;
    }
  }

  private async updateInBlock(id: number, partNo: bigint, partVersion: bigint, bytes: Buffer, block: SharedArrayBuffer): Promise<void> {
    while (this.inHand() >= SLOTS) {
      this.check();
      await this.waiting.wait();
    }
    this.check();
    const held = this.pendingBlocks.get(block) ?? 0;
    this.pendingBlocks.set(block, held + this.workers.length);
    for (const w of this.workers) {
      hold(block);
      w.blocks.push(block);
      w.thread.post({ t: 'data', id, partNo, partVersion, offset: bytes.byteOffset, length: bytes.length, slot: -1, block });
    }
  }

  /** Slots and blocks the workers still have to hash. */
  private inHand(): number {
    return this.pending.reduce((n, p) => n + (p > 0 ? 1 : 0), 0) + this.pendingBlocks.size;
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
    const blocks: SharedArrayBuffer[] = [];
    const thread = new WorkerThread<HashRequest, HashReply>(new URL('./hash-worker.js', import.meta.url), {
      workerData: data,
      name: 'hash worker',
      onMessage: (m) => {
        if (m.t === 'free' && m.slot >= 0) {
          if (--this.pending[m.slot]! === 0) this.waiting.wakeAll();
        } else if (m.t === 'free') {
          this.blockHashed(blocks.shift()!);
        } else {
          const resolve = sealed.get(m.id);
          sealed.delete(m.id);
          resolve?.(m.result);
        }
      },
      onFailure: (err) => this.fail(err),
    });
    return { thread, sealed, blocks };
  }

  private blockHashed(block: SharedArrayBuffer): void {
    release(block);
    const left = this.pendingBlocks.get(block)! - 1;
    if (left > 0) return void this.pendingBlocks.set(block, left);
    this.pendingBlocks.delete(block);
    this.waiting.wakeAll();
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
