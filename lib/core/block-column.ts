/**
 * A column of numbers, one per entry, that grows block by block. A typed
 * array grown by doubling holds up to twice what it needs, and three times
 * while it is copied; blocks are never copied and at most one is partly
 * unused, so a column of millions of entries costs about what it holds.
 */
const SHIFT = 13;
/** Entries per block (8192: 64 KiB for a Float64Array). */
const PER_BLOCK = 1 << SHIFT;
const MASK = PER_BLOCK - 1;

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
    while (this.blocks.length <= b) this.blocks.push(new this.make(PER_BLOCK));
    this.blocks[b]![k & MASK] = value;
  }
}
