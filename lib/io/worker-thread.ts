/**
 * The life of a helper thread (the hash pool's workers, the small-file
 * writer's), in one place:
 *
 * - started by the owner on first use, and unreferenced: an idle helper
 *   never keeps the process alive on its own;
 * - referenced while work the owner waits for is pending (busy()/done()):
 *   a pending promise alone would not keep the process alive until the
 *   work is done;
 * - at close(), terminated and referenced until it has exited, whatever
 *   replies still arrive meanwhile: else the process could end before the
 *   owner's cleanup (exit code 13, staging left behind);
 * - an error, or an exit close() did not ask for, is reported to the owner,
 *   which releases whoever waits (Waiters) with it.
 */
import { Worker, type Transferable, type WorkerOptions } from 'node:worker_threads';

export interface WorkerThreadOptions<Reply> extends WorkerOptions {
  /** Named in the error for an unexpected exit ("<name> exited with code N"). */
  name?: string;
  /** A message from the thread. */
  onMessage: (reply: Reply) => void;
  /** The thread failed (an error, or an exit not asked for by close()). */
  onFailure: (err: Error) => void;
}

export class WorkerThread<Request, Reply> {
  private readonly worker: Worker;
  private pending = 0;
  private closed = false;

  constructor(url: URL, opts: WorkerThreadOptions<Reply>) {
    const { name, onMessage, onFailure, ...workerOptions } = opts;
    this.worker = new Worker(url, workerOptions);
    this.worker.unref();
    this.worker.on('message', onMessage);
    this.worker.on('error', onFailure);
    this.worker.on('exit', (code) => {
      if (!this.closed) onFailure(new Error(`${name === undefined ? '' : `${name} `}exited with code ${code}`));
    });
  }

  post(request: Request, transfer?: readonly Transferable[]): void {
    this.worker.postMessage(request, transfer);
  }

  /** Work the owner will wait for was handed over: referenced until as many done() calls. */
  busy(): void {
    if (this.pending++ === 0) this.worker.ref();
  }

  /** One piece of work busy() announced is finished. */
  done(): void {
    if (--this.pending === 0 && !this.closed) this.worker.unref();
  }

  /** Terminates the thread; resolves once it has exited (referenced until then). */
  async close(): Promise<void> {
    this.closed = true;
    this.worker.ref();
    await this.worker.terminate();
  }
}

/** Callers waiting for a helper thread to make progress (room, a free slot, a flush). */
export class Waiters {
  private readonly list: Array<() => void> = [];

  /** Resolves at the next wakeOne() or wakeAll() (the caller then checks for a failure). */
  wait(): Promise<void> {
    return new Promise<void>((resolve) => this.list.push(resolve));
  }

  wakeOne(): void {
    this.list.shift()?.();
  }

  wakeAll(): void {
    for (const w of this.list.splice(0)) w();
  }
}
