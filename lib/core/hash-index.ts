/**
 * An open-addressing hash index from 32-bit hashes to record ids (integers
 * ≥ 0), for records kept in columns rather than as JavaScript objects. The
 * index stores no keys: a lookup names a hash and the owner's `matches`
 * test decides which record with that hash is the one. Two typed arrays
 * hold everything, so a million entries cost some 16 MiB outside the
 * JavaScript heap and nothing for the garbage collector to trace.
 */
export class HashIndex {
  /** id + 1 per slot; 0 is empty. */
  // Small at first (there is an index per bucket); doubles as it fills.
  private slots = new Int32Array(16);
  private hashes = new Int32Array(16);
  private count = 0;

  /** matches(id): whether record id is the one being looked up. */
  constructor(private readonly matches: (id: number) => boolean) {}

  get size(): number {
    return this.count;
  }

  /** The id with this hash that matches(), or −1. */
  find(hash: number): number {
    const slot = this.slotOf(hash);
    return slot < 0 ? -1 : this.slots[slot]! - 1;
  }

  /** Adds id under hash (the caller knows no matching id is present). */
  add(hash: number, id: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    let i = hash & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = id + 1;
    this.hashes[i] = hash;
    this.count++;
  }

  /** Points the entry that matches() at another id. */
  replace(hash: number, id: number): void {
    const slot = this.slotOf(hash);
    if (slot < 0) throw new Error('HashIndex.replace: no such entry');
    this.slots[slot] = id + 1;
  }

  private slotOf(hash: number): number {
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === 0) return -1;
      if (this.hashes[i] === hash && this.matches(s - 1)) return i;
    }
  }

  private grow(): void {
    const { slots, hashes } = this;
    this.slots = new Int32Array(slots.length * 2);
    this.hashes = new Int32Array(slots.length * 2);
    const mask = this.slots.length - 1;
    for (let j = 0; j < slots.length; j++) {
      const s = slots[j]!;
      if (s === 0) continue;
      let i = hashes[j]! & mask;
      while (this.slots[i] !== 0) i = (i + 1) & mask;
      this.slots[i] = s;
      this.hashes[i] = hashes[j]!;
    }
  }
}

/** FNV-1a over bytes, continuing from h (32-bit). */
export function hashBytes(b: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h | 0;
}

/** Mixes a number into a 32-bit hash (numbers above 2^32 fold, lossily but deterministically). */
export function hashNumber(h: number, n: number): number {
  h = Math.imul(h ^ (n | 0), 0x01000193);
  h = Math.imul(h ^ ((n / 4294967296) | 0), 0x01000193);
  return h | 0;
}
