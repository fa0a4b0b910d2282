/** uint64: its largest value (the one definition of 2^64 − 1), and parsing it in decimal (commit_ts strings, --snapshot-index, --last-commit-ts). */
export const MAX_U64 = (1n << 64n) - 1n;

/** The value of a decimal uint64, or undefined when s is not one (sign, spaces, too big). */
export function parseU64Decimal(s: string): bigint | undefined {
  if (!/^[0-9]{1,20}$/.test(s)) return undefined;
  const n = BigInt(s);
  return n <= MAX_U64 ? n : undefined;
}
