import test, { type ExecutionContext } from 'ava';
import { DecodeError } from '../lib/errors.js';
import { FsmDecoder, decodeFsm, looksLikeFsm, FSM_MAX_KEY_LEN, FSM_MAX_VALUE_LEN, type FsmDecoderOptions } from '../lib/core/fsm-decoder.js';
import type { SnapshotRecord } from '../lib/types.js';
import { buildFsm, buildFsmEntry, buildFsmPreamble, withFooter, type BuildFsmOptions, type FsmTestEntry } from './helpers/fsm.js';

// ------------------------------------------------------------------ helpers

interface Plain {
  key: string;
  value: string | null;
  commitTs: bigint;
  tombstone: boolean;
  offset: number | undefined;
}

function plain(r: SnapshotRecord): Plain {
  return {
    key: r.key.toString('hex'),
    value: r.value === null ? null : r.value.toString('hex'),
    commitTs: r.commitTs,
    tombstone: r.tombstone,
    offset: r.where.offset,
  };
}

type Outcome = { ok: true; records: Plain[]; lastCommitTs: bigint | undefined; footer: boolean } | { ok: false; code: string; offset: number | undefined; message: string };

/** Decodes `input` fed as the given chunks (cut points), capturing records or the error. */
function run(input: Buffer, cuts: number[] = [], opts: FsmDecoderOptions = {}): Outcome {
  const d = new FsmDecoder(opts);
  const records: Plain[] = [];
  let prev = 0;
  try {
    for (const c of [...cuts, input.length]) {
      for (const r of d.push(input.subarray(prev, c))) records.push(plain(r));
      prev = c;
    }
    d.end();
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err;
    return { ok: false, code: err.code, offset: err.context.offset, message: err.message };
  }
  return { ok: true, records, lastCommitTs: d.header?.lastCommitTs, footer: d.hasFooter };
}

function expectError(t: ExecutionContext, input: Buffer, code: string, offset: number, message?: RegExp, cuts: number[] = []): void {
  const out = run(input, cuts);
  if (out.ok) {
    t.fail(`expected ${code}, got ${out.records.length} records`);
    return;
  }
  t.is(out.code, code, out.message);
  t.is(out.offset, offset, out.message);
  if (message) t.regex(out.message, message);
}

/** Expected records for entries written by buildFsm (in the given order) after a preamble of `start` bytes. */
function expected(entries: FsmTestEntry[], start: number): Plain[] {
  let off = start;
  return entries.map((e) => {
    const bytes = buildFsmEntry(e);
    const key = typeof e.key === 'string' ? Buffer.from(e.key) : e.key;
    const value = e.value === undefined ? Buffer.alloc(0) : typeof e.value === 'string' ? Buffer.from(e.value) : e.value;
    const p: Plain = {
      key: key.toString('hex'),
      value: value.toString('hex'),
      commitTs: e.commitTs ?? 0n,
      tombstone: ((e.flags ?? (e.tombstone ? 1 : 0)) & 1) === 1,
      offset: off,
    };
    off += bytes.length;
    return p;
  });
}

const ENTRIES: FsmTestEntry[] = [
  { key: '!s3|bucket|meta|bkt\x00\x01', value: '{"generation":1}', commitTs: 100n },
  { key: 'k', value: '', commitTs: 0n },
  { key: 'tomb', commitTs: 7n, tombstone: true },
  { key: Buffer.from([0, 0xff, 0, 1]), value: Buffer.from([1, 2, 3]), commitTs: (1n << 64n) - 1n, expireAt: 12345n },
  { key: 'ts-2^32', value: 'v', commitTs: 1n << 32n },
  { key: 'mid', value: Buffer.alloc(300, 0x5a), commitTs: 0x0123456789abcdefn },
];

const SHAPES: Array<[string, BuildFsmOptions]> = [
  ['bare', {}],
  ['bare + footer', { footer: true }],
  ['EKVTHLC1', { header: 'v1', ceiling: 99n }],
  ['EKVTHLC1 + footer', { header: 'v1', footer: true }],
  ['EKVTHLC2', { header: 'v2', ceiling: 5n, cutover: 6n }],
  ['EKVTHLC2 + footer', { header: 'v2', footer: true }],
  ['EKVTHLC2 with 13 extra bytes + footer', { header: 'v2', v2ExtraBytes: 13, footer: true }],
];

// ------------------------------------------------------------------ shapes

for (const [name, opts] of SHAPES) {
  test(`shape: ${name}`, (t) => {
    const input = buildFsm(ENTRIES, { ...opts, lastCommitTs: 424242n });
    const start = buildFsmPreamble(opts).length;
    const out = run(input);
    if (!out.ok) return t.fail(out.message);
    t.is(out.lastCommitTs, 424242n);
    t.is(out.footer, opts.footer === true);
    t.deepEqual(out.records, expected(ENTRIES, start));
  });
}

test('preamble details and header', (t) => {
  const { decoder, header, records } = decodeFsm(buildFsm([], { header: 'v2', v2ExtraBytes: 4, ceiling: 11n, cutover: 12n, lastCommitTs: 13n }));
  t.deepEqual(header, { format: 'fsm', lastCommitTs: 13n });
  t.deepEqual(decoder.preamble, { hlc: { version: 2, ceiling: 11n, cutover: 12n, length: 30 }, lastCommitTs: 13n, dataOffset: 46 });
  t.is(records.length, 0);
  const v1 = decodeFsm(buildFsm([], { header: 'v1', ceiling: 3n, footer: true }));
  t.deepEqual(v1.decoder.preamble, { hlc: { version: 1, ceiling: 3n, length: 16 }, lastCommitTs: 0n, dataOffset: 32 });
  t.true(v1.decoder.hasFooter);
  const bare = decodeFsm(buildFsm([], { lastCommitTs: (1n << 64n) - 1n }));
  t.deepEqual(bare.decoder.preamble, { lastCommitTs: (1n << 64n) - 1n, dataOffset: 16 });
});

test('a snapshot like the conformance fsm_header_v1 / fsm_crc_footer_ok cases', (t) => {
  const entries: FsmTestEntry[] = [
    { key: '!s3|blob|bkt\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01file.txt\x00\x01up-1\x00\x01' + '\x00'.repeat(7) + '\x01' + '\x00'.repeat(8), value: 'hello, w', commitTs: 100n },
    { key: '!s3|bucket|meta|bkt\x00\x01', value: '{"bucket_name":"bkt","generation":1}', commitTs: 100n },
  ];
  for (const footer of [false, true]) {
    const out = run(buildFsm(entries, { header: 'v1', footer, lastCommitTs: 100n }));
    if (!out.ok) return t.fail(out.message);
    t.is(out.records.length, 2);
    t.is(out.records[0]!.offset, 32);
    t.is(Buffer.from(out.records[0]!.value!, 'hex').toString(), 'hello, w');
    t.is(out.lastCommitTs, 100n);
  }
});

test('header is known only after the preamble; onHeader fires once, before the first record', (t) => {
  const events: string[] = [];
  const d = new FsmDecoder({ onHeader: (h) => events.push(`header ${h.lastCommitTs}`) });
  const input = buildFsm([{ key: 'a', value: 'b' }], { header: 'v1', lastCommitTs: 9n });
  d.write(input.subarray(0, 20), () => events.push('record'));
  t.is(d.header, undefined);
  d.write(input.subarray(20, 31), () => events.push('record'));
  t.is(d.header, undefined);
  d.write(input.subarray(31), () => events.push('record'));
  d.end();
  t.deepEqual(d.header, { format: 'fsm', lastCommitTs: 9n });
  t.deepEqual(events, ['header 9', 'record']);
  t.is(d.bytesConsumed, input.length);
  t.is(d.records, 1);
});

test('looksLikeFsm', (t) => {
  for (const s of ['EKVPBBL1', 'EKVSSTI1', 'EKVTHLC1', 'EKVTHLC2', 'EKVTHLC9', 'EKVTHLC', 'EKVPBBL1xxxx']) t.true(looksLikeFsm(Buffer.from(s)), s);
  for (const s of ['', 'EKVPBBL', '{"key":"', 'EKVPBBL2', 'ekvpbbl1']) t.false(looksLikeFsm(Buffer.from(s)), s);
});

// ------------------------------------------------------- magic and headers

test('EKVSSTI1 without header → ERR_SNAPSHOT_UNSUPPORTED', (t) => {
  const input = Buffer.concat([Buffer.from('EKVSSTI1'), Buffer.alloc(40, 1)]);
  expectError(t, input, 'ERR_SNAPSHOT_UNSUPPORTED', 0, /SST-ingest snapshots are not supported/);
});

test('EKVSSTI1 after an EKVTHLC1 or EKVTHLC2 header → ERR_SNAPSHOT_UNSUPPORTED', (t) => {
  const v1 = Buffer.concat([Buffer.from('EKVTHLC1'), Buffer.alloc(8), Buffer.from('EKVSSTI1'), Buffer.alloc(40, 1)]);
  expectError(t, v1, 'ERR_SNAPSHOT_UNSUPPORTED', 16, /SST-ingest snapshots are not supported/);
  const v2 = Buffer.concat([Buffer.from('EKVTHLC2'), Buffer.from([0, 18]), Buffer.alloc(18), Buffer.from('EKVSSTI1'), Buffer.alloc(40, 1)]);
  expectError(t, v2, 'ERR_SNAPSHOT_UNSUPPORTED', 28, /SST-ingest/);
  // Even when only the magic is there.
  expectError(t, Buffer.from('EKVSSTI1'), 'ERR_SNAPSHOT_UNSUPPORTED', 0);
});

test('EKVTHLC + unknown version byte → ERR_SNAPSHOT_UNKNOWN_HEADER', (t) => {
  for (const v of ['0', '3', '9', 'X', '\x00']) {
    const input = Buffer.concat([Buffer.from('EKVTHLC' + v, 'latin1'), Buffer.alloc(8), buildFsm([{ key: 'a', value: 'b' }])]);
    expectError(t, input, 'ERR_SNAPSHOT_UNKNOWN_HEADER', 0, /unknown snapshot header/);
  }
});

test('anything else → ERR_SNAPSHOT_BAD_MAGIC', (t) => {
  expectError(t, Buffer.from('{"key":"a2V5","value":"dmFs"}\n'), 'ERR_SNAPSHOT_BAD_MAGIC', 0, /bad magic/);
  expectError(t, Buffer.from('EKVPBBL2' + '\x00'.repeat(8), 'latin1'), 'ERR_SNAPSHOT_BAD_MAGIC', 0);
  expectError(t, Buffer.from('ekvpbbl1' + '\x00'.repeat(8), 'latin1'), 'ERR_SNAPSHOT_BAD_MAGIC', 0);
  // Fewer than 8 bytes that cannot start any magic.
  expectError(t, Buffer.from('{"k'), 'ERR_SNAPSHOT_BAD_MAGIC', 0);
  // A bad magic after a valid HLC header: offset of the inner magic.
  expectError(t, Buffer.concat([Buffer.from('EKVTHLC1'), Buffer.alloc(8), Buffer.from('NOTMAGIC'), Buffer.alloc(8)]), 'ERR_SNAPSHOT_BAD_MAGIC', 16);
  expectError(t, Buffer.concat([Buffer.from('EKVTHLC1'), Buffer.alloc(8), Buffer.from('EKVTHLC1'), Buffer.alloc(8)]), 'ERR_SNAPSHOT_BAD_MAGIC', 16);
  expectError(t, Buffer.concat([Buffer.from('EKVTHLC2'), Buffer.from([0, 16]), Buffer.alloc(16), Buffer.from('XXXXXXXX'), Buffer.alloc(8)]), 'ERR_SNAPSHOT_BAD_MAGIC', 26);
});

test('EKVTHLC2 length < 16 → ERR_SNAPSHOT_CORRUPT at the length field', (t) => {
  for (const len of [0, 1, 15]) {
    const input = Buffer.concat([Buffer.from('EKVTHLC2'), Buffer.from([0, len]), Buffer.alloc(16), buildFsm([])]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', 8, /length field/);
  }
});

test('EKVTHLC2 with the largest length (65535) skips all extra bytes', (t) => {
  const input = buildFsm([{ key: 'a', value: 'b', commitTs: 1n }], { header: 'v2', v2ExtraBytes: 65535 - 16, footer: true });
  const out = run(input, [5, 9, 10, 11, 30000, 65540]);
  if (!out.ok) return t.fail(out.message);
  t.deepEqual(out.records, expected([{ key: 'a', value: 'b', commitTs: 1n }], 10 + 65535 + 16));
});

test('EOF inside the preamble → ERR_SNAPSHOT_TRUNCATED at the cut field', (t) => {
  expectError(t, Buffer.alloc(0), 'ERR_SNAPSHOT_TRUNCATED', 0, /empty/);
  expectError(t, Buffer.from('EKVP'), 'ERR_SNAPSHOT_TRUNCATED', 0);
  expectError(t, Buffer.from('EKVTHLC'), 'ERR_SNAPSHOT_TRUNCATED', 0);
  expectError(t, Buffer.from('EKVPBBL1\x01\x02\x03'), 'ERR_SNAPSHOT_TRUNCATED', 8, /lastCommitTS/);
  expectError(t, Buffer.from('EKVTHLC1\x00\x00'), 'ERR_SNAPSHOT_TRUNCATED', 8);
  expectError(t, Buffer.from('EKVTHLC1' + '\x00'.repeat(8) + 'EKV'), 'ERR_SNAPSHOT_TRUNCATED', 16);
  expectError(t, Buffer.from('EKVTHLC2\x00'), 'ERR_SNAPSHOT_TRUNCATED', 8);
  expectError(t, Buffer.from('EKVTHLC2\x00\x10' + '\x00'.repeat(10)), 'ERR_SNAPSHOT_TRUNCATED', 10);
  const full = buildFsm([], { header: 'v2', v2ExtraBytes: 3 });
  for (let cut = 0; cut < full.length; cut++) {
    const out = run(full.subarray(0, cut));
    t.false(out.ok);
    if (!out.ok) t.is(out.code, 'ERR_SNAPSHOT_TRUNCATED', `cut at ${cut}: ${out.message}`);
  }
});

// ------------------------------------------------------------------ footer

test('a good footer is accepted and a bad one is ERR_SNAPSHOT_CRC_MISMATCH at the footer offset', (t) => {
  const good = buildFsm(ENTRIES, { header: 'v1', footer: true });
  t.true(run(good).ok);
  for (let bit = 0; bit < 32; bit++) {
    const bad = Buffer.from(good);
    bad[bad.length - 4 + (bit >> 3)]! ^= 1 << (bit & 7);
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4, /CRC-32C/);
  }
  // A flipped byte in the header (covered by the CRC) is caught too.
  const hdr = Buffer.from(good);
  hdr[9]! ^= 0x40;
  expectError(t, hdr, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4);
  // A flipped byte in a value body.
  const body = Buffer.from(good);
  body[good.length - 10]! ^= 1;
  expectError(t, body, 'ERR_SNAPSHOT_CRC_MISMATCH', good.length - 4);
});

test('footer split across chunks at every position still matches', (t) => {
  const good = buildFsm(ENTRIES, { header: 'v2', footer: true });
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 0x80;
  const f = good.length - 4;
  const cutSets = [[f - 1], [f], [f + 1], [f + 2], [f + 3], [f + 1, f + 2, f + 3], [f - 2, f + 1], [f - 5, f + 3], [f - 3, f - 1, f + 2]];
  for (const cuts of cutSets) {
    const ok = run(good, cuts);
    t.true(ok.ok, `cuts ${cuts.join(',')}`);
    if (ok.ok) t.true(ok.footer);
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', f, undefined, cuts);
  }
});

test('verifyCrc: false accepts a bad footer but still recognises it', (t) => {
  const bad = buildFsm(ENTRIES, { footer: true });
  bad[bad.length - 1]! ^= 1;
  const out = run(bad, [], { verifyCrc: false });
  t.true(out.ok);
  if (out.ok) t.true(out.footer);
});

test('a footer right after the preamble (no entries)', (t) => {
  for (const header of [undefined, 'v1', 'v2'] as const) {
    const opts: BuildFsmOptions = header ? { header, footer: true } : { footer: true };
    const input = buildFsm([], opts);
    const out = run(input);
    t.true(out.ok, out.ok ? '' : out.message);
    if (out.ok) t.deepEqual(out.records, []);
    const bad = Buffer.from(input);
    bad[0 + buildFsmPreamble(opts).length]! ^= 1;
    expectError(t, bad, 'ERR_SNAPSHOT_CRC_MISMATCH', buildFsmPreamble(opts).length);
  }
});

// ------------------------------------------------------------- truncation

test('1–3 or 5–7 bytes after the last entry → ERR_SNAPSHOT_TRUNCATED at the entry boundary', (t) => {
  const base = buildFsm(ENTRIES, { header: 'v1' });
  for (const extra of [1, 2, 3, 5, 6, 7]) {
    const input = Buffer.concat([base, Buffer.alloc(extra, 0)]);
    expectError(t, input, 'ERR_SNAPSHOT_TRUNCATED', base.length, /neither a whole entry/);
  }
  // Exactly 4 bytes are a footer, checked.
  expectError(t, Buffer.concat([base, Buffer.alloc(4)]), 'ERR_SNAPSHOT_CRC_MISMATCH', base.length);
});

test('EOF at every point inside the last entry → ERR_SNAPSHOT_TRUNCATED at its start (4 bytes in: footer check)', (t) => {
  const pre = buildFsm(ENTRIES.slice(0, 3), { header: 'v1' });
  const last = buildFsmEntry({ key: 'the-last-key', value: 'the last value', commitTs: 5n });
  const input = Buffer.concat([pre, last]);
  for (let cut = pre.length + 1; cut < input.length; cut++) {
    const trunc = input.subarray(0, cut);
    const out = run(trunc);
    if (out.ok) {
      t.fail(`cut ${cut} decoded`);
      continue;
    }
    if (cut === pre.length + 4) {
      t.is(out.code, 'ERR_SNAPSHOT_CRC_MISMATCH');
    } else {
      t.is(out.code, 'ERR_SNAPSHOT_TRUNCATED', `cut ${cut}: ${out.message}`);
    }
    t.is(out.offset, pre.length, `cut ${cut}`);
  }
});

test('truncation messages name the field that was cut', (t) => {
  const pre = buildFsm([], {});
  const e = buildFsmEntry({ key: 'kkkk', value: 'vvvvvvvv' });
  // keyLen 8 | key 12 | valLen 8 | hdr 9 | body 8
  const cases: Array<[number, RegExp]> = [
    [10, /12-byte key \(2 bytes present\)/],
    [22, /value length field \(2 of 8/],
    [30, /9-byte flags and expireAt header \(2 bytes/],
    [38, /value body of 8 bytes \(1 bytes present\)/],
  ];
  for (const [cut, re] of cases) {
    expectError(t, Buffer.concat([pre, e.subarray(0, cut)]), 'ERR_SNAPSHOT_TRUNCATED', 16, re);
    expectError(t, Buffer.concat([pre, e.subarray(0, cut)]), 'ERR_SNAPSHOT_TRUNCATED', 16, re, [17, 16 + cut - 1]);
  }
});

// ------------------------------------------------------- lengths and flags

function u64le(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

test('key length < 8 → ERR_SNAPSHOT_CORRUPT at the entry', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const kl of [0n, 1n, 7n]) {
    const input = Buffer.concat([pre, u64le(kl), Buffer.alloc(7), u64le(9n), Buffer.alloc(9)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length, /key length/);
  }
});

test('value length < 9 → ERR_SNAPSHOT_CORRUPT at the value length field', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const vl of [0n, 1n, 8n]) {
    const input = Buffer.concat([pre, u64le(10n), Buffer.from('key'), Buffer.alloc(7), u64le(vl), Buffer.alloc(20)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length + 18, /value length field.*entry at byte offset \d+/);
  }
});

test('key length over 1 MiB + 8 → ERR_SNAPSHOT_CORRUPT before allocating', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }], { header: 'v1' });
  for (const kl of [BigInt(FSM_MAX_KEY_LEN) + 1n, 1n << 32n, 1n << 40n, (1n << 64n) - 1n]) {
    const input = Buffer.concat([pre, u64le(kl), Buffer.alloc(64)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length, new RegExp(`claims ${kl} bytes`));
    // Fed only the length field: the error comes at once, not at EOF, and nothing was allocated for it.
    const d = new FsmDecoder();
    d.push(pre);
    const err = t.throws(() => d.push(u64le(kl)), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_SNAPSHOT_CORRUPT');
    t.is(err?.context.offset, pre.length);
    // The decoder stays failed.
    t.is(t.throws(() => d.push(Buffer.alloc(1))), err);
    t.is(t.throws(() => d.end()), err);
  }
});

test('value length over 256 MiB + 43 (e.g. 2^40) → ERR_SNAPSHOT_CORRUPT before allocating', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  const key = Buffer.concat([Buffer.from('key'), Buffer.alloc(8)]);
  for (const vl of [BigInt(FSM_MAX_VALUE_LEN) + 1n, 1n << 40n, (1n << 64n) - 1n]) {
    const input = Buffer.concat([pre, u64le(11n), key, u64le(vl), Buffer.alloc(64)]);
    expectError(t, input, 'ERR_SNAPSHOT_CORRUPT', pre.length + 19, new RegExp(`claims ${vl} bytes`));
    const d = new FsmDecoder();
    d.push(Buffer.concat([pre, u64le(11n), key]));
    const before = process.memoryUsage().arrayBuffers;
    const err = t.throws(() => d.push(u64le(vl)), { instanceOf: DecodeError });
    t.is(err?.code, 'ERR_SNAPSHOT_CORRUPT');
    t.true(process.memoryUsage().arrayBuffers - before < 1 << 20);
  }
});

test('the largest key (1 MiB + 8 encoded) is accepted', (t) => {
  const key = Buffer.alloc(1 << 20, 0x6b);
  const input = buildFsm([{ key, value: 'v', commitTs: 3n }], { footer: true });
  const out = run(input, [100, 70000, 1 << 19]);
  if (!out.ok) return t.fail(out.message);
  t.is(out.records[0]!.key, key.toString('hex'));
  t.is(out.records[0]!.commitTs, 3n);
});

test('flags: encryption state 1 → ERR_SNAPSHOT_ENCRYPTED at the flags byte, with the key', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }]);
  for (const flags of [0x02, 0x03]) {
    const input = Buffer.concat([pre, buildFsmEntry({ key: '!redis|str|secret', value: 'ciphertext', flags })]);
    const flagsAt = pre.length + 8 + 17 + 8 + 8;
    expectError(t, input, 'ERR_SNAPSHOT_ENCRYPTED', flagsAt, /encrypt/);
    const d = new FsmDecoder();
    const err = t.throws(() => d.push(input), { instanceOf: DecodeError });
    t.is(err?.context.key?.toString(), '!redis|str|secret');
    t.regex(err?.message ?? '', new RegExp(`flags byte \\(this offset\\) of the entry at byte offset ${pre.length}`));
  }
});

test('flags: encryption state 2–3 and bits 3–7 → ERR_SNAPSHOT_RESERVED_FLAGS at the flags byte', (t) => {
  const pre = buildFsm([{ key: 'ok', value: 'v' }], { header: 'v1' });
  const flagsAt = pre.length + 8 + 11 + 8;
  for (const flags of [0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x20, 0x40, 0x80, 0x81, 0xf8, 0xff]) {
    const input = Buffer.concat([pre, buildFsmEntry({ key: 'abc', value: 'x', flags })]);
    const out = run(input);
    // 0xff has encryption state 3 and reserved bits: reserved either way.
    t.false(out.ok);
    if (!out.ok) {
      t.is(out.code, 'ERR_SNAPSHOT_RESERVED_FLAGS', `flags ${flags}`);
      t.is(out.offset, flagsAt);
    }
  }
  // Reserved bits with encryption state 1: the encryption is reported.
  expectError(t, Buffer.concat([pre, buildFsmEntry({ key: 'abc', value: 'x', flags: 0x0a })]), 'ERR_SNAPSHOT_ENCRYPTED', flagsAt);
});

test('flags bit 0 is the tombstone', (t) => {
  const out = run(buildFsm([{ key: 'a', flags: 1 }, { key: 'b', flags: 0, value: 'x' }]));
  if (!out.ok) return t.fail(out.message);
  t.deepEqual(
    out.records.map((r) => r.tombstone),
    [true, false],
  );
});

// ------------------------------------------------------------ chunking

const CHUNK_INPUTS: Array<[string, Buffer]> = [
  ['bare', buildFsm(ENTRIES)],
  ['v1 + footer', buildFsm(ENTRIES, { header: 'v1', footer: true, lastCommitTs: 77n })],
  ['v2 + extra + footer', buildFsm(ENTRIES.slice(0, 4), { header: 'v2', v2ExtraBytes: 5, footer: true })],
];

for (const [name, input] of CHUNK_INPUTS) {
  test(`${name}: every two-chunk split and 1-byte chunks give the same records`, (t) => {
    const whole = run(input);
    if (!whole.ok) return t.fail(whole.message);
    for (const zeroCopyMin of [0, 65536]) {
      for (let cut = 0; cut <= input.length; cut++) {
        const out = run(input, [cut], { zeroCopyMin });
        if (!out.ok || JSON.stringify(out, big) !== JSON.stringify(whole, big)) {
          t.deepEqual(out, whole, `cut at ${cut}`);
          return;
        }
      }
    }
    const cuts = Array.from({ length: input.length - 1 }, (_, i) => i + 1);
    t.deepEqual(run(input, cuts), whole);
    t.deepEqual(run(input, cuts, { zeroCopyMin: 0 }), whole);
    // Three-way splits around every entry boundary.
    for (let a = 0; a < input.length; a += 7) t.deepEqual(run(input, [a, Math.min(input.length, a + 3)]), whole);
  });
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

test('corrupt inputs give the same error at every split', (t) => {
  const base = buildFsm(ENTRIES.slice(0, 2), { header: 'v1' });
  const corrupt: Buffer[] = [
    Buffer.concat([base, buildFsmEntry({ key: 'x', value: 'y', flags: 2 })]),
    Buffer.concat([base, u64le(1n << 40n), Buffer.alloc(20)]),
    Buffer.concat([base, u64le(9n), Buffer.alloc(9), u64le(3n), Buffer.alloc(20)]),
    Buffer.concat([base, buildFsmEntry({ key: 'x', value: 'y' }).subarray(0, 30)]),
    Buffer.concat([base, Buffer.alloc(4, 0xaa)]),
    withFooter(Buffer.concat([base, Buffer.alloc(1)])),
  ];
  for (const input of corrupt) {
    const whole = run(input);
    t.false(whole.ok);
    for (let cut = 0; cut <= input.length; cut++) {
      const out = run(input, [cut]);
      if (out.ok || whole.ok || out.code !== whole.code || out.offset !== whole.offset) {
        t.deepEqual(out, whole, `cut at ${cut}`);
        break;
      }
    }
    t.deepEqual(run(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1)), whole);
  }
});

test('a large value spanning many chunks is assembled once; record offsets are right', (t) => {
  const bigValue = Buffer.alloc(3 * 65536 + 17);
  for (let i = 0; i < bigValue.length; i++) bigValue[i] = (i * 31 + 7) & 0xff;
  const entries: FsmTestEntry[] = [
    { key: 'small', value: 'x', commitTs: 1n },
    { key: 'big', value: bigValue, commitTs: 2n },
    { key: 'after', value: 'y', commitTs: 3n },
  ];
  const input = buildFsm(entries, { header: 'v1', footer: true });
  const want = expected(entries, 32);
  for (const step of [1000, 4096, 65536, 65537, 100000, input.length]) {
    const cuts: number[] = [];
    for (let c = step; c < input.length; c += step) cuts.push(c);
    t.deepEqual(run(input, cuts), { ok: true, records: want, lastCommitTs: 0n, footer: true }, `step ${step}`);
  }
});

test('zero copy: a large value inside one chunk is a view of it; keys and small values are copies', (t) => {
  const bigValue = Buffer.alloc(70000, 1);
  const input = buildFsm([
    { key: 'k1', value: bigValue },
    { key: 'k2', value: 'small' },
  ]);
  const [r1, r2] = new FsmDecoder().push(input);
  t.is(r1!.value!.buffer, input.buffer);
  t.not(r1!.key.buffer, input.buffer);
  t.not(r2!.value!.buffer, input.buffer);
  t.deepEqual(r1!.value, bigValue);
  const [a, b] = new FsmDecoder({ zeroCopyMin: 0 }).push(input);
  t.is(a!.value!.buffer, input.buffer);
  t.is(b!.value!.buffer, input.buffer);
  t.deepEqual(b!.value, Buffer.from('small'));
});

test('100k small entries decode quickly', (t) => {
  const entries: FsmTestEntry[] = [];
  const v = Buffer.alloc(100, 0x61);
  for (let i = 0; i < 100_000; i++) entries.push({ key: `!s3|bucket|meta|b${i}\x00\x01`, value: v, commitTs: BigInt(i) });
  const input = buildFsm(entries, { header: 'v1' });
  const start = process.hrtime.bigint();
  const d = new FsmDecoder();
  let n = 0;
  let lastTs = -1n;
  for (let o = 0; o < input.length; o += 65536) {
    d.write(input.subarray(o, o + 65536), (r) => {
      n++;
      lastTs = r.commitTs;
    });
  }
  d.end();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.is(n, 100_000);
  t.is(lastTs, 99_999n);
  t.true(ms < 2000, `${ms} ms`);
  t.log(`100k entries (${input.length} bytes) in ${ms.toFixed(1)} ms`);
});

test('write after end() is an error; end() twice is fine', (t) => {
  const d = new FsmDecoder();
  d.push(buildFsm([]));
  d.end();
  d.end();
  t.throws(() => d.push(Buffer.alloc(1)));
});
