/**
 * A bump allocator for small byte strings that live until the end of a run
 * (object keys, manifests, upload ids). Buffer.from() of a small buffer takes
 * a slice of Node's shared 8 KiB pool, and one long-lived slice pins the
 * whole slab with whatever short-lived data shares it; packing long-lived
 * bytes densely here keeps memory proportional to what is kept.
 *
 * Bytes can be kept as Buffer views (copy()), or — cheaper still, when there
 * are many — by position (put()/view()): a position is a plain number, while
 * every Buffer view is a JavaScript object of about 100 bytes. Positions can
 * be released: a block whose every put() was released (and that holds no
 * copy()) is let go, for reuse by any arena.
 */
export const BLOCK = 256 * 1024;
/**
 * Size of an arena's first block. Blocks then double up to BLOCK: there is
 * an arena per bucket, and 50 000 one-object buckets must not cost 50 000
 * full blocks. (Positions still advance by BLOCK per block: see bump.)
 */
const FIRST_BLOCK = 1024;
const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Released blocks, for reuse by any arena until the garbage collector takes
 * them (weakly held: nothing is kept alive for reuse). Memory let go of by
 * one structure (manifests already written) thus serves another (the
 * checksum list) at once, instead of after V8's next full collection.
 */
const spare: Array<WeakRef<Buffer>> = [];

/** A BLOCK-byte buffer: a released one if still there, else a new one. */
export function takeBlock(): Buffer {
  for (let b = spare.pop(); b !== undefined; b = spare.pop()) {
    const block = b.deref();
    if (block !== undefined) return block;
  }
  return Buffer.allocUnsafeSlow(BLOCK);
}

/** Gives back a BLOCK-byte buffer that nothing uses any more (no view of it may be used again). */
export function giveBlock(block: Buffer): void {
  if (block.length === BLOCK && block.byteOffset === 0 && block.buffer.byteLength === BLOCK) spare.push(new WeakRef(block));
}

export class ByteArena {
  /** Blocks addressed by positions; index 0 is never used. */
  private readonly blocks: Buffer[] = [EMPTY];
  /** A DataView of each block, for compare(). */
  private readonly views: DataView[] = [EMPTY_VIEW];
  /** Positions put() and not released, per block (plus one per copy(): those blocks stay). */
  private readonly live: number[] = [0];
  /** Index of the block being filled (0: none yet). */
  private current = 0;
  private used = 0;
  /** Bytes the current block holds (at most BLOCK). */
  private capacity = 0;

  /** A copy of src that lives in the arena (its block is never released). */
  copy(src: Uint8Array): Buffer {
    const n = src.length;
    if (n > BLOCK / 4) return Buffer.from(src); // large: its own allocation
    const at = this.bump(n);
    this.live[this.current]!++; // pinned: views of it live on
    const out = this.view(at, n);
    out.set(src);
    return out;
  }

  /**
   * Copies src into the arena and returns its position, for view(). Positions
   * below 2^31 (the first 2 GiB) are small integers, stored without boxing.
   */
  put(src: Uint8Array): number {
    const n = src.length;
    if (n > BLOCK / 4) {
      // Large: a block of its own, at offset 0.
      this.addBlock(Buffer.from(src));
      this.live.push(1);
      return (this.blocks.length - 1) * BLOCK;
    }
    const at = this.bump(n);
    // Set in place, not through view(): a Buffer object per put() is garbage at once.
    this.blocks[this.current]!.set(src, at - this.current * BLOCK);
    this.live[this.current]!++;
    return at;
  }

  /** The bytes put() at position at are no longer needed (views of them must not be used any more). */
  release(at: number): void {
    const i = Math.floor(at / BLOCK);
    if (--this.live[i]! === 0 && i !== this.current) this.drop(i);
  }

  /** The n bytes stored at position at (a view, not a copy). */
  view(at: number, n: number): Buffer {
    const i = Math.floor(at / BLOCK);
    const off = at - i * BLOCK;
    return this.blocks[i]!.subarray(off, off + n);
  }

  /**
   * Bytewise comparison of the bytes at two positions (-1, 0 or 1, as
   * Buffer.compare), 4 bytes at a time as big-endian u32s: sorts compare
   * keys that share long prefixes, and this is several times faster per
   * call than Buffer#compare.
   */
  compare(atA: number, lengthA: number, atB: number, lengthB: number): number {
    const bi = Math.floor(atA / BLOCK);
    const bj = Math.floor(atB / BLOCK);
    const va = this.views[bi]!;
    const vb = this.views[bj]!;
    let i = atA - bi * BLOCK;
    let j = atB - bj * BLOCK;
    const m = lengthA < lengthB ? lengthA : lengthB;
    const end4 = i + (m & ~3);
    while (i < end4) {
      const x = va.getUint32(i);
      const y = vb.getUint32(j);
      if (x !== y) return x < y ? -1 : 1;
      i += 4;
      j += 4;
    }
    const end = end4 + (m & 3);
    while (i < end) {
      const x = va.getUint8(i);
      const y = vb.getUint8(j);
      if (x !== y) return x < y ? -1 : 1;
      i++;
      j++;
    }
    return lengthA === lengthB ? 0 : lengthA < lengthB ? -1 : 1;
  }

  /** Copies the n bytes at position at into target at offset; returns n (no view is made). */
  copyOut(at: number, n: number, target: Uint8Array, offset: number): number {
    const i = Math.floor(at / BLOCK);
    const off = at - i * BLOCK;
    return this.blocks[i]!.copy(target, offset, off, off + n);
  }

  /** Whether the n bytes at position at equal b. */
  equals(at: number, n: number, b: Uint8Array): boolean {
    if (b.length !== n) return false;
    const i = Math.floor(at / BLOCK);
    const off = at - i * BLOCK;
    return this.blocks[i]!.compare(b, 0, n, off, off + n) === 0;
  }

  /**
   * Releases every position at once (no view of the arena may be used
   * again): its full blocks go back for reuse right away — a sort's next
   * run fills the blocks of the last one instead of new memory that waits
   * for a collection to be freed.
   */
  clear(): void {
    for (let i = 1; i < this.blocks.length; i++) giveBlock(this.blocks[i]!);
    this.blocks.length = 1;
    this.views.length = 1;
    this.live.length = 1;
    this.current = 0;
    this.used = 0;
    this.capacity = 0;
  }

  private addBlock(block: Buffer): void {
    this.blocks.push(block);
    this.views.push(new DataView(block.buffer, block.byteOffset, block.length));
  }

  private drop(i: number): void {
    giveBlock(this.blocks[i]!);
    this.blocks[i] = EMPTY;
    this.views[i] = EMPTY_VIEW;
  }

  /** Reserves n (at most BLOCK) bytes; returns their position. */
  private bump(n: number): number {
    if (this.current === 0 || this.used + n > this.capacity) {
      // A block whose every put() was released while it was being filled.
      if (this.current !== 0 && this.live[this.current] === 0) this.drop(this.current);
      let size = this.current === 0 ? FIRST_BLOCK : Math.min(BLOCK, 2 * this.capacity);
      while (size < n) size *= 2;
      this.capacity = size;
      this.addBlock(size === BLOCK ? takeBlock() : Buffer.allocUnsafeSlow(size));
      this.live.push(0);
      this.current = this.blocks.length - 1;
      this.used = 0;
    }
    const at = this.current * BLOCK + this.used;
    this.used += n;
    return at;
  }
}
