/**
 * Worker thread of Md5Files: the MD5s of byte ranges of files already
 * written (stretches of sealed runs), read back from the page cache.
 *
 * Ranges are hashed side by side (lib/core/md5-lanes.ts), 1.4–3× cheaper
 * per byte than one after another once 8 or more share a call, and dearer
 * with few. So the thread lets ranges wait until LANES_FROM of them do, then
 * hashes the oldest 8 or 16 together. When no request has come for IDLE_MS,
 * or the owner says no more are coming for now (flush), it hashes what
 * waits: 4–7 ranges in 4 lanes, fewer one at a time with node:crypto.
 * Between two steps it returns to its event loop for new requests.
 */
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { md5Alone, Md5Lanes, type Md5Stream } from '../core/md5-lanes.js';
import { fileRangeStream } from '../io/file-range-stream.js';

export interface Md5FilesRange {
  offset: number;
  length: number;
}

/** The MD5 of each range of the file at `path`, in order; or: hash what waits now. */
export type Md5FilesRequest = { id: number; path: string; ranges: Md5FilesRange[] } | { flush: true };

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

const port = parentPort!;
const queue: Range[] = [];
const engines = new Map<number, Md5Lanes>();
const piece = Buffer.allocUnsafe(CHUNK);
let scheduled = false;
let idleTimer: NodeJS.Timeout | undefined;
/** Hash what waits without waiting for more (a flush, or IDLE_MS without a request). */
let draining = false;

port.on('message', (m: Md5FilesRequest) => {
  if ('flush' in m) {
    draining = true;
    return schedule();
  }
  draining = false;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    draining = true;
    schedule();
  }, IDLE_MS);
  let fd: number;
  try {
    fd = openSync(m.path, 'r');
  } catch (e) {
    return fail(m.id, e);
  }
  const job: Job = { id: m.id, fd, md5s: new Array<Uint8Array>(m.ranges.length), left: m.ranges.length, failed: false };
  if (job.left === 0) return finish(job);
  m.ranges.forEach((r, index) => queue.push({ job, index, stream: fileRangeStream(fd, r.offset, r.length) }));
  schedule();
});

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(step);
}

/** Hashes the oldest 16 or 8 ranges side by side; with fewer waiting, only when draining: 4 side by side, or one alone. */
function step(): void {
  scheduled = false;
  const n = queue.length;
  if (n < LANES_FROM && !draining) return;
  const batch = queue.splice(0, n >= 16 ? 16 : n >= 8 ? 8 : n >= 4 ? 4 : 1);
  const live = batch.filter((r) => !r.job.failed);
  try {
    const digests = live.length === 1 ? [md5Alone(live[0]!.stream, piece)] : live.length > 1 ? lanes(live.length).hash(live.map((r) => r.stream)) : [];
    live.forEach((r, i) => {
      r.job.md5s[r.index] = digests[i]!;
      if (--r.job.left === 0) finish(r.job);
    });
  } catch (e) {
    // A read failed: every job in the batch fails with that error (each is told once).
    for (const r of live) if (!r.job.failed) abandon(r.job, e);
  }
  if (queue.length > 0) schedule();
}

function lanes(streams: number): Md5Lanes {
  const sets = streams > 8 ? 4 : streams > 4 ? 2 : 1;
  let engine = engines.get(sets);
  if (!engine) engines.set(sets, (engine = new Md5Lanes(sets)));
  return engine;
}

function finish(job: Job): void {
  closeSync(job.fd);
  port.postMessage({ id: job.id, md5s: job.md5s } satisfies Md5FilesReply);
}

function abandon(job: Job, e: unknown): void {
  job.failed = true;
  closeSync(job.fd);
  fail(job.id, e);
}

function fail(id: number, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  port.postMessage({ id, failed: { code: err.code, message: err.message } } satisfies Md5FilesReply);
}
