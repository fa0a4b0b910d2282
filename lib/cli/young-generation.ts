/**
 * Keeps V8's young generation (the "new space") of a command's process at
 * YOUNG_GENERATION_CAP_BYTES at most, on every Node version.
 *
 * Why: V8 grows the new space while a program allocates fast, up to a
 * maximum that Node 24 raised. Node 20 and 22 stop at 32 MiB (two 16 MiB
 * semi-spaces); Node 24 goes on to 128 MiB. The decoder allocates small
 * short-lived objects for every record, so on Node 24 its heap grew by
 * ~100-150 MiB: in one bench run 1 000 000 small objects to tar peaked at
 * 351 MiB RSS (185 on Node 20), 100 000 × 1 KiB at 301 MiB (148). A smaller
 * new space costs no measurable CPU here: a scavenge copies only what is
 * still alive, and little is (docs/PERFORMANCE.md, "The young generation").
 *
 * `--max-semi-space-size` does this, but only on node's command line:
 * v8.setFlagsFromString() is too late for it, and a flag in the `#!` line
 * needs `env -S`, which not every `env` has. V8 does read
 * `--semi-space-growth-factor` each time it grows the new space, so once the
 * new space has reached the cap, a growth factor of 1 keeps it there.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

/**
 * The new space (both semi-spaces) at most. Node 20's and 22's own maximum is
 * 32 MiB; 8 MiB took a further 5-10 MiB off the peak of 100 000 small
 * objects to tar on Node 20 and 24, at the same CPU time.
 */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;

/** The current size of V8's new space, both semi-spaces (0 when V8 names no such space). */
export function youngGenerationBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * From now on, stops the new space from growing once it is `cap` bytes or
 * more. Node reports each garbage collection a turn or two of the event loop
 * later, so a long synchronous stretch of work can grow the new space
 * before the cap acts: such stretches turn the loop (lib/io/breather.ts).
 * Process-wide: the flag applies to worker threads too.
 * For command-line entry points only.
 */
export function capYoungGeneration(cap = YOUNG_GENERATION_CAP_BYTES): void {
  // Once the new space has reached the cap, it never grows again: the factor
  // stays 1 even after V8 shrank the space below the cap (it then holds at
  // the smaller size, as it would with no worker).
  let reached = false;
  const hold = (): void => {
    reached ||= youngGenerationBytes() >= cap;
    if (reached) v8.setFlagsFromString('--semi-space-growth-factor=1');
  };
  // On Node 20 and 22 the growth factor is back at V8's default once a
  // worker thread has started (its isolate's start re-applies V8's flag
  // rules, which keep the factor at 2 or more), and the new space grew to
  // 32 MiB after the first hash worker. Node 24 keeps it. The reset happens
  // in the worker's thread, up to ~100 ms before its 'online' event reaches
  // this one, so the factor is set again every millisecond (every turn of a
  // busy loop) until then. A scavenge in the same turn as the reset can
  // still grow the space one step (a churning child on Node 20: 3 runs in
  // 390; 8 in 180 with the cap set again only at 'online').
  //
  // Collections are watched only until the cap is reached (the space grows
  // only in a collection); from then on a worker's start is the one thing
  // that puts the factor back, and the hook below answers it. Watched for
  // the life of the process, each collection cost the main thread ~0.1 ms
  // of CPU (Node's gc entry and its observer's callback; `perf`): ~50 ms
  // per GiB of JSON lines, whose base64 strings make ~480 scavenges a GiB.
  process.on('worker', (w) => {
    const timer = setInterval(hold, 1).unref();
    const stop = (): void => {
      clearInterval(timer);
      hold();
    };
    w.once('online', stop);
    w.once('exit', stop);
  });
  hold();
  if (reached) return;
  const watch = new PerformanceObserver(() => {
    hold();
    if (reached) watch.disconnect();
  });
  watch.observe({ entryTypes: ['gc'] });
}
