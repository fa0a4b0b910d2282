// SPEC §3.1 lines whose value is too large to hold (§9): with `bigValues`
// the JSON-lines decoder scans a long line as it arrives, decodes its value
// on the fly into blocks, and emits the record with `valueLength` at the end
// of the line — whatever the order of the members and however the input is
// cut. The reader stages the value in scratch and passes it on as pieces.
import test from 'ava';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decodeBase64Bytes } from '../lib/core/base64.js';
import { Base64Stream } from '../lib/core/base64-stream.js';
import { JsonlDecoder } from '../lib/core/jsonl-decoder.js';
import { DecodeError } from '../lib/errors.js';
import { createJsonlReader } from '../lib/stages/read-snapshot.js';
import type { SnapshotRecord, ValuePiece } from '../lib/types.js';

const MiB = 1 << 20;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pattern = (n: number, seed: number): Buffer => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 197 + seed * 31 + (i >> 7)) & 0xff;
  return b;
};

// ---------------------------------------------------------------- base64 as it arrives

function streamDecode(text: string, cuts: number[], blockBytes = 5): { bytes: Buffer; blocks: number[] } {
  const buf = Buffer.from(text, 'latin1');
  const blocks: Buffer[] = [];
  const s = new Base64Stream('value', 3, blockBytes, (n) => Buffer.alloc(n), (b) => blocks.push(Buffer.from(b)));
  let prev = 0;
  for (const c of [...cuts, buf.length]) {
    s.write(buf, prev, c);
    prev = c;
  }
  s.end();
  return { bytes: Buffer.concat(blocks), blocks: blocks.map((b) => b.length) };
}

test('Base64Stream: the bytes base64 stands for (RFC 4648 test vectors), padded or not, cut anywhere; full blocks then the rest', (t) => {
  const vectors: Array<[string, string]> = [['', ''], ['Zg==', 'f'], ['Zm8=', 'fo'], ['Zm9v', 'foo'], ['Zm9vYg==', 'foob'], ['Zm9vYmE=', 'fooba'], ['Zm9vYmFy', 'foobar'], ['Zm9vYg', 'foob'], ['Zm9vYmE', 'fooba']];
  for (const [text, want] of vectors) {
    for (let c = 0; c <= text.length; c++) t.is(streamDecode(text, [c]).bytes.toString('latin1'), want, `${text} cut at ${c}`);
  }
  const data = pattern(1000, 1);
  const text = data.toString('base64');
  for (const step of [1, 3, 4, 7, 64]) {
    const cuts: number[] = [];
    for (let c = step; c < text.length; c += step) cuts.push(c);
    const out = streamDecode(text, cuts, 64);
    t.true(out.bytes.equals(data), `cuts every ${step}`);
    t.deepEqual(out.blocks, [...Array<number>(15).fill(64), 1000 - 15 * 64]);
  }
});

test('Base64Stream: bad base64 gets the message a short value gets (decodeBase64Bytes), naming the line', (t) => {
  for (const text of ['Zm9v!mFy', 'Zm-v', 'Zm_v', 'Zg=', 'Zg=a', 'Z', 'Zm9vY', 'Zm9v\u00e9Zg', 'Z===', 'Zg==Zg==']) {
    const buf = Buffer.from(text, 'latin1');
    const want = t.throws(() => decodeBase64Bytes(buf, 0, buf.length, 'value', 3), { instanceOf: DecodeError });
    const got = t.throws(() => streamDecode(text, [Math.min(2, text.length)]), { instanceOf: DecodeError });
    t.is(got.message, want.message, text);
    t.is(got.context.line, 3);
  }
});

test('Base64Stream: a long value cut at odd offsets, into blocks that end inside a group, decodes byte for byte; a bad character far into it is reported at its position', (t) => {
  // Long runs of whole groups go through Node's decoder (64 Ki characters at a time); these cases put groups
  // across reads and across blocks (65 537 bytes: not a multiple of 3), and bad characters deep in such runs.
  const value = pattern(300_000, 7);
  const text = value.toString('base64');
  const cuts = [1, 70_001, 70_003, 140_002, 250_001, 333_333];
  const { bytes, blocks } = streamDecode(text, cuts, 65_537);
  t.is(sha256(bytes), sha256(value));
  t.deepEqual(blocks, [65_537, 65_537, 65_537, 65_537, 300_000 - 4 * 65_537]);
  for (const [at, ch] of [[150_001, '!'], [200_002, '-'], [260_003, '_'], [90_000, '='], [399_997, '\u00e9']] as const) {
    const bad = text.slice(0, at) + ch + text.slice(at + 1);
    const buf = Buffer.from(bad, 'latin1');
    const want = t.throws(() => decodeBase64Bytes(buf, 0, buf.length, 'value', 3), { instanceOf: DecodeError });
    const got = t.throws(() => streamDecode(bad, cuts, 65_537), { instanceOf: DecodeError });
    t.is(got.message, want.message, `${ch} at ${at}`);
  }
});

// ---------------------------------------------------------------- the decoder with long lines

type Out = { key: string; commitTs: bigint; tombstone: boolean; value: string | null; valueLength?: number; line: number | undefined } | { staged: string };

/** Decodes `input` cut at `cuts` with long lines over `lineBytes` streamed (8-byte blocks); what it emitted, in order. */
function decodeLong(input: Buffer, cuts: number[], lineBytes = 60): Out[] {
  const out: Out[] = [];
  let staged: Buffer[] = [];
  const d = new JsonlDecoder(undefined, undefined, { lineBytes, blockBytes: 8, take: (n) => Buffer.alloc(n), onBytes: (b) => staged.push(Buffer.from(b)) });
  const emit = (r: SnapshotRecord) => {
    out.push({ key: r.key.toString(), commitTs: r.commitTs, tombstone: r.tombstone, value: r.value === null ? null : r.value.toString(), ...(r.valueLength !== undefined ? { valueLength: r.valueLength } : {}), line: r.where.line });
    if (r.valueLength !== undefined) out.push({ staged: Buffer.concat(staged).toString() });
    staged = [];
  };
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    let at = prev;
    while (at < c) at += d.write(input.subarray(at, c), emit);
    prev = c;
  }
  d.end(emit);
  return out;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');
const VALUE = 'a long value: every member order, any cut, the same record'.repeat(2);
const LINES = [
  `{"key":"${b64('short')}","value":"${b64('v')}","commit_ts":1}`,
  `{"key":"${b64('k1')}","value":"${b64(VALUE)}","commit_ts":5}`,
  // value first, key after it, commit_ts as a string, an unknown nested member, spaces and CRLF
  ` { "value" : "${b64(VALUE)}" , "extra": {"a":[1,"}]"]}, "key":"${b64('k2')}", "commit_ts":"18446744073709551615" }\r`,
  // a tombstone whose value is validated, then dropped
  `{"key":"${b64('k3')}","value":"${b64(VALUE)}","tombstone":true,"commit_ts":7}`,
  // escapes in the value: \/ (some JSON writers escape every slash) and \u0050 for its first character, "P"
  `{"key":"${b64('k4')}","value":"${b64('???' + VALUE).replace(/\//g, '\\/').replace(/^P/, '\\u0050')}"}`,
  `{"key":"${b64('after')}","value":"${b64('w')}"}`,
];
const INPUT = Buffer.from(LINES.join('\n') + '\n');
const EXPECTED: Out[] = [
  { key: 'short', commitTs: 1n, tombstone: false, value: 'v', line: 1 },
  { key: 'k1', commitTs: 5n, tombstone: false, value: null, valueLength: VALUE.length, line: 2 },
  { staged: VALUE },
  { key: 'k2', commitTs: 18446744073709551615n, tombstone: false, value: null, valueLength: VALUE.length, line: 3 },
  { staged: VALUE },
  { key: 'k3', commitTs: 7n, tombstone: true, value: null, line: 4 },
  { key: 'k4', commitTs: 0n, tombstone: false, value: null, valueLength: VALUE.length + 3, line: 5 },
  { staged: '???' + VALUE },
  { key: 'after', commitTs: 0n, tombstone: false, value: 'w', line: 6 },
];

/** Cuts every `step` bytes, the first at `first`. */
const cutsEvery = (step: number, first = step): number[] => {
  const cuts: number[] = [];
  for (let c = first; c < INPUT.length; c += step) if (c > 0) cuts.push(c);
  return cuts;
};

test('decoder: long lines give their records with valueLength, the value decoded in blocks, whatever the member order', (t) => {
  t.true(LINES[4]!.includes('"\\u0050z8\\/'), 'the fifth line holds escapes');
  // Reads of at most lineBytes: a line over twice as long (all the long ones) grows past it before it ends; the short ones never reach it.
  t.deepEqual(decodeLong(INPUT, cutsEvery(60)), EXPECTED);
});

test('decoder: the same records whatever the input boundaries (reads of up to lineBytes cut at every offset, and smaller steps)', (t) => {
  for (let first = 0; first < 60; first++) t.deepEqual(decodeLong(INPUT, cutsEvery(60, first)), EXPECTED, `cuts every 60 bytes from ${first}`);
  for (const step of [1, 2, 3, 5, 8, 13, 41]) t.deepEqual(decodeLong(INPUT, cutsEvery(step)), EXPECTED, `cuts every ${step} bytes`);
});

test('decoder: a long line that arrives whole in one read is decoded whole, as without bigValues', (t) => {
  const whole: Out[] = [];
  for (const o of EXPECTED) {
    if ('staged' in o) continue;
    const next = EXPECTED[EXPECTED.indexOf(o) + 1];
    const { valueLength: _none, ...rest } = o;
    whole.push(o.valueLength === undefined ? o : { ...rest, value: next && 'staged' in next ? next.staged : null });
  }
  t.deepEqual(decodeLong(INPUT, []), whole);
});

test('decoder: a long line that breaks the rules fails with ERR_JSONL_LINE naming its line, as a short one would', (t) => {
  const long = b64(VALUE);
  const cases: Array<[string, RegExp]> = [
    [`{"key":"${b64('k')}","value":"${long}!"}`, /"value": invalid base64 character at position/],
    [`{"key":"${b64('k')}","value":"${b64(VALUE + 'x')}A"}`, /"value": truncated base64/],
    [`{"key":"*AAA","value":"${long}"}`, /"key": invalid base64 character at position 0/],
    [`{"value":"${long}"}`, /missing "key"/],
    [`{"key":"${b64('k')}","value":"${long}","commit_ts":-1}`, /"commit_ts" must be a non-negative/],
    [`{"key":"${b64('k')}","value":"${long}","tombstone":"yes"}`, /"tombstone" must be a boolean/],
    [`{"key":"${b64('k')}","value":"${long}",}`, /not valid JSON/],
    [`{"key":"${b64('k')}","value":"${long}"} x`, /not valid JSON/],
    [`{"key":"${b64('k')}","value":"${long}"`, /not valid JSON/],
    [`{"key":"${b64('k')}","value":"${long}","value":"${long}"}`, /"value" appears twice/],
    [`{"key":"${b64('k')}","value":"${long}","n\u00e9":1}`, /not valid UTF-8/],
    // An escape that stands for no base64 character fails as that character would, at its position in the string.
    [`{"key":"${b64('k')}","value":"${long.slice(0, 10)}\\n${long.slice(10)}"}`, /"value": invalid base64 character at position 10$/],
    [`{"key":"${b64('k')}","value":"${long.slice(0, 10)}\\u00e9${long.slice(10)}"}`, /"value": invalid base64 character at position 10$/],
    [`{"key":"${b64('k')}","value":"${long.slice(0, 10)}\\x${long.slice(10)}"}`, /not valid JSON/],
  ];
  for (const [line, message] of cases) {
    const input = Buffer.concat([Buffer.from('{"key":"YQ==","value":""}\n', 'utf8'), line.includes('\u00e9') ? Buffer.concat([Buffer.from(line, 'utf8').subarray(0, -8), Buffer.from([0x22, 0x6e, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])]) : Buffer.from(line), Buffer.from('\n')]);
    const err = t.throws(() => decodeLong(input, [30, 60, 90, 120, 150, 180, 210]), { instanceOf: DecodeError }, line.slice(0, 40));
    t.is(err?.code, 'ERR_JSONL_LINE');
    t.is(err?.context.line, 2);
    t.regex(err?.message ?? '', message, line.slice(0, 60));
  }
});

test('decoder: the line bound still holds for a long line read as it arrives', (t) => {
  const d = new JsonlDecoder(100, undefined, { lineBytes: 40, blockBytes: 8, take: (n) => Buffer.alloc(n), onBytes: () => {} });
  const err = t.throws(() => {
    for (let i = 0; i < 10; i++) d.write(Buffer.from(i === 0 ? `{"key":"YQ==","value":"${'A'.repeat(30)}` : 'AAAAAAAAAAAAAAAAAAAA'), () => {});
  }, { instanceOf: DecodeError });
  t.is(err.code, 'ERR_JSONL_LINE');
  t.regex(err.message, /line longer than 100 bytes/);
});

// ---------------------------------------------------------------- the reader

test('reader: a JSON line with a 5 MiB value passes its record then pieces of ≤ 1 MiB, in order with the lines around it, at any read size', async (t) => {
  const value = pattern(5 * MiB + 7, 2);
  const input = Buffer.from(
    [
      `{"key":"${b64('before')}","value":"${b64('x')}","commit_ts":1}`,
      `{"key":"${b64('big')}","value":"${value.toString('base64')}","commit_ts":2}`,
      `{"key":"${b64('tomb')}","value":"${value.toString('base64')}","commit_ts":3,"tombstone":true}`,
      `{"key":"${b64('after')}","value":"${b64('y')}","commit_ts":4}`,
    ].join('\n'),
  );
  for (const readSize of [64 * 1024, 1000 * 1000, 3 * MiB]) {
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; at += readSize) chunks.push(input.subarray(at, at + readSize));
    const items: string[] = [];
    const hash = createHash('sha256');
    const reader = createJsonlReader({ valuePieces: true });
    await pipeline(
      Readable.from(chunks),
      reader,
      new Writable({
        objectMode: true,
        write(r: SnapshotRecord | ValuePiece, _e, cb) {
          if ('kind' in r) {
            items.push(`piece ${r.bytes.length}${r.last ? ' last' : ''}`);
            hash.update(r.bytes);
          } else items.push(`${r.key.toString()} ${r.value === null ? `null ${r.valueLength}` : r.value.toString()}`);
          setImmediate(cb);
        },
      }),
    );
    t.deepEqual(items, ['before x', `big null ${value.length}`, ...Array<string>(5).fill(`piece ${MiB}`), 'piece 7 last', 'tomb null undefined', 'after y'], `reads of ${readSize}`);
    t.is(hash.digest('hex'), sha256(value));
    t.is(reader.records, 4);
  }
});
