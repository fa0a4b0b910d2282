/**
 * Copies bytes between buffers at memcpy speed whatever memory they lie in.
 * Node 20's `Buffer.copy` reads a SharedArrayBuffer (the input's read
 * buffers and the value blocks, lib/io/shared-blocks.ts) with V8's relaxed
 * memmove, made for memory other threads may write: 280-300 ms of CPU per
 * GiB here, where `fill()` given the source is one memcpy, 26-31 ms. On
 * Node 22 and 24 `copy()` is a memcpy too, and the cheaper call below a
 * few KiB (docs/PERFORMANCE.md, "Copies out of shared memory").
 */

/** Copies of at least this many bytes go through fill(). */
export const FILL_FROM = 16 * 1024;

/**
 * Copies src[start, end) into target at offset, as `src.copy(target,
 * offset, start, end)` does (no more than the source holds and the target
 * fits): returns the bytes copied.
 * The two ranges must not overlap.
 */
export function copyBytes(src: Buffer, start: number, end: number, target: Buffer, offset: number): number {
  const fits = Math.min(end, src.length, start + target.length - offset) - start;
  if (fits < FILL_FROM) return src.copy(target, offset, start, end);
  target.fill(src.subarray(start, start + fits), offset, offset + fits);
  return fits;
}
