import test from 'ava';
import { FsmDecoder } from '../lib/core/fsm-decoder.js';
import { buildFsm, buildFsmEntry, buildFsmPreamble, withFooter, type BuildFsmOptions, type FsmTestEntry } from './helpers/fsm.js';
import { ENTRIES, expectError, expected, run, u64le } from './helpers/fsm-decode.js';

const SHAPES: Array<[string, BuildFsmOptions]> = [
  ['bare', {}],
  ['bare + footer', { footer: true }],
  ['EKVTHLC1', { header: 'v1', ceiling: 99n }],
  ['EKVTHLC1 + footer', { header: 'v1', footer: true }],
  ['EKVTHLC2', { header: 'v2', ceiling: 5n, cutover: 6n }],
  ['EKVTHLC2 + footer', { header: 'v2', footer: true }],
  ['EKVTHLC2 with 13 extra bytes + footer', { header: 'v2', v2ExtraBytes: 13, footer: true }],
];

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

test('flags bit 0 is the tombstone', (t) => {
  const out = run(buildFsm([{ key: 'a', flags: 1 }, { key: 'b', flags: 0, value: 'x' }]));
  if (!out.ok) return t.fail(out.message);
  t.deepEqual(
    out.records.map((r) => r.tombstone),
    [true, false],
  );
});

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
