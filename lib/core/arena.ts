/**
 * A bump allocator for small byte strings that live until the end of a run
 * (object keys, manifests, upload ids). Buffer.from() of a small buffer takes
 * a slice of Node's shared 8 KiB pool, and one long-lived slice pins the
 * whole slab with whatever short-lived data shares it; packing long-lived
 * bytes densely here keeps memory proportional to what is kept.
 */
const BLOCK = 256 * 1024;

export class ByteArena {
  private block = Buffer.allocUnsafeSlow(0);
  private used = 0;

  /** A copy of src that lives in the arena. */
  copy(src: Uint8Array): Buffer {
    const n = src.length;
    if (n > BLOCK / 4) return Buffer.from(src); // large: its own allocation
    if (this.used + n > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(BLOCK);
      this.used = 0;
    }
    const out = this.block.subarray(this.used, this.used + n);
    out.set(src);
    this.used += n;
    return out;
  }
}
