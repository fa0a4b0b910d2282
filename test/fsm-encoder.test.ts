import test from 'ava';
import fc from 'fast-check';
import { decodeFsm } from '../lib/core/fsm-decoder.js';
import {
  compareEncodedKeys,
  compareRecordsByEncodedKey,
  encodeFsmEntry,
  FsmEncoder,
  fsmFooter,
  fsmPreamble,
  type FsmEntryInput,
} from '../lib/core/fsm-encoder.js';
import { encodedKey } from '../lib/core/encoded-key.js';
import { buildFsm, buildFsmEntry, buildFsmPreamble, testCrc32c, testEncodedKey } from './helpers/fsm.js';

const MAX64 = (1n << 64n) - 1n;

function encodeAll(records: FsmEntryInput[], opts: ConstructorParameters<typeof FsmEncoder>[0]): Buffer {
  const enc = new FsmEncoder(opts);
  const parts: Buffer[] = [enc.preamble()];
  for (const r of [...records].sort(compareRecordsByEncodedKey)) parts.push(...enc.entry(r));
  parts.push(enc.finish());
  const out = Buffer.concat(parts);
  if (out.length !== enc.bytes) throw new Error('byte count');
  return out;
}

test('preamble bytes equal the independent builder', (t) => {
  t.deepEqual(fsmPreamble({ lastCommitTs: 0n }), buildFsmPreamble({}));
  t.deepEqual(fsmPreamble({ lastCommitTs: MAX64 }), buildFsmPreamble({ lastCommitTs: MAX64 }));
  t.deepEqual(fsmPreamble({ lastCommitTs: 7n, header: 'v1', ceiling: 123456789n }), buildFsmPreamble({ lastCommitTs: 7n, header: 'v1', ceiling: 123456789n }));
  t.deepEqual(
    fsmPreamble({ lastCommitTs: 7n, header: 'v2', ceiling: 1n, cutover: MAX64 }),
    buildFsmPreamble({ lastCommitTs: 7n, header: 'v2', ceiling: 1n, cutover: MAX64 }),
  );
  t.deepEqual(fsmPreamble({ lastCommitTs: 1n }).subarray(0, 8).toString(), 'EKVPBBL1');
});

test('entry bytes equal the independent builder', (t) => {
  const cases: FsmEntryInput[] = [
    { key: Buffer.from('k'), value: Buffer.from('v'), commitTs: 0n, tombstone: false },
    { key: Buffer.from('tomb'), value: null, commitTs: 5n, tombstone: true },
    { key: Buffer.from([0, 255]), value: Buffer.alloc(0), commitTs: MAX64, tombstone: false, expireAt: 99n },
  ];
  for (const c of cases) {
    const built = buildFsmEntry({ key: c.key, value: c.value ?? undefined, commitTs: c.commitTs, tombstone: c.tombstone, expireAt: c.expireAt ?? 0n });
    t.deepEqual(Buffer.concat(encodeFsmEntry(c)), built);
  }
  // Large bodies are passed through, not copied.
  const body = Buffer.alloc(1000, 1);
  const parts = encodeFsmEntry({ key: Buffer.from('x'), value: body, commitTs: 1n, tombstone: false });
  t.is(parts[1], body);
});

test('whole snapshot equals buildFsm (sorted) for all header/footer shapes', (t) => {
  const records: FsmEntryInput[] = [
    { key: Buffer.from('b'), value: Buffer.from('2'), commitTs: 1n, tombstone: false },
    { key: Buffer.from('a'), value: Buffer.from('1'), commitTs: 1n, tombstone: false },
    { key: Buffer.from('a'), value: Buffer.from('1 newer'), commitTs: 9n, tombstone: false },
    { key: Buffer.from('ab'), value: null, commitTs: 3n, tombstone: true },
    { key: Buffer.from(''), value: Buffer.from('empty key'), commitTs: 0n, tombstone: false },
  ];
  const asEntries = records.map((r) => ({ key: r.key, value: r.value ?? undefined, commitTs: r.commitTs, tombstone: r.tombstone }));
  for (const header of [undefined, 'v1', 'v2'] as const) {
    for (const footer of [false, true]) {
      const opts = { lastCommitTs: 9n, ceiling: 4n, cutover: 5n, footer, ...(header ? { header } : {}) };
      t.deepEqual(encodeAll(records, opts), buildFsm(asEntries, { ...opts, sort: true }), `${header} ${footer}`);
    }
  }
});

test('footer helper', (t) => {
  const body = buildFsm([{ key: 'a', value: 'b' }]);
  t.deepEqual(fsmFooter(testCrc32c(body)), buildFsm([{ key: 'a', value: 'b' }], { footer: true }).subarray(body.length));
});

const arbRecord = fc.record({
  key: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a)),
  value: fc.option(
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  commitTs: fc.oneof(fc.bigInt({ min: 0n, max: MAX64 }), fc.constantFrom(0n, 1n, MAX64, 1n << 32n)),
  tombstone: fc.boolean(),
});

test('round trip: decode(encode(x)) = x, sorted by encoded key', (t) => {
  fc.assert(
    fc.property(
      fc.array(arbRecord, { maxLength: 20 }),
      fc.constantFrom(undefined, 'v1' as const, 'v2' as const),
      fc.boolean(),
      fc.bigInt({ min: 0n, max: MAX64 }),
      (records, header, footer, lastCommitTs) => {
        const bytes = encodeAll(records, { lastCommitTs, footer, ...(header ? { header } : {}) });
        const { header: h, records: out, decoder } = decodeFsm(bytes);
        const want = [...records].sort(compareRecordsByEncodedKey);
        t.deepEqual(h, { format: 'fsm', lastCommitTs });
        t.is(decoder.hasFooter, footer);
        t.deepEqual(
          out.map((r) => [r.key, r.value, r.commitTs, r.tombstone]),
          want.map((r) => [r.key, r.value ?? Buffer.alloc(0), r.commitTs, r.tombstone]),
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('compareRecordsByEncodedKey is bytewise order of userKey ‖ BE64(~ts)', (t) => {
  // The prefix case: "a" ‖ ~ts against "a\xff..." — not "key asc, then ts desc".
  const a = { key: Buffer.from('a'), commitTs: 0n }; // a ‖ ff..ff
  const ab = { key: Buffer.from('ab'), commitTs: 0n }; // a b ‖ ff..ff
  t.true(compareRecordsByEncodedKey(a, ab) > 0);
  t.true(compareRecordsByEncodedKey({ key: Buffer.from('a'), commitTs: MAX64 }, ab) < 0);
  fc.assert(
    fc.property(arbRecord, arbRecord, (x, y) => {
      const want = Math.sign(Buffer.compare(testEncodedKey(x.key, x.commitTs), testEncodedKey(y.key, y.commitTs)));
      t.is(Math.sign(compareRecordsByEncodedKey(x, y)), want);
      t.is(Math.sign(compareEncodedKeys(encodedKey(x.key, x.commitTs), encodedKey(y.key, y.commitTs))), want);
    }),
    { numRuns: 500 },
  );
});

test('out-of-range inputs are refused', (t) => {
  t.throws(() => encodeFsmEntry({ key: Buffer.alloc((1 << 20) + 1), value: null, commitTs: 0n, tombstone: false }), { instanceOf: RangeError });
  t.throws(() => encodeFsmEntry({ key: Buffer.from('k'), value: null, commitTs: -1n, tombstone: false }), { instanceOf: RangeError });
  t.throws(() => encodeFsmEntry({ key: Buffer.from('k'), value: null, commitTs: 1n << 64n, tombstone: false }), { instanceOf: RangeError });
  t.throws(() => fsmPreamble({ lastCommitTs: -1n }), { instanceOf: RangeError });
  // The largest key is fine.
  t.notThrows(() => encodeFsmEntry({ key: Buffer.alloc(1 << 20), value: null, commitTs: 0n, tombstone: false }));
});

test('FsmEncoder enforces call order', (t) => {
  const e = new FsmEncoder({ lastCommitTs: 0n });
  t.throws(() => e.entry({ key: Buffer.from('k'), value: null, commitTs: 0n, tombstone: false }));
  e.preamble();
  t.throws(() => e.preamble());
  t.deepEqual(e.finish(), fsmFooter(testCrc32c(fsmPreamble({ lastCommitTs: 0n }))));
  t.throws(() => e.finish());
  const nf = new FsmEncoder({ lastCommitTs: 0n, footer: false });
  nf.preamble();
  t.is(nf.finish().length, 0);
});
