/**
 * MD5s of byte ranges of files already written, on a worker thread
 * (md5-files-worker.ts), which hashes many ranges side by side when many
 * wait. The hash pool hands it the stretches of a sealed run whose MD5 it
 * did not compute while the run was written (lib/stages/hash-pool.ts).
 */
import { ioError } from '../errors.js';
import { WorkerThread } from '../io/worker-thread.js';
import type { Md5FilesRange, Md5FilesReply, Md5FilesRequest } from './md5-files-worker.js';

interface Waiting {
  path: string;
  resolve: (md5s: Buffer[]) => void;
  reject: (err: Error) => void;
}

export class Md5Files {
  private thread: WorkerThread<Md5FilesRequest, Md5FilesReply> | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  private failure: Error | undefined;

  /** The MD5 of each range of the file at path (which must not change until this resolves). */
  hash(path: string, ranges: Md5FilesRange[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const thread = (this.thread ??= new WorkerThread<Md5FilesRequest, Md5FilesReply>(new URL('./md5-files-worker.js', import.meta.url), {
      name: 'MD5 worker',
      onMessage: (m) => this.reply(m),
      onFailure: (err) => this.fail(err),
    }));
    const id = this.nextId++;
    return new Promise<Buffer[]>((resolve, reject) => {
      this.waiting.set(id, { path, resolve, reject });
      thread.busy();
      thread.post({ id, path, ranges });
    });
  }

  /** No more ranges are coming for now: the worker hashes what waits instead of waiting for more to hash side by side. */
  flush(): void {
    this.thread?.post({ flush: true });
  }

  async close(): Promise<void> {
    await this.thread?.close();
  }

  private reply(m: Md5FilesReply): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    this.thread!.done();
    if ('failed' in m) return w.reject(ioError(Object.assign(new Error(m.failed.message), { code: m.failed.code }), w.path, 'cannot read to hash'));
    w.resolve(m.md5s.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
