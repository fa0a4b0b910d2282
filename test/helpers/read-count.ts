/** Counting the synchronous reads (preads) code makes, for tests of read-ahead. */
import fs from 'node:fs';

/** Counts fs.readSync calls while fn runs. */
export function countingReads(fn: () => void): number {
  const real = fs.readSync;
  let calls = 0;
  fs.readSync = ((...args: Parameters<typeof fs.readSync>) => {
    calls++;
    return real(...args);
  }) as typeof fs.readSync;
  try {
    fn();
  } finally {
    fs.readSync = real;
  }
  return calls;
}
