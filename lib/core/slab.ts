/**
 * Small buffers cut from slabs of SLAB_BYTES. On Node 20 Buffer.allocUnsafe
 * cuts buffers under 4 KiB from an 8 KiB pool (larger ones get their own),
 * and each new pool is an ArrayBuffer with a backing store of its own: for
 * the decoder's keys and 1–4 KiB values a new one every few buffers.
 * 400 000 buffers of 60 B–2 KiB took 172 ms from Node's pool, 46 ms from
 * 64 KiB slabs (Node 20, one process, steady state). Newer Node releases
 * have a 64 KiB pool themselves (nodejs/node#63597; Node 24.22 here): there
 * this changes little.
 *
 * As with Node's pool, a slab is freed once no buffer cut from it is left,
 * and a buffer kept for long keeps its slab: the decoder's stages copy what
 * they keep (lib/stages/collect.ts), so its buffers live a record's time.
 * Not lib/core/arena.ts: an arena holds its blocks until it is cleared (its
 * bytes live until the end of a run), where these must go with their
 * buffers.
 */

/** Bytes of a slab. */
export const SLAB_BYTES = 64 * 1024;
/** Larger buffers are allocated on their own (a slab would waste up to this much at its end). */
const SLAB_MAX = SLAB_BYTES / 8;

let slab = Buffer.alloc(0);
let used = 0;

/** A buffer of `length` bytes (contents undefined), cut from the current slab when small. */
export function allocSmall(length: number): Buffer {
  if (length > SLAB_MAX) return Buffer.allocUnsafe(length);
  if (used + length > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const b = slab.subarray(used, used + length);
  // 8-byte aligned, as Node's pool: a typed array over a buffer may need it.
  used = (used + length + 7) & ~7;
  return b;
}
