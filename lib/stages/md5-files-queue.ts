/**
 * The MD5s of byte ranges of files already written (stretches of sealed
 * runs), read back from the page cache; runs on a hash worker
 * (hash-worker.ts), asked through Md5Files.
 *
 * Ranges are hashed side by side (lib/core/md5-lanes.ts), 1.4–3× cheaper
 * per byte than one after another once 8 or more share a call, and dearer
 * with few. So ranges wait until LANES_FROM of them do; then the oldest 8
 * or 16 are hashed together. When no request has come for IDLE_MS, or the
 * owner says no more are coming for now (flush), what waits is hashed
 * anyway: 4–7 ranges in 4 lanes, fewer one at a time with node:crypto.
 * Each step is followed by a return to the thread's event loop, so the
 * worker's other messages are not held up for long.
 */
import { closeSync, openSync } from 'node:fs';
import { md5Alone, Md5Lanes, type Md5Stream } from '../core/md5-lanes.js';
import { isDecodeError } from '../errors.js';
import { fileRangeStream } from '../io/file-range-stream.js';

export interface Md5FilesRange {
  offset: number;
  length: number;
}

/** The MD5 of each range of the file at `path`, in order. */
export interface Md5FilesRequest {
  id: number;
  path: string;
  ranges: Md5FilesRange[];
}

export type Md5FilesReply = { id: number; md5s: Uint8Array[] } | { id: number; failed: { code?: string; message: string } };

/** Ranges waiting before they are hashed side by side. */
export const LANES_FROM = 8;
/** Milliseconds without a request after which what waits is hashed anyway. */
const IDLE_MS = 100;
const CHUNK = 1 << 20;

interface Job {
  id: number;
  fd: number;
  md5s: Uint8Array[];
  left: number;
  failed: boolean;
}

interface Range {
  job: Job;
  index: number;
  stream: Md5Stream;
}

export class Md5FilesQueue {
  private readonly queue: Range[] = [];
  private readonly engines = new Map<number, Md5Lanes>();
  private piece: Buffer | undefined;
  private scheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Hash what waits without waiting for more (a flush, or IDLE_MS without a request). */
  private draining = false;

  constructor(private readonly reply: (r: Md5FilesReply) => void) {}

  add(m: Md5FilesRequest): void {
    this.draining = false;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.flush(), IDLE_MS);
    let fd: number;
    try {
      fd = openSync(m.path, 'r');
    } catch (e) {
      return this.fail(m.id, e);
    }
    const job: Job = { id: m.id, fd, md5s: new Array<Uint8Array>(m.ranges.length), left: m.ranges.length, failed: false };
    if (job.left === 0) return this.finish(job);
    m.ranges.forEach((r, index) => this.queue.push({ job, index, stream: fileRangeStream(fd, m.path, r.offset, r.length) }));
    this.schedule();
  }

  /** No more requests for now: hash what waits. */
  flush(): void {
    this.draining = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.step());
  }

  /** Hashes the oldest 16 or 8 ranges side by side; with fewer waiting, only when draining: 4 side by side, or one alone. */
  private step(): void {
    this.scheduled = false;
    const n = this.queue.length;
    if (n < LANES_FROM && !this.draining) return;
    const batch = this.queue.splice(0, n >= 16 ? 16 : n >= 8 ? 8 : n >= 4 ? 4 : 1);
    const live = batch.filter((r) => !r.job.failed);
    try {
      const digests = live.length === 1 ? [md5Alone(live[0]!.stream, (this.piece ??= Buffer.allocUnsafe(CHUNK)))] : live.length > 1 ? this.lanes(live.length).hash(live.map((r) => r.stream)) : [];
      live.forEach((r, i) => {
        r.job.md5s[r.index] = digests[i]!;
        if (--r.job.left === 0) this.finish(r.job);
      });
    } catch (e) {
      // A read failed: every job in the batch fails with that error (each is told once).
      for (const r of live) if (!r.job.failed) this.abandon(r.job, e);
    }
    if (this.queue.length > 0) this.schedule();
  }

  private lanes(streams: number): Md5Lanes {
    const sets = streams > 8 ? 4 : streams > 4 ? 2 : 1;
    let engine = this.engines.get(sets);
    if (!engine) this.engines.set(sets, (engine = new Md5Lanes(sets)));
    return engine;
  }

  private finish(job: Job): void {
    closeSync(job.fd);
    this.reply({ id: job.id, md5s: job.md5s });
  }

  private abandon(job: Job, e: unknown): void {
    job.failed = true;
    closeSync(job.fd);
    this.fail(job.id, e);
  }

  /** An error that cannot cross threads as it is: a system error's code and message, or a DecodeError's detail (its path is the owner's). */
  private fail(id: number, e: unknown): void {
    const err = e as NodeJS.ErrnoException;
    this.reply({ id, failed: isDecodeError(e) ? { message: e.detail } : { code: err.code, message: err.message } });
  }
}
