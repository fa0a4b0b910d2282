/**
 * Distinct object keys in bytewise order, as naming (SPEC §5.8) reads
 * them: in order, and searched for a key's neighbours. In memory here; a
 * bucket's may be on disk (lib/io/sorted-key-list.ts).
 */

/** Distinct keys ('latin1' strings, one char per byte) in bytewise order: iterable (more than once) and searchable. */
export interface SortedKeys extends Iterable<string> {
  /** The first key ≥ t (bytewise), or undefined. */
  ceiling(t: string): string | undefined;
}

/** Keys in an array, sorted and distinct. */
export function sortedArray(keys: readonly string[]): SortedKeys {
  return {
    [Symbol.iterator]: () => keys[Symbol.iterator](),
    ceiling(t) {
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (keys[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      return keys[lo];
    },
  };
}
