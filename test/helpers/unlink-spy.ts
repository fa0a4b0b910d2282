/**
 * Counts fs.promises.unlink calls and the most pending at once, process-wide
 * (the removal of a tree is observed through it; tests using it run serially).
 */
import fsp from 'node:fs/promises';

export interface UnlinkSpy {
  /** Calls so far. */
  calls(): number;
  /** The most calls pending at once. */
  maxPending(): number;
  /** Puts the real function back. */
  restore(): void;
}

export function spyOnUnlink(): UnlinkSpy {
  const real = fsp.unlink;
  let calls = 0;
  let pending = 0;
  let maxPending = 0;
  fsp.unlink = async (p) => {
    calls++;
    maxPending = Math.max(maxPending, ++pending);
    try {
      return await real(p);
    } finally {
      pending--;
    }
  };
  return { calls: () => calls, maxPending: () => maxPending, restore: () => void (fsp.unlink = real) };
}
