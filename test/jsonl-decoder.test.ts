import test, { type ExecutionContext } from 'ava';
import { DecodeError } from '../lib/errors.js';
import { JsonlDecoder, MAX_LINE_BYTES, parseJsonlLine } from '../lib/core/jsonl-decoder.js';
import type { SnapshotRecord } from '../lib/types.js';

// SPEC §3.1. Base64 used below (standard alphabet):
//   "azE=" = "k1", "azI=" = "k2", "azM=" = "k3", "djE=" = "v1", "djI=" = "v2",
//   "AP8=" = 00 ff, "" = empty.

const K1 = Buffer.from('k1');
const K2 = Buffer.from('k2');
const K3 = Buffer.from('k3');
const V1 = Buffer.from('v1');
const V2 = Buffer.from('v2');

function rec(key: Buffer, value: Buffer | null, line: number, commitTs = 0n, tombstone = false): SnapshotRecord {
  return { key, value, commitTs, tombstone, where: { line } };
}

/** Feeds `input` to a fresh decoder in the given pieces, then ends it. */
function decodeChunks(chunks: Buffer[]): { records: SnapshotRecord[]; lines: number } {
  const d = new JsonlDecoder();
  const records: SnapshotRecord[] = [];
  const emit = (r: SnapshotRecord) => records.push(r);
  for (const c of chunks) d.write(c, emit);
  d.end(emit);
  return { records, lines: d.lines };
}

function decode(input: string | Buffer): SnapshotRecord[] {
  return decodeChunks([typeof input === 'string' ? Buffer.from(input, 'utf8') : input]).records;
}

/** The input must fail with ERR_JSONL_LINE naming `line`. */
function lineError(t: ExecutionContext, input: string, line: number, detail?: RegExp): void {
  const err = t.throws(() => decode(input), { instanceOf: DecodeError }, JSON.stringify(input));
  if (!err) return;
  t.is(err.code, 'ERR_JSONL_LINE', JSON.stringify(input));
  t.is(err.context.line, line, JSON.stringify(input));
  t.true(err.message.startsWith(`line ${line}: `), err.message);
  if (detail) t.regex(err.detail, detail);
}

// ------------------------------------------------------------ basics

test('one object per line: key and value are standard base64 of the raw bytes', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE="}\n{"key":"AP8=","value":""}\n'), [
    rec(K1, V1, 1),
    rec(Buffer.from([0x00, 0xff]), Buffer.alloc(0), 2),
  ]);
});

test('base64 padding is optional in key and value', (t) => {
  t.deepEqual(decode('{"key":"azE","value":"djE"}\n'), [rec(K1, V1, 1)]);
});

test('records without commit_ts have commit_ts 0 and are not tombstones', (t) => {
  const [r] = decode('{"key":"azE=","value":"djE="}\n');
  t.is(r?.commitTs, 0n);
  t.is(r?.tombstone, false);
});

test('CRLF line endings: the \\r is not part of the line', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE="}\r\n{"key":"azI=","value":"djI="}\r\n'), [rec(K1, V1, 1), rec(K2, V2, 2)]);
});

test('blank and whitespace-only lines are ignored but counted as lines', (t) => {
  const input = '\n   \n\t \r\n{"key":"azE=","value":"djE="}\n\r\n\n{"key":"azI=","value":"djI="}\n \n';
  const { records, lines } = decodeChunks([Buffer.from(input)]);
  t.deepEqual(records, [rec(K1, V1, 4), rec(K2, V2, 7)]);
  t.is(lines, 8);
});

test('an empty input has no records and no lines', (t) => {
  t.deepEqual(decodeChunks([]), { records: [], lines: 0 });
  t.deepEqual(decodeChunks([Buffer.alloc(0)]), { records: [], lines: 0 });
});

test('a last line without a newline is decoded at end()', (t) => {
  const d = new JsonlDecoder();
  const records: SnapshotRecord[] = [];
  const emit = (r: SnapshotRecord) => records.push(r);
  d.write(Buffer.from('{"key":"azE=","value":"djE="}\n{"key":"azI=","value":"djI="}'), emit);
  t.deepEqual(records, [rec(K1, V1, 1)], 'the unterminated line waits for more input');
  d.end(emit);
  t.deepEqual(records, [rec(K1, V1, 1), rec(K2, V2, 2)]);
  t.is(d.lines, 2);
});

test('a last line without a newline that is invalid fails at end() with its line number', (t) => {
  lineError(t, '{"key":"azE=","value":"djE="}\n\n{"key":"azE=","value":"djE="', 3, /JSON/);
});

test('unknown fields are ignored', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","extra":{"a":[1,2,{"b":null}]},"note":"héllo","n":1.5}\n'), [rec(K1, V1, 1)]);
});

test('null for an optional field means absent (commit_ts null → 0, tombstone null → false)', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":null,"tombstone":null}\n'), [rec(K1, V1, 1, 0n, false)]);
});

// ------------------------------------------------------------ commit_ts

test('commit_ts as a JSON number', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":42}\n'), [rec(K1, V1, 1, 42n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":0}\n'), [rec(K1, V1, 1, 0n)]);
});

test('commit_ts integral number forms are accepted (1e3 → 1000, 1.0 → 1, 2.5e1 → 25)', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":1e3}\n'), [rec(K1, V1, 1, 1000n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":1E3}\n'), [rec(K1, V1, 1, 1000n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":1.0}\n'), [rec(K1, V1, 1, 1n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":2.5e1}\n'), [rec(K1, V1, 1, 25n)]);
});

test('commit_ts number up to 2^53−1 (9007199254740991) is accepted', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":9007199254740991}\n'), [rec(K1, V1, 1, 9007199254740991n)]);
});

test('commit_ts number above 2^53−1 is an error (not a safe integer: use a string)', (t) => {
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":9007199254740992}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":9007199254740993}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":18446744073709551615}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":1e400}\n', 1, /commit_ts/);
});

test('commit_ts as a decimal string, up to 18446744073709551615 (uint64 max)', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":"0"}\n'), [rec(K1, V1, 1, 0n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":"42"}\n'), [rec(K1, V1, 1, 42n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":"9007199254740993"}\n'), [rec(K1, V1, 1, 9007199254740993n)]);
  t.deepEqual(decode('{"key":"azE=","value":"djE=","commit_ts":"18446744073709551615"}\n'), [rec(K1, V1, 1, 18446744073709551615n)]);
});

test('commit_ts decimal string above uint64 max is an error', (t) => {
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"18446744073709551616"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"99999999999999999999"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"100000000000000000000"}\n', 1, /commit_ts/);
});

test('commit_ts negative is an error (number or string)', (t) => {
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":-1}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"-1"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":-9007199254740991}\n', 1, /commit_ts/);
});

test('commit_ts non-integer is an error (number or string)', (t) => {
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":1.5}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"1.5"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"1e3"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":""}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":" 1"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":"0x10"}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":true}\n', 1, /commit_ts/);
  lineError(t, '{"key":"azE=","value":"djE=","commit_ts":[1]}\n', 1, /commit_ts/);
});

// ------------------------------------------------------------ tombstones

test('tombstone with value omitted: value null', (t) => {
  t.deepEqual(decode('{"key":"azE=","tombstone":true,"commit_ts":7}\n'), [rec(K1, null, 1, 7n, true)]);
});

test('tombstone with value null: value null', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":null,"tombstone":true}\n'), [rec(K1, null, 1, 0n, true)]);
});

test('tombstone with a value present: validated, then ignored', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","tombstone":true}\n'), [rec(K1, null, 1, 0n, true)]);
});

test('tombstone with a value present that is invalid base64 still errors', (t) => {
  lineError(t, '{"key":"azE=","value":"dj E=","tombstone":true}\n', 1, /value/);
  lineError(t, '{"key":"azE=","value":"djE","tombstone":true}\n\n{"key":"azE=","value":"d","tombstone":true}\n', 3, /value/);
  lineError(t, '{"key":"azE=","value":5,"tombstone":true}\n', 1, /value/);
});

test('tombstone false behaves like an absent tombstone (value required)', (t) => {
  t.deepEqual(decode('{"key":"azE=","value":"djE=","tombstone":false}\n'), [rec(K1, V1, 1, 0n, false)]);
  lineError(t, '{"key":"azE=","tombstone":false}\n', 1, /value/);
  lineError(t, '{"key":"azE=","tombstone":null}\n', 1, /value/);
});

test('tombstone that is not a boolean is an error', (t) => {
  lineError(t, '{"key":"azE=","tombstone":"true"}\n', 1, /tombstone/);
  lineError(t, '{"key":"azE=","tombstone":1}\n', 1, /tombstone/);
});

// ------------------------------------------------------------ ERR_JSONL_LINE

test('a line that is not a JSON object is ERR_JSONL_LINE (array, string, number, null, boolean)', (t) => {
  lineError(t, '[]\n', 1, /object/);
  lineError(t, '[{"key":"azE=","value":"djE="}]\n', 1, /object/);
  lineError(t, '"azE="\n', 1, /object/);
  lineError(t, '42\n', 1, /object/);
  lineError(t, 'null\n', 1, /object/);
  lineError(t, 'true\n', 1, /object/);
});

test('missing key is ERR_JSONL_LINE', (t) => {
  lineError(t, '{"value":"djE="}\n', 1, /key/);
  lineError(t, '{"Key":"azE=","value":"djE="}\n', 1, /key/);
  lineError(t, '{"key":null,"value":"djE="}\n', 1, /key/);
  lineError(t, '{}\n', 1, /key/);
});

test('key that is not a string is ERR_JSONL_LINE', (t) => {
  lineError(t, '{"key":12,"value":"djE="}\n', 1, /key/);
  lineError(t, '{"key":["azE="],"value":"djE="}\n', 1, /key/);
});

test('missing value on a non-tombstone is ERR_JSONL_LINE', (t) => {
  lineError(t, '{"key":"azE="}\n', 1, /value/);
  lineError(t, '{"key":"azE=","value":null}\n', 1, /value/);
  lineError(t, '{"key":"azE=","value":12}\n', 1, /value/);
});

test('invalid base64 in key or value is ERR_JSONL_LINE (never silently dropped characters)', (t) => {
  lineError(t, '{"key":"az E=","value":"djE="}\n', 1, /key/);
  lineError(t, '{"key":"a-E=","value":"djE="}\n', 1, /key/);
  lineError(t, '{"key":"azE=","value":"dj_="}\n', 1, /value/);
  lineError(t, '{"key":"azE=","value":"djE=="}\n', 1, /value/);
  lineError(t, '{"key":"azE=","value":"djE"}\n{"key":"azE=","value":"d"}\n', 2, /value/);
});

test('invalid JSON is ERR_JSONL_LINE', (t) => {
  lineError(t, '{"key":"azE=","value":"djE="\n', 1, /JSON/);
  lineError(t, "{'key':'azE=','value':'djE='}\n", 1, /JSON/);
  lineError(t, '{"key":"azE=","value":"djE="} x\n', 1, /JSON/);
  lineError(t, '{"key":"azE=","value":"djE="}{}\n', 1, /JSON/);
  lineError(t, '{"key":"azE=",}\n', 1, /JSON/);
  lineError(t, 'garbage\n', 1, /JSON/);
});

test('the line number is 1-based and counts blank, whitespace-only and CRLF lines', (t) => {
  const good = '{"key":"azE=","value":"djE="}';
  lineError(t, `${good}\n\n  \r\n${good}\r\n{"key":"azE="}\r\n${good}\n`, 5, /value/);
  lineError(t, `\n\n\n\n\n\n\n\n\n[]`, 10, /object/);
});

test('the error stops decoding: earlier records were emitted, later ones not', (t) => {
  const d = new JsonlDecoder();
  const records: SnapshotRecord[] = [];
  const err = t.throws(
    () => d.write(Buffer.from('{"key":"azE=","value":"djE="}\n[]\n{"key":"azI=","value":"djI="}\n'), (r) => records.push(r)),
    { instanceOf: DecodeError },
  );
  t.is(err?.context.line, 2);
  t.deepEqual(records, [rec(K1, V1, 1)]);
});

// ------------------------------------------------------------ parseJsonlLine

test('parseJsonlLine: one line without its newline; a trailing \\r is stripped', (t) => {
  t.deepEqual(parseJsonlLine(Buffer.from('{"key":"azE=","value":"djE=","commit_ts":"5"}\r'), 9), rec(K1, V1, 9, 5n));
});

test('parseJsonlLine: blank and whitespace-only lines give null', (t) => {
  t.is(parseJsonlLine(Buffer.alloc(0), 1), null);
  t.is(parseJsonlLine(Buffer.from('\r'), 1), null);
  t.is(parseJsonlLine(Buffer.from(' \t '), 1), null);
  t.is(parseJsonlLine(Buffer.from(' \t \r'), 1), null);
});

test('parseJsonlLine: errors carry the given line number', (t) => {
  const err = t.throws(() => parseJsonlLine(Buffer.from('[]'), 77), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_JSONL_LINE');
  t.is(err?.context.line, 77);
});

// ------------------------------------------------------------ chunking

// A multi-line input exercising every framing case: CRLF, blank lines,
// whitespace-only lines, multi-byte UTF-8 (split mid-character at some
// offsets), a tombstone, a string commit_ts, and a last line without "\n".
const MULTI =
  '{"key":"azE=","value":"djE=","commit_ts":1,"note":"日本語 é"}\r\n' + // line 1
  '\n' + // 2
  '  \t\r\n' + // 3
  '{"key":"azI=","tombstone":true,"commit_ts":"18446744073709551615"}\n' + // 4
  '{"note":"\u{1F600}","key":"AP8=","value":""}\r\n' + // 5
  '\n' + // 6
  '{"key":"azM=","value":"djI","commit_ts":3e0}'; // 7, no newline

const MULTI_RECORDS: SnapshotRecord[] = [
  rec(K1, V1, 1, 1n),
  rec(K2, null, 4, 18446744073709551615n, true),
  rec(Buffer.from([0x00, 0xff]), Buffer.alloc(0), 5),
  rec(K3, V2, 7, 3n),
];

test('whole input at once gives the expected records', (t) => {
  const { records, lines } = decodeChunks([Buffer.from(MULTI)]);
  t.deepEqual(records, MULTI_RECORDS);
  t.is(lines, 7);
});

test('split into two chunks at every byte offset gives identical records', (t) => {
  const all = Buffer.from(MULTI);
  for (let i = 0; i <= all.length; i++) {
    const { records, lines } = decodeChunks([all.subarray(0, i), all.subarray(i)]);
    t.deepEqual(records, MULTI_RECORDS, `split at ${i}`);
    t.is(lines, 7, `split at ${i}`);
  }
});

test('split into three chunks at many offset pairs gives identical records', (t) => {
  const all = Buffer.from(MULTI);
  for (let i = 0; i <= all.length; i += 7) {
    for (let j = i; j <= all.length; j += 5) {
      const { records } = decodeChunks([all.subarray(0, i), all.subarray(i, j), all.subarray(j)]);
      t.deepEqual(records, MULTI_RECORDS, `split at ${i}, ${j}`);
    }
  }
});

test('1-byte chunks give identical records', (t) => {
  const all = Buffer.from(MULTI);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i++) chunks.push(all.subarray(i, i + 1));
  const { records, lines } = decodeChunks(chunks);
  t.deepEqual(records, MULTI_RECORDS);
  t.is(lines, 7);
});

test('the same input ending with a newline gives the same records at every split', (t) => {
  const all = Buffer.from(MULTI + '\n');
  for (let i = 0; i <= all.length; i++) {
    const { records, lines } = decodeChunks([all.subarray(0, i), all.subarray(i)]);
    t.deepEqual(records, MULTI_RECORDS, `split at ${i}`);
    t.is(lines, 7, `split at ${i}`);
  }
});

test('an error line split across chunks still reports its line number', (t) => {
  const all = Buffer.from('{"key":"azE=","value":"djE="}\n\r\n{"key":"azE=","value":"dj E="}\n{"key":"azE=","value":"djE="}\n');
  for (let i = 0; i <= all.length; i++) {
    const err = t.throws(() => decodeChunks([all.subarray(0, i), all.subarray(i)]), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_JSONL_LINE');
    t.is(err?.context.line, 3, `split at ${i}`);
  }
});

test('a long line spanning many chunks decodes to the right bytes', (t) => {
  const value = Buffer.alloc(300_000);
  for (let i = 0; i < value.length; i++) value[i] = (i * 7 + 3) & 0xff;
  const line = Buffer.from(`{"key":"azE=","value":"${value.toString('base64')}"}\n`);
  const chunks: Buffer[] = [];
  for (let i = 0; i < line.length; i += 1000) chunks.push(line.subarray(i, i + 1000));
  const { records } = decodeChunks(chunks);
  t.is(records.length, 1);
  t.true(records[0]?.value?.equals(value));
  t.deepEqual(records[0]?.key, K1);
});

test('lines outside the fast path (escapes, exponents, nesting, odd spacing) decode the same as plain ones', (t) => {
  const plain = parseJsonlLine(Buffer.from('{"key":"QUJD","value":"eHl6","commit_ts":1000}'), 1);
  const variants = [
    '{"key":"\\u0051UJD","value":"eHl6","commit_ts":1000}', // escape in key
    '{"key":"QUJD","value":"eHl6","commit_ts":1e3}', // exponent
    '{"key":"QUJD","value":"eHl6","commit_ts":"1000","extra":{"nested":[1,2]}}', // nested unknown field
    ' { "key" : "QUJD" ,\t"value" : "eHl6" , "commit_ts" : 1000 } ', // whitespace everywhere
    '{"value":"eHl6","note":"caf\\u00e9","commit_ts":1000,"key":"QUJD","tombstone":null}', // escaped unknown string
    '{"key":"AAAA","value":"eHl6","commit_ts":1000,"key":"QUJD"}', // duplicate: the later wins
  ];
  for (const v of variants) {
    const rec = parseJsonlLine(Buffer.from(v), 1);
    t.deepEqual(rec, plain, v);
  }
});

test('a raw control byte inside an unknown string field is invalid JSON on either path', (t) => {
  const err = t.throws(() => parseJsonlLine(Buffer.from('{"key":"QUJD","value":"eHl6","x":"a\tb"}'), 4));
  t.is((err as DecodeError).code, 'ERR_JSONL_LINE');
  t.is((err as DecodeError).context.line, 4);
});

test('parseU64Decimal: the uint64 range in plain decimal, nothing else', async (t) => {
  const { parseU64Decimal } = await import('../lib/core/u64.js');
  t.is(parseU64Decimal('0'), 0n);
  t.is(parseU64Decimal('18446744073709551615'), 18446744073709551615n);
  t.is(parseU64Decimal('18446744073709551616'), undefined);
  t.is(parseU64Decimal('99999999999999999999'), undefined);
  t.is(parseU64Decimal('-1'), undefined);
  t.is(parseU64Decimal(' 1'), undefined);
  t.is(parseU64Decimal(''), undefined);
});

test('a line that is not valid JSON is reported without echoing its raw control bytes', (t) => {
  const err = t.throws(() => parseJsonlLine(Buffer.from('{"key":\x1b]0;pwned\x07\u009b}'), 3)) as DecodeError;
  t.is(err.code, 'ERR_JSONL_LINE');
  t.is(err.context.line, 3);
  t.false(/[\x00-\x1f\x7f-\x9f]/.test(err.message), err.message);
  t.true(err.message.includes('\\x1b]0;pwned\\x07'), err.message);
});

test('invalid UTF-8 anywhere in a line is ERR_JSONL_LINE (a damaged field name is not just an unknown field)', (t) => {
  const line = (s: string) => Buffer.from(s, 'latin1');
  for (const bad of [
    line('{"key":"azE=","value":"djE=","commit\xf3ts":5}'), // a flipped byte in "commit_ts"
    line('{"key":"azE=","value":"djE=","note":"caf\xe9"}'), // latin1, not UTF-8, in an unknown field
    line('{"key":"azE=","value":"djE=","n\xc3":1}'), // truncated sequence
    line('{"key":"azE=","value":"djE="}\xff'),
    line('{"k\xff":1,"key":"azE=","value":"djE="}'),
  ]) {
    const err = t.throws(() => parseJsonlLine(bad, 4), { instanceOf: DecodeError }, bad.toString('latin1'));
    t.is(err?.code, 'ERR_JSONL_LINE');
    t.is(err?.context.line, 4);
  }
  // Valid non-ASCII UTF-8 outside key and value is fine.
  t.deepEqual(parseJsonlLine(Buffer.from('{"key":"azE=","value":"djE=","note":"café ✓"}'), 1), rec(K1, V1, 1));
});

test('a line of non-JSON whitespace (VT, FF, NBSP, U+FEFF, U+3000) is ERR_JSONL_LINE, not blank', (t) => {
  for (const ws of ['\v', '\f', '\u00a0', '\ufeff', '\u3000', ' \u2028 ']) {
    const err = t.throws(() => parseJsonlLine(Buffer.from(ws), 2), { instanceOf: DecodeError }, JSON.stringify(ws));
    t.is(err?.code, 'ERR_JSONL_LINE');
  }
});

// ------------------------------------------------------------ bounded lines

test('an unfinished line that cannot be a JSON object fails at once, before its newline arrives', (t) => {
  const d = new JsonlDecoder();
  const out: SnapshotRecord[] = [];
  d.write(Buffer.from('{"key":"azE=","value":"djE="}\n'), (r) => out.push(r));
  const err = t.throws(() => d.write(Buffer.from(' \tx'.padEnd(64 * 1024, 'x')), (r) => out.push(r)), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_JSONL_LINE');
  t.is(err?.context.line, 2);
  t.is(out.length, 1);
  const zeros = t.throws(() => new JsonlDecoder().write(Buffer.alloc(64 * 1024), () => {}), { instanceOf: DecodeError });
  t.is(zeros?.context.line, 1);
});

test('a line longer than any record can be fails as soon as it is, without a newline', (t) => {
  const d = new JsonlDecoder(100);
  d.write(Buffer.from('{"key":"'), () => {});
  d.write(Buffer.alloc(90, 'A'), () => {});
  const err = t.throws(() => d.write(Buffer.alloc(10, 'A'), () => {}), { instanceOf: DecodeError });
  t.is(err?.code, 'ERR_JSONL_LINE');
  t.regex(err?.message ?? '', /line 1: line longer than 100 bytes/);
  // The default bound admits the largest record: a 256 MiB + 43 byte value and a 1 MiB + 8 byte key in base64.
  t.true(MAX_LINE_BYTES >= Math.ceil((256 * 1024 * 1024 + 43) / 3) * 4 + Math.ceil((1024 * 1024 + 8) / 3) * 4);
  t.true(MAX_LINE_BYTES < 1.4 * 256 * 1024 * 1024 + 2 * 1024 * 1024);
});
