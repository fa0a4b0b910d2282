/**
 * HLC → timestamp text (SPEC §6 "Time fields").
 *
 * elastickv's hybrid logical clock keeps milliseconds since the Unix epoch in
 * the upper 48 bits and a logical counter in the lower 16. The Go decoder
 * renders `time.UnixMilli(int64(hlc >> 16)).UTC().Format(time.RFC3339Nano)`:
 * RFC 3339 in UTC, the fraction trimmed of trailing zeros (and dropped when
 * zero), and years past 9999 printed with all their digits (`10889-…`), not
 * as JavaScript's expanded `+010889-…`. The calendar arithmetic is done here
 * (proleptic Gregorian, days → civil date) so the whole 48-bit range works.
 */
import { MAX_U64 } from './u64.js';

const MS_PER_DAY = 86_400_000;

/**
 * The time an HLC stands for, or undefined for HLC 0 (the Go decoder checks
 * `hlc == 0`, so a non-zero HLC below 2^16 still renders as the epoch).
 * The HLC is taken as an unsigned 64-bit value (a negative bigint is read as
 * its two's-complement bit pattern).
 */
export function hlcToTime(hlc: bigint): string | undefined {
  const u = hlc & MAX_U64;
  if (u === 0n) return undefined;
  return formatUnixMilli(Number(u >> 16n));
}

/** The same time as seconds since the epoch (milliseconds as a fraction), for file times; undefined for HLC 0. */
export function hlcToSeconds(hlc: bigint): number | undefined {
  const u = hlc & MAX_U64;
  return u === 0n ? undefined : Number(u >> 16n) / 1000;
}

/**
 * Format non-negative milliseconds since the epoch (at most 2^48 − 1, so
 * exact in a double) as Go's `time.RFC3339Nano` in UTC.
 */
export function formatUnixMilli(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`formatUnixMilli: ${ms} is not a non-negative safe integer`);
  }
  const days = Math.floor(ms / MS_PER_DAY);
  let rem = ms - days * MS_PER_DAY;
  const milli = rem % 1000;
  rem = (rem - milli) / 1000;
  const sec = rem % 60;
  rem = (rem - sec) / 60;
  const min = rem % 60;
  const hour = (rem - min) / 60;

  const [year, month, day] = civilFromDays(days);
  let out =
    pad(year, 4) + '-' + pad(month, 2) + '-' + pad(day, 2) +
    'T' + pad(hour, 2) + ':' + pad(min, 2) + ':' + pad(sec, 2);
  if (milli !== 0) {
    let frac = pad(milli, 3);
    while (frac.endsWith('0')) frac = frac.slice(0, -1);
    out += '.' + frac;
  }
  return out + 'Z';
}

/**
 * Days since 1970-01-01 → [year, month 1–12, day 1–31] in the proleptic
 * Gregorian calendar (H. Hinnant's civil_from_days, for days ≥ 0 here but
 * written for any integer).
 */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097; // [0, 146096]
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365); // [0, 399]
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100)); // [0, 365]
  const mp = Math.floor((5 * doy + 2) / 153); // [0, 11], March-based
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return [year, month, day];
}

function pad(n: number, width: number): string {
  const s = String(n);
  return s.length >= width ? s : '0'.repeat(width - s.length) + s;
}
