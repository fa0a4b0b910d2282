/**
 * Reusable 1 MiB blocks of shared memory for blob values. The native
 * decoder assembles a value that spans input reads into one of these
 * (it copies the pieces anyway); the hash workers can then read the value
 * where it is, with no copy into a hashing slot, and a block whose owner is
 * done goes back to a free list instead of to the allocator, so the next
 * value lands in memory that is already mapped (a fresh buffer costs a page
 * fault per 4 KiB: on this project's VMs a host fault each).
 *
 * Input files are read into shared memory too (lib/io/file-chunks.ts, in
 * larger pieces): a blob chunk that lies inside one read is passed on as a
 * view of it, held like a block (see viewOf), and not copied at all.
 *
 * Holds: take() gives the caller one; a hash worker reading the block takes
 * another (hold()) until it is done. The block is reused only when every
 * hold is released. A value that is never released (a record dropped before
 * the spiller, or a consumer that does not know about blocks) is simply
 * garbage-collected like any buffer: forgetting costs a fresh block later,
 * never correctness. Releasing too early would, so only the stage that last
 * touches a payload (the blob spiller) releases it.
 */

import { alignedShared, WASM_PAGE } from './aligned-memory.js';
import { allocSmall } from '../core/slab.js';

/** Size of a block: the largest value that is assembled in one. */
export const BLOCK_BYTES = 1 << 20;
/** Free memory kept for reuse, per size of buffer (more is left to the garbage collector). */
const MAX_FREE_BYTES = 24 * BLOCK_BYTES;

/** Free buffers by size. */
const free = new Map<number, SharedArrayBuffer[]>();
const holds = new WeakMap<SharedArrayBuffer, number>();

/**
 * A whole shared buffer of `size` bytes (a free one if there is one), with
 * one hold for the caller. One of a whole number of 64 KiB pages (the input
 * reads, the blocks) starts on a page boundary (lib/io/aligned-memory.ts):
 * a value at its start can be written with O_DIRECT where it lies.
 */
export function takeShared(size: number): Buffer {
  const sab = free.get(size)?.pop() ?? (size % WASM_PAGE === 0 ? alignedShared(size) : new SharedArrayBuffer(size));
  holds.set(sab, 1);
  return Buffer.from(sab);
}

/** A buffer of `length` bytes (≤ BLOCK_BYTES) at the start of a block, with one hold for the caller. */
export function takeBlock(length: number): Buffer {
  if (length > BLOCK_BYTES) throw new RangeError(`a block holds at most ${BLOCK_BYTES} bytes, not ${length}`);
  return takeShared(BLOCK_BYTES).subarray(0, length);
}

/** Values shorter than this are not worth a block (small objects are copied into the spiller's pool batch anyway). */
const VALUE_MIN = 64 * 1024;

/** A buffer for a value of `length` bytes: in a block when it is a blob chunk's size, else from the allocator (a slab when small). */
export function takeValueBuffer(length: number): Buffer {
  return length >= VALUE_MIN && length <= BLOCK_BYTES ? takeBlock(length) : allocSmall(length);
}

/** Values at least this long lying in a held shared buffer are passed on as views of it (blob chunks are ~1 MiB; a few long manifests pinning a read are no harm). */
const VIEW_MIN = 256 * 1024;

/**
 * bytes[start, end) as a view the caller may keep — its buffer held for it
 * — when bytes lies in a held shared buffer and the value is long enough;
 * else undefined (the caller copies it).
 */
export function viewOf(bytes: Buffer, start: number, end: number): Buffer | undefined {
  if (end - start < VIEW_MIN) return undefined;
  const sab = blockOf(bytes);
  if (!sab) return undefined;
  hold(sab);
  return bytes.subarray(start, end);
}

/** The block `bytes` lies in, if it lies in one that is held. */
export function blockOf(bytes: Uint8Array): SharedArrayBuffer | undefined {
  const sab = bytes.buffer;
  return sab instanceof SharedArrayBuffer && (holds.get(sab) ?? 0) > 0 ? sab : undefined;
}

/** One more hold on the block (a reader that will release it). */
export function hold(sab: SharedArrayBuffer): void {
  holds.set(sab, (holds.get(sab) ?? 0) + 1);
}

/** Releases one hold on the block `bytes` lies in (nothing when it lies in none); the last release frees the block. */
export function releaseBlock(bytes: Uint8Array): void {
  const sab = blockOf(bytes);
  if (sab) release(sab);
}

/** Releases one hold on the block (one not held is left alone: it must never be freed twice). */
export function release(sab: SharedArrayBuffer): void {
  const held = holds.get(sab);
  if (held === undefined) return;
  if (held > 1) return void holds.set(sab, held - 1);
  holds.delete(sab);
  let list = free.get(sab.byteLength);
  if (!list) free.set(sab.byteLength, (list = []));
  if ((list.length + 1) * sab.byteLength <= MAX_FREE_BYTES) list.push(sab);
}
