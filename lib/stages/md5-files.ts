/**
 * MD5s of byte ranges of files already written, computed on a hash worker
 * (md5-files-queue.ts), which hashes many ranges side by side when many
 * wait. The hash pool hands it the stretches of a sealed run whose MD5 it
 * did not compute while the run was written (lib/stages/hash-pool.ts).
 * Running there, not on a thread of its own, saves an isolate: 12–18 MiB
 * of peak RSS on Node 24.
 */
import { ioError } from '../errors.js';
import type { WorkerThread } from '../io/worker-thread.js';
import type { HashReply, HashRequest } from './hash-worker.js';
import type { Md5FilesRange, Md5FilesReply } from './md5-files-queue.js';

interface Waiting {
  path: string;
  resolve: (md5s: Buffer[]) => void;
  reject: (err: Error) => void;
}

export class Md5Files {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private failure: Error | undefined;

  /** thread: the hash worker to ask; its replies of type 'md5-files' go to reply(). */
  constructor(private readonly thread: WorkerThread<HashRequest, HashReply>) {}

  /** The MD5 of each range of the file at path (which must not change until this resolves). */
  hash(path: string, ranges: Md5FilesRange[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<Buffer[]>((resolve, reject) => {
      this.waiting.set(id, { path, resolve, reject });
      this.thread.busy();
      this.thread.post({ t: 'md5-files', id, path, ranges });
    });
  }

  /** No more ranges are coming for now: the worker hashes what waits instead of waiting for more to hash side by side. */
  flush(): void {
    this.thread.post({ t: 'md5-flush' });
  }

  reply(m: Md5FilesReply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    this.thread.done();
    if ('failed' in m) return w.reject(ioError(Object.assign(new Error(m.failed.message), { code: m.failed.code }), w.path, 'cannot read to hash'));
    w.resolve(m.md5s.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)));
  }

  /** The worker failed: every request waiting, and every later one, fails with err. */
  fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
