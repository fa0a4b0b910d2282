/**
 * A column of numbers, one per entry, that grows block by block. A typed
 * array grown by doubling holds up to twice what it needs, and three times
 * while it is copied; blocks are never copied and at most one is partly
 * unused, so a column of millions of entries costs about what it holds.
 * The first block starts small and doubles: a column of a few entries costs
 * a few bytes.
 */
const SHIFT = 13;
/** Entries per block (8192: 64 KiB for a Float64Array). */
const PER_BLOCK = 1 << SHIFT;
const MASK = PER_BLOCK - 1;
/** Entries of the first block at first: it doubles up to PER_BLOCK (a column per bucket must start small). */
const FIRST = 16;

type Numbers = Float64Array | Uint32Array | Uint16Array | Uint8Array;

export class BlockColumn<T extends Numbers> {
  private readonly blocks: T[] = [];

  constructor(private readonly make: new (length: number) => T) {}

  /** The value of entry k (0 if never set). */
  get(k: number): number {
    return this.blocks[k >>> SHIFT]?.[k & MASK] ?? 0;
  }

  set(k: number, value: number): void {
    const b = k >>> SHIFT;
    if (this.blocks.length === 0) this.blocks.push(new this.make(FIRST));
    // The first entry set may be any entry (bucket numbers come in input order, not 0 first).
    if (this.blocks[0]!.length < PER_BLOCK && (b > 0 || k >= this.blocks[0]!.length)) this.growFirst(b > 0 ? PER_BLOCK : k + 1);
    while (this.blocks.length <= b) this.blocks.push(new this.make(PER_BLOCK));
    this.blocks[b]![k & MASK] = value;
  }

  /** Doubles the first block until it holds n entries (the only block ever copied, and only while small). */
  private growFirst(n: number): void {
    const old = this.blocks[0]!;
    let size = old.length;
    while (size < n) size *= 2;
    const grown = new this.make(size);
    grown.set(old as never);
    this.blocks[0] = grown;
  }
}
