import test from 'ava';
import { FsmDecoder, decodeFsm } from '../lib/core/fsm-decoder.js';
import { buildFsm, type FsmTestEntry } from './helpers/fsm.js';
import { expectError, expected, run } from './helpers/fsm-decode.js';

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
