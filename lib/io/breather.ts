/**
 * Lets the event loop turn during long synchronous work: once every
 * `everyMs` milliseconds a turn (setImmediate), otherwise only a clock
 * read. What waits for a turn: signal handlers and aborts, and the GC
 * events through which the young generation's cap acts
 * (lib/cli/young-generation.ts) — left without a turn for 150–480 ms,
 * encode and verify grew V8's new space to 16–32 MiB, not 8.
 */
export class Breather {
  private last = performance.now();

  constructor(private readonly everyMs = 10) {}

  /** Whether `everyMs` has passed since the last turn (a check for loops too hot for an await each time). */
  get due(): boolean {
    return performance.now() - this.last >= this.everyMs;
  }

  /** A turn of the event loop when one is due; true when it took one. */
  async breathe(): Promise<boolean> {
    if (!this.due) return false;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
    return true;
  }
}
