/** Counting the synchronous reads (preads) code makes, for tests of read-ahead. */
import fs from 'node:fs';

/** The position of every fs.readSync call made while fn runs, in order. */
export function recordingReads(fn: () => void): number[] {
  const real = fs.readSync;
  const positions: number[] = [];
  fs.readSync = ((...args: unknown[]) => {
    // (fd, buffer, offset, length, position): the scratch readers' form.
    positions.push(Number(args[4]));
    return (real as (...a: unknown[]) => number)(...args);
  }) as typeof fs.readSync;
  try {
    fn();
  } finally {
    fs.readSync = real;
  }
  return positions;
}

/** Counts fs.readSync calls while fn runs. */
export function countingReads(fn: () => void): number {
  return recordingReads(fn).length;
}
