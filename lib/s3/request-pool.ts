/**
 * At most `limit` S3 requests in flight. start() waits for a free slot and
 * resolves once the request is started, giving back its completion boxed
 * (awaiting start() is the backpressure; awaiting `done` is the result), so
 * a caller can go on producing the next body while this one uploads.
 */
export class RequestPool {
  private active = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`pool limit must be a positive integer, not ${limit}`);
  }

  /** Requests running now. */
  get running(): number {
    return this.active;
  }

  async start<T>(fn: () => Promise<T>): Promise<{ done: Promise<T> }> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.active++;
    const done = (async () => fn())().finally(() => {
      this.active--;
      this.waiters.shift()?.();
    });
    // The caller observes `done`; this keeps a failure from being reported as unhandled before it does.
    done.catch(() => {});
    return { done };
  }
}
