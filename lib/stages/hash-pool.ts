/**
 * Hashing of spilled runs on worker threads. A chunk that lies in a shared
 * block (lib/io/shared-blocks.ts: the native decoder assembles values there)
 * is hashed where it is, the block held until every worker is done with it;
 * any other chunk is copied into a free slot of a shared buffer (a memcpy,
 * cheaper than hashing it). The spiller goes on parsing and writing while
 * the workers hash. With SLOTS slots or blocks in the workers' hands the
 * spiller waits: the workers' pace is part of the pipeline's backpressure,
 * and memory stays bounded.
 *
 * Who hashes what. Each run's SHA-256 (for CHECKSUMS) is one stream, owned
 * by one worker; with verification on, each stretch of one part (its MD5,
 * for ETag checks) is owned by one worker too, and there are two workers.
 * Owners are chosen when a run or stretch starts, by the hashing the
 * workers still have queued (MD5 costs ~2.3× SHA-256 per byte): one large
 * object gets SHA-256 on one worker and MD5 on the other, consecutive
 * objects and the parts of a multipart object go to whichever worker is
 * ahead, so MD5s of different objects and parts run on both cores.
 *
 * MD5s from the run's file. A run begun with its file (the spiller's runs)
 * has no MD5 computed while it is written: when it is sealed, the MD5 of
 * each stretch is computed from the file by Md5Files on the last worker,
 * which hashes many stretches side by side (1.4–3× cheaper per byte:
 * lib/core/md5-lanes.ts); that worker counts as busier meanwhile.
 * A stretch that grows past INLINE_MD5_FROM bytes (one large object: few
 * streams to put side by side, and a long wait after its last byte) gets a
 * worker as above instead, which first reads the stretch so far back from
 * the file.
 */
import { copyBytes } from '../core/copy-bytes.js';
import { blockOf, hold, release } from '../io/shared-blocks.js';
import { Waiters, WorkerThread } from '../io/worker-thread.js';
import type { RunHashes } from '../types.js';
import type { RunDigestResult } from '../core/run-digest.js';
import type { HashReply, HashRequest, HashWorkerData } from './hash-worker.js';
import { Md5Files } from './md5-files.js';

const SLOT_BYTES = 1 << 20;
const SLOTS = 8;
/** Relative cost of hashing a byte (one core here: SHA-256 0.53 s/GiB, MD5 1.24 s/GiB). */
const SHA_COST = 0.53;
const MD5_COST = 1.24;
/** A stretch longer than this has its MD5 computed as it is written, not from the file after (see above). */
export const INLINE_MD5_FROM = 64 << 20;

interface PoolWorker {
  thread: WorkerThread<HashRequest, HashReply>;
  sealed: Map<number, (r: RunDigestResult) => void>;
  /** What was posted to it and not hashed yet, in order (its replies come in the same order). */
  queue: Posted[];
  /** The hashing cost of queue. */
  backlog: number;
  /** The cost of the MD5s from files it was asked for and has not answered. */
  fileBacklog: number;
}

/** One request a worker answers with 'hashed': bytes in a slot, bytes in a block, or a read of a run's file (which holds nothing). */
type Posted = { cost: number } & ({ slot: number } | { block: BlockPost } | { file: true });

/** Bytes in a shared block posted to the workers: how many of them still have to hash them. */
interface BlockPost {
  block: SharedArrayBuffer;
  left: number;
}

/** The file a run is written to, for MD5s computed from it. */
export interface RunFile {
  path: string;
  /** Resolves once every byte handed to update() so far is in the file. */
  written(): Promise<void>;
  /**
   * The current stretch's MD5 is computed as its bytes come from now on
   * (it grew past INLINE_MD5_FROM): they are not read back from the file.
   */
  hashedAsWritten?(): void;
}

/** A stretch whose MD5 is computed from the run's file once the run is sealed. */
interface LaterStretch {
  partNo: bigint;
  partVersion: bigint;
  offset: number;
  length: number;
}

/** Which worker owns a run's SHA-256 and the MD5 of its current stretch. */
interface RunOwners {
  sha: PoolWorker;
  /** undefined: no MD5 of the current stretch on the way (none asked for, or one from the file later). */
  md5: PoolWorker | undefined;
  partNo: bigint;
  partVersion: bigint;
  file: RunFile | undefined;
  /** Bytes of the run so far: the file offset of the next. */
  bytes: number;
  /** Stretches whose MD5 comes from the file; the last may be the current one (then `md5` is undefined). */
  later: LaterStretch[];
}

export class HashPool {
  private shared_: SharedArrayBuffer | undefined;
  private view_: Buffer | undefined;
  private workers: PoolWorker[] = [];
  private readonly md5: boolean;
  private readonly runs = new Map<number, RunOwners>();
  /** How many workers still have to hash each slot. */
  private readonly pending = new Array<number>(SLOTS).fill(0);
  /**
   * Posts of bytes in shared blocks that some worker still has to hash
   * (counted per post, not per block: values read from a file share its
   * read buffer, lib/io/shared-blocks.ts viewOf).
   */
  private blockPosts = 0;
  private readonly waiting = new Waiters();
  private failure: Error | undefined;
  private files_: Md5Files | undefined;
  /** flush() was called: MD5s from files asked for later are not kept waiting either. */
  private flushed = false;

  private readonly inlineMd5From: number;

  /** `inlineMd5From`: INLINE_MD5_FROM, unless a test needs a smaller one. */
  constructor(algos: { md5: boolean; inlineMd5From?: number }) {
    this.md5 = algos.md5;
    this.inlineMd5From = algos.inlineMd5From ?? INLINE_MD5_FROM;
  }

  /** Starts run `id`; with its file, the run's MD5s are computed from the file (see above). */
  begin(id: number, file?: RunFile): void {
    // Workers start with the first run: inputs of small objects never need them.
    // SHA-256 alone keeps one worker busy at less than the main thread's pace.
    if (this.workers.length === 0) this.workers = Array.from({ length: this.md5 ? 2 : 1 }, () => this.spawn({ shared: this.shared }));
    this.runs.set(id, { sha: this.leastBusy(), md5: undefined, partNo: -1n, partVersion: -1n, file: this.md5 ? file : undefined, bytes: 0, later: [] });
  }

  /**
   * Hands bytes of run `id` to the workers; resolves once they are copied
   * or, for bytes in a shared block, the workers hold the block (not once
   * they are hashed).
   */
  async update(id: number, partNo: bigint, partVersion: bigint, bytes: Buffer): Promise<void> {
    const run = this.runs.get(id)!;
    if (partNo !== run.partNo || partVersion !== run.partVersion) {
      run.partNo = partNo;
      run.partVersion = partVersion;
      run.md5 = undefined;
      if (run.file) run.later.push({ partNo, partVersion, offset: run.bytes, length: 0 });
      // The SHA-256 owner counts as one slot busier: a lone object's two hashes go to two workers.
      else if (this.md5) run.md5 = this.leastBusy(run.sha);
    }
    // The current stretch, when its MD5 is to come from the file.
    const later = run.md5 === undefined ? run.later[run.later.length - 1] : undefined;
    if (later && later.length + bytes.length > this.inlineMd5From) await this.inlineFromNow(id, run, later);
    else if (later) later.length += bytes.length;
    run.bytes += bytes.length;
    const block = blockOf(bytes);
    if (block && bytes.length > 0) return this.updateInBlock(id, run, bytes, block);
    for (let at = 0; at < bytes.length || (at === 0 && bytes.length === 0); at += SLOT_BYTES) {
      const length = Math.min(SLOT_BYTES, bytes.length - at);
      const slot = await this.freeSlot();
      copyBytes(bytes, at, at + length, this.view, slot * SLOT_BYTES);
      this.post(id, run, slot, undefined, slot * SLOT_BYTES, length);
      if (bytes.length === 0) break;
    }
  }

  /** The run's hashes, once every worker has hashed all of it (and, for a run begun with its file, once all of it is written). */
  async seal(id: number): Promise<RunHashes> {
    const run = this.runs.get(id)!;
    this.runs.delete(id);
    const results = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<RunDigestResult>((resolve) => {
            // A worker that has failed will not answer.
            if (this.failure) return resolve({ parts: [] });
            w.sealed.set(id, resolve);
            w.thread.post({ t: 'seal', id });
          }),
      ),
    );
    this.check();
    // Buffers cross the thread boundary as plain Uint8Arrays.
    const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    const sha = results[this.workers.indexOf(run.sha)]!;
    // The SHA-256 owner saw every stretch; each stretch's MD5 comes from the worker that owned it, or from the file.
    const md5s = new Map<string, Uint8Array>();
    for (const r of results) for (const p of r.parts) if (p.md5) md5s.set(`${p.partNo}/${p.partVersion}`, p.md5);
    if (run.later.length > 0) {
      await run.file!.written();
      this.check();
      const w = this.filesWorker;
      // Side by side, an MD5 costs about half as much per byte (lib/core/md5-lanes.ts).
      const cost = (run.later.reduce((n, s) => n + s.length, 0) * MD5_COST) / 2;
      w.fileBacklog += cost;
      const hashed = this.files.hash(
        run.file!.path,
        run.later.map((s) => ({ offset: s.offset, length: s.length })),
      );
      if (this.flushed) this.files.flush();
      const fromFile = await hashed.finally(() => (w.fileBacklog -= cost));
      run.later.forEach((s, i) => md5s.set(`${s.partNo}/${s.partVersion}`, fromFile[i]!));
    }
    const parts = sha.parts.map((p) => {
      const { md5: _none, ...stretch } = p;
      const md5 = md5s.get(`${p.partNo}/${p.partVersion}`);
      return md5 ? { ...stretch, md5: buf(md5) } : stretch;
    });
    return { sha256: buf(sha.sha256!), parts };
  }

  /** No more runs are coming for now: MD5s from files are computed without waiting for more to put side by side. */
  flush(): void {
    this.flushed = true;
    this.files_?.flush();
  }

  async close(): Promise<void> {
    // Referenced until they have exited, so the caller's cleanup runs after.
    await Promise.all(this.workers.map((w) => w.thread.close()));
  }

  /** The worker that computes MD5s from files: the last one. */
  private get filesWorker(): PoolWorker {
    return this.workers[this.workers.length - 1]!;
  }

  private get files(): Md5Files {
    return (this.files_ ??= new Md5Files(this.filesWorker.thread));
  }

  /**
   * The current stretch grew too long to wait for its MD5 from the file:
   * a worker computes it from now on, after reading its bytes so far back
   * from the file (once they are written).
   */
  private async inlineFromNow(id: number, run: RunOwners, later: LaterStretch): Promise<void> {
    run.later.pop();
    const md5 = (run.md5 = this.leastBusy(run.sha));
    run.file!.hashedAsWritten?.();
    if (later.length === 0) return;
    await run.file!.written();
    this.check();
    const cost = later.length * MD5_COST;
    md5.queue.push({ file: true, cost });
    md5.backlog += cost;
    md5.thread.post({ t: 'file', id, partNo: later.partNo, partVersion: later.partVersion, path: run.file!.path, offset: later.offset, length: later.length });
  }

  private get shared(): SharedArrayBuffer {
    return (this.shared_ ??= new SharedArrayBuffer(SLOT_BYTES * SLOTS));
  }

  private get view(): Buffer {
    return (this.view_ ??= Buffer.from(this.shared));
  }

  /** The worker with the least hashing queued (`busier` counts one slot of MD5 more). */
  private leastBusy(busier?: PoolWorker): PoolWorker {
    const load = (w: PoolWorker) => w.backlog + w.fileBacklog + (w === busier ? SLOT_BYTES * MD5_COST : 0);
    return this.workers.reduce((best, w) => (load(w) < load(best) ? w : best));
  }

  private async updateInBlock(id: number, run: RunOwners, bytes: Buffer, block: SharedArrayBuffer): Promise<void> {
    while (this.inHand() >= SLOTS) {
      this.check();
      await this.waiting.wait();
    }
    this.check();
    this.post(id, run, -1, block, bytes.byteOffset, bytes.length);
  }

  /** Posts bytes (in slot `slot`, or in `block` with slot -1) to the workers that hash some of them. */
  private post(id: number, run: RunOwners, slot: number, block: SharedArrayBuffer | undefined, offset: number, length: number): void {
    const post: BlockPost | undefined = block ? { block, left: 0 } : undefined;
    let to = 0;
    for (const w of this.workers) {
      const sha = w === run.sha;
      const md5 = w === run.md5;
      if (!sha && !md5) continue;
      const cost = length * ((sha ? SHA_COST : 0) + (md5 ? MD5_COST : 0));
      w.queue.push(post ? { block: post, cost } : { slot, cost });
      w.backlog += cost;
      if (block) hold(block);
      w.thread.post({ t: 'data', id, partNo: run.partNo, partVersion: run.partVersion, offset, length, sha, md5, ...(block ? { block } : {}) });
      to++;
    }
    if (post) {
      post.left = to;
      this.blockPosts++;
    } else {
      this.pending[slot] = to;
    }
  }

  /** Slots and blocks the workers still have to hash. */
  private inHand(): number {
    return this.pending.reduce((n, p) => n + (p > 0 ? 1 : 0), 0) + this.blockPosts;
  }

  private spawn(data: HashWorkerData): PoolWorker {
    const w: PoolWorker = { thread: undefined!, sealed: new Map(), queue: [], backlog: 0, fileBacklog: 0 };
    w.thread = new WorkerThread<HashRequest, HashReply>(new URL('./hash-worker.js', import.meta.url), {
      workerData: data,
      name: 'hash worker',
      onMessage: (m) => {
        if (m.t === 'hashed') return this.hashed(w);
        if (m.t === 'md5-files') return this.files_?.reply(m);
        const resolve = w.sealed.get(m.id);
        w.sealed.delete(m.id);
        resolve?.(m.result);
      },
      onFailure: (err) => this.fail(err),
    });
    return w;
  }

  /** A worker is done with the oldest bytes posted to it. */
  private hashed(w: PoolWorker): void {
    const done = w.queue.shift()!;
    w.backlog = w.queue.length === 0 ? 0 : w.backlog - done.cost;
    if ('file' in done) return; // nothing held
    if ('block' in done) {
      release(done.block.block);
      if (--done.block.left > 0) return;
      this.blockPosts--;
    } else if (--this.pending[done.slot]! > 0) {
      return;
    }
    this.waiting.wakeAll();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.files_?.fail(err);
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
      if (slot !== -1 && this.inHand() < SLOTS) return slot;
      await this.waiting.wait();
    }
  }
}
