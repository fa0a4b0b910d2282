import test from 'ava';
import { civilFromDays, formatUnixMilli, hlcToTime } from '../lib/core/hlc.js';

// Expected strings are written out by hand (and match Go's
// time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)). Inputs are built with
// Date.UTC, which is not the code under test.
const hlcAt = (ms: number, logical = 0n): bigint => (BigInt(ms) << 16n) | logical;

test('fraction: three significant digits are kept', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 789))), '2026-04-29T12:34:56.789Z');
});

test('fraction: trailing zeros are trimmed', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 780))), '2026-04-29T12:34:56.78Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 700))), '2026-04-29T12:34:56.7Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 5))), '2026-04-29T12:34:56.005Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 50))), '2026-04-29T12:34:56.05Z');
});

test('fraction: a whole second has no fraction and no dot', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 0))), '2026-04-29T12:34:56Z');
});

test('logical bits: the low 16 bits are ignored', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2026, 3, 29, 12, 34, 56, 789), 0xffffn)), '2026-04-29T12:34:56.789Z');
  t.is(hlcToTime(1_745_884_800_000n << 16n), '2025-04-29T00:00:00Z');
});

test('zero: HLC 0 is undefined (the field is omitted)', (t) => {
  t.is(hlcToTime(0n), undefined);
});

test('epoch: a non-zero HLC below 2^16 is the epoch, as Go checks hlc == 0', (t) => {
  t.is(hlcToTime(1n), '1970-01-01T00:00:00Z');
  t.is(hlcToTime(0xffffn), '1970-01-01T00:00:00Z');
  t.is(hlcToTime(1n << 16n), '1970-01-01T00:00:00.001Z');
});

test('five-digit years: after 9999 the year has 5 digits and no sign', (t) => {
  t.is(hlcToTime(hlcAt(253_402_300_799_999)), '9999-12-31T23:59:59.999Z');
  t.is(hlcToTime(hlcAt(253_402_300_800_000)), '10000-01-01T00:00:00Z');
});

test('max value: 2^64 − 1 is 10889-08-02T05:31:50.655Z', (t) => {
  t.is(hlcToTime(18446744073709551615n), '10889-08-02T05:31:50.655Z');
  t.is(formatUnixMilli(2 ** 48 - 1), '10889-08-02T05:31:50.655Z');
});

test('unsigned: a negative bigint is read as its 64-bit pattern', (t) => {
  t.is(hlcToTime(-1n), '10889-08-02T05:31:50.655Z');
  // Bits above 64 are dropped.
  t.is(hlcToTime((1n << 64n) | (1n << 16n)), '1970-01-01T00:00:00.001Z');
});

test('leap years: Feb 29 exists in 2024, 2000 and 1972', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2024, 1, 29))), '2024-02-29T00:00:00Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2024, 1, 29, 23, 59, 59, 999))), '2024-02-29T23:59:59.999Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2000, 1, 29, 6))), '2000-02-29T06:00:00Z');
  t.is(hlcToTime(hlcAt(Date.UTC(1972, 1, 29))), '1972-02-29T00:00:00Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2024, 11, 31, 12))), '2024-12-31T12:00:00Z');
});

test('leap years: 2100 is not one, Feb 28 is followed by Mar 1', (t) => {
  t.is(hlcToTime(hlcAt(Date.UTC(2100, 2, 1) - 1)), '2100-02-28T23:59:59.999Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2100, 2, 1))), '2100-03-01T00:00:00Z');
  t.is(hlcToTime(hlcAt(Date.UTC(2023, 2, 1) - 1)), '2023-02-28T23:59:59.999Z');
});

test('leap years: 10000 is one (divisible by 400)', (t) => {
  // 10000-02-29 = 2932956 days after the epoch.
  t.is(formatUnixMilli(2_932_956 * 86_400_000), '10000-02-29T00:00:00Z');
  t.deepEqual(civilFromDays(2_932_957), [10000, 3, 1]);
});

test('calendar: day boundaries and month ends', (t) => {
  t.is(formatUnixMilli(0), '1970-01-01T00:00:00Z');
  t.is(formatUnixMilli(86_399_999), '1970-01-01T23:59:59.999Z');
  t.is(formatUnixMilli(86_400_000), '1970-01-02T00:00:00Z');
  t.is(formatUnixMilli(Date.UTC(1999, 11, 31, 23, 59, 59)), '1999-12-31T23:59:59Z');
  t.is(formatUnixMilli(Date.UTC(2021, 3, 30, 1, 2, 3, 40)), '2021-04-30T01:02:03.04Z');
});

test('calendar: agrees with Date for a spread of instants up to year 9999', (t) => {
  let ms = 0;
  const step = 7_919_999_983; // ~92 days, prime, so times and dates vary
  while (ms <= 253_402_300_799_999) {
    const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
    const want = iso.replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac ? `.${frac}Z` : 'Z'));
    if (formatUnixMilli(ms) !== want) {
      t.fail(`${ms}: ${formatUnixMilli(ms)} !== ${want}`);
      return;
    }
    ms += step;
  }
  t.pass();
});

test('formatUnixMilli: rejects negative and unsafe values', (t) => {
  t.throws(() => formatUnixMilli(-1), { instanceOf: RangeError });
  t.throws(() => formatUnixMilli(0.5), { instanceOf: RangeError });
  t.throws(() => formatUnixMilli(2 ** 53), { instanceOf: RangeError });
});
