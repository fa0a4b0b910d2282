import test from 'ava';
import { JsonlRecords } from '../lib/convert/jsonl-records.js';
import { DecodeError } from '../lib/errors.js';
import type { SnapshotRecord } from '../lib/types.js';

function records(...chunks: string[]): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  const r = new JsonlRecords((rec) => out.push(rec));
  for (const c of chunks) r.write(Buffer.from(c));
  r.end();
  return out;
}

test('lines split anywhere give their records in order; blank lines are skipped; the last line needs no newline', (t) => {
  const got = records('{"key":"YQ==","val', 'ue":"Yg==","commit_ts":5}\n\n{"key":"Yw==","value":""}');
  t.deepEqual(
    got.map((r) => [r.key.toString(), r.value?.toString(), r.commitTs, r.where.line]),
    [
      ['a', 'b', 5n, 1],
      ['c', '', 0n, 3],
    ],
  );
});

test('a tombstone keeps the value its line gives; without one (or an empty one) its value is null', (t) => {
  const got = records('{"key":"YQ==","value":"dg==","tombstone":true}\n{"key":"Yg==","tombstone":true}\n{"key":"Yw==","value":"","tombstone":true}\n');
  t.deepEqual(
    got.map((r) => [r.tombstone, r.value === null ? null : r.value.toString()]),
    [
      [true, 'v'],
      [true, null],
      [true, null],
    ],
  );
});

test('a native snapshot given as JSON lines is named as such; other bad lines keep their own error', (t) => {
  const native = t.throws(() => records('EKVPBBL1\0\0\0\0\0\0\0\0'), { instanceOf: DecodeError });
  t.regex(native!.message, /^line 1: the input is a native snapshot, not JSON lines/);
  const bad = t.throws(() => records('{"key":"YQ==","value":"Y"}\n'), { instanceOf: DecodeError });
  t.is(bad!.message, 'line 1: "value": truncated base64 (length ≡ 1 mod 4)');
});
